"""An uploaded ledger file, read again on each pass in its own format."""
from inspector.ledger.files import csv_rows, xlsx_rows
from inspector.ledger.ods import ods_rows


class LedgerFile:
    """A CSV or XLSX upload read again on each pass; `warnings` holds what the last pass tolerated."""

    def __init__(self, stream, kind, max_lines=None):
        self.stream, self.kind, self.max_lines = stream, kind, max_lines
        self.warnings = []

    def rows(self):
        self.warnings.clear()
        read = {"csv": csv_rows, "xlsx": xlsx_rows, "ods": ods_rows}[self.kind]
        return read(self.stream, self.max_lines, self.warnings)
