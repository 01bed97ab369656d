"""Judging a scanned code: the reasons table, every detection rule, lineage and provenance reads, and recording scans."""
