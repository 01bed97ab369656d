"""Judging a scanned code.

reasons: the twelve reasons as data (severity, title, message); rules: one detection function per reason, named
after it; judge: every reason that applies, with provenance and quota, from two reads; lineage: a batch with its
ancestors and descendants; provenance: the ancestors and holders in words; scans: recording a scan as it was
judged, idempotently.
"""
