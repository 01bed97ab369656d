"""GS1's official EPCIS 2.0 material the service ships with (the JSON schema); see PROVENANCE.md."""
