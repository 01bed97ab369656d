"""GS1 EPCIS 2.0 JSON-LD: capture into ledger events, GS1 identifiers, and export of a batch's history."""
