"""ODS uploads (LibreOffice's own format) read into the same rows as CSV and XLSX ones."""
import zipfile
from datetime import date, datetime

from inspector.ledger.files import FileError, _too_many, check_workbook, column_of, find_layout, sheet_rows

# -- ODS (LibreOffice's own format) -------------------------------------------------------------------------------
_ODS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}
MAX_ODS_REPEAT = 1000  # LibreOffice writes the empty rest of a sheet as one cell repeated ~16,000 times


def _q(prefix, name):
    return f"{{{_ODS[prefix]}}}{name}"


def _ods_value(cell):
    kind = cell.get(_q("office", "value-type"))
    if kind in ("float", "percentage", "currency"):
        number = float(cell.get(_q("office", "value")))
        return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
    if kind == "date":
        raw = cell.get(_q("office", "date-value"))
        return datetime.fromisoformat(raw) if "T" in raw else date.fromisoformat(raw)
    if kind == "boolean":
        return cell.get(_q("office", "boolean-value")) == "true"
    texts = ["".join(p.itertext()) for p in cell.iter(_q("text", "p"))]
    return "\n".join(texts) if texts else None


def _ods_records(stream, max_lines, formulas):
    """(line, values) of the first sheet of an ODS document, read as a stream; other sheets must hold no ledger."""
    from defusedxml.ElementTree import iterparse

    with zipfile.ZipFile(stream) as z, z.open("content.xml") as content:
        number, sheet = 0, 0
        for event, element in iterparse(content, events=("start", "end")):
            if event == "start" and element.tag == _q("table", "table"):
                sheet += 1
            if event != "end" or element.tag != _q("table", "table-row"):
                continue
            values = []
            for cell in element:
                if cell.tag not in (_q("table", "table-cell"), _q("table", "covered-table-cell")):
                    continue
                repeat = min(int(cell.get(_q("table", "number-columns-repeated"), "1")), MAX_ODS_REPEAT)
                value = _ods_value(cell)
                if cell.get(_q("table", "formula")) and sheet == 1:
                    formulas.setdefault(number + 1, []).append(len(values))
                values.extend([value] * repeat)
            rows = min(int(element.get(_q("table", "number-rows-repeated"), "1")), MAX_ODS_REPEAT)
            element.clear()
            for _ in range(rows):
                number += 1
                if sheet > 1:
                    if {"event_id", "event_type"} <= {column_of(v) for v in values if v is not None}:
                        raise FileError("bad_xlsx", "Another sheet also holds ledger lines; only the first sheet is "
                                                    "read. Put every line on the first sheet.")
                    continue
                _too_many(max_lines, number, "sheet")
                if any(v is not None and str(v).strip() for v in values):
                    yield number, values


def ods_rows(stream, max_lines=None, warnings=None):
    """Yield (line, row dict | LineError) from the first sheet of an ODS spreadsheet, as from an XLSX one."""
    warnings = [] if warnings is None else warnings
    check_workbook(stream)
    formulas = {}
    line = 0
    try:
        layout, rest = find_layout(_ods_records(stream, max_lines, formulas), warnings)
        yield from sheet_rows(layout, rest, formulas)
    except FileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken document fails in many ways while it is parsed
        raise FileError("bad_xlsx", f"The spreadsheet cannot be read after row {line}: {type(exc).__name__}.") \
            from None
