"""The national traceability ledger: canonical events, clerks' files, the book of effects, submission and rollback; EPCIS inside."""
