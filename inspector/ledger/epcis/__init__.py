"""GS1 EPCIS 2.0 JSON-LD, in and out of the ledger.

capture: an EPCIS document into canonical ledger events, line by line; identifiers: EPC, GS1 Digital Link and our
own URIs, and the JSON-LD context; items: EPC and quantity lists merged with their masses; export: a batch's
history as an EPCIS document. The repository (the REST bindings' capture and queries): repository (capture jobs,
outcomes), query (filters, pages, answers), schema (GS1's JSON schema), hashing (the GS1 event hash), parties
(GLNs, PGLNs, SGLNs and the EPCs an event names), reasons (refusals in EPCIS field names).
"""
