"""The national traceability ledger: canonical events, clerks' files, the book and what each event does to it,
flags, submission (check, then apply all or none) and the rollback protocol; EPCIS inside."""
