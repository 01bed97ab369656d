"""Findings an inspector logs, and how they move.

records: logging a finding idempotently, prefilling it from scans, and reading it within the reader's scope;
workflow: the state machine (who may do what from which state, with ETags); attachments: photos and PDFs kept in
GridFS by content; exports: the filtered log as CSV, XLSX or GeoJSON, row by row.
"""
