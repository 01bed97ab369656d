"""The offline verdict pack and the label signatures the phone checks with no network."""
