"""The national traceability ledger that enterprises submit every month.

events: the canonical event every channel produces; files: CSV and XLSX as clerks write them; book: what a
submission reads ahead and the changes it holds; effects: what each event kind checks and does to the book; flags:
what the ledger notes on an accepted event (not verdict reasons); submission: check every line, then apply all of
them or none; rollback: the states of a submission and how one is undone exactly once; errors: a whole
submission refused; epcis/: the same events in GS1 EPCIS 2.0.
"""
