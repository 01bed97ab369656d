"""Domain core of Rare Earth Field Inspector: rules, records and storage, with no web framework."""
