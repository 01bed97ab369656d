"""The audit log, append-only and hash-chained.

chain: writing an entry, the head record, and verifying the chain; it knows nothing of who writes to it.
promises: the entry a write owes, stored on the written document and settled exactly once by a retry or by the
start-up sweep, which is handed its finishers by inspector.recovery.
"""
