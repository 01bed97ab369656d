"""The append-only hash-chained audit log, and the promises that finish writes a process was interrupted in."""
