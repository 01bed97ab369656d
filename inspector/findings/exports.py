"""The filtered findings log as CSV, XLSX or GeoJSON, produced row by row so memory stays flat at any size."""
import csv
import io
import json
import tempfile
from datetime import datetime, timezone

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from inspector.clock import CST, as_utc
from inspector.findings import workflow
from inspector.findings.export_headers import headings
from inspector.findings.records import sort_spec

FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
           "geojson": ("application/geo+json", "geojson")}
# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Only what the columns need (attachment ids, to count them): less to send, and less for the cursor to hold.
EXPORT_PROJECTION = {field: 1 for field in (
    "status", "observed_at", "received_at", "enterprise_id", "enterprise_name", "province", "site", "location",
    "inspector", "discrepancies", "batch_codes", "observed_mass_kg", "severity", "deadline", "outcome",
    "dismiss_reason", "notes", "attachments.id")}
FLUSH_ROWS = 500
READ_BATCH = 1000
FILE_CHUNK = 64 * 1024

COLUMNS = (
    ("id", lambda d: d["_id"]),
    ("status", lambda d: d["status"]),
    ("observed_at_utc", lambda d: d.get("observed_at")),
    ("observed_at_china", lambda d: _china(d.get("observed_at"))),
    ("received_at_utc", lambda d: d.get("received_at")),
    ("enterprise_id", lambda d: d.get("enterprise_id")),
    ("enterprise_name", lambda d: d.get("enterprise_name")),
    ("province", lambda d: d.get("province")),
    ("site_type", lambda d: (d.get("site") or {}).get("type")),
    ("site_name", lambda d: (d.get("site") or {}).get("name")),
    ("lat", lambda d: (d.get("location") or {}).get("lat")),
    ("lon", lambda d: (d.get("location") or {}).get("lon")),
    ("accuracy_m", lambda d: (d.get("location") or {}).get("accuracy_m")),
    ("inspector", lambda d: d.get("inspector")),
    ("discrepancies", lambda d: "; ".join(d.get("discrepancies") or [])),
    ("batch_codes", lambda d: "; ".join(d.get("batch_codes") or [])),
    ("observed_mass_kg", lambda d: d.get("observed_mass_kg")),
    ("severity", lambda d: d.get("severity")),
    ("deadline_utc", lambda d: d.get("deadline")),
    ("deadline_china", lambda d: _china(d.get("deadline"))),
    ("outcome", lambda d: d.get("outcome") or d.get("dismiss_reason")),
    ("attachments", lambda d: len(d.get("attachments") or [])),
    ("notes", lambda d: d.get("notes")),
)
HEADER = [name for name, _ in COLUMNS] + ["overdue"]
# Spreadsheet column widths in characters: dates need 19, free text gets room but not a whole screen.
WIDTHS = {"id": 16, "status": 12, "enterprise_name": 28, "site_name": 24, "inspector": 14, "discrepancies": 30,
          "batch_codes": 30, "outcome": 20, "notes": 48, "attachments": 12, "overdue": 10}
DATE_WIDTH = 20
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def export_documents(db, query, sort=None):
    """The findings to export, read from the database in batches."""
    return db.findings.find(query, EXPORT_PROJECTION).sort(sort_spec(sort)).batch_size(READ_BATCH)


def row(doc, now):
    """One finding as a list of plain values (datetimes in UTC, the _china columns in China time)."""
    values = [get(doc) if name.endswith("_china") else _utc(get(doc)) for name, get in COLUMNS]
    return values + [workflow.is_overdue(doc, now)]


def _utc(value):
    return as_utc(value) if isinstance(value, datetime) else value


def _china(value):
    return as_utc(value).astimezone(CST) if isinstance(value, datetime) else None


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value.lstrip(" ")[:1] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def _csv_cell(value):
    if isinstance(value, datetime):
        # "2026-11-03 14:05:00": Excel and LibreOffice read this as a date in any locale; the header names the zone.
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if value is None:
        return ""
    return neutralise(value)


def csv_chunks(docs, now, lang=None):
    """Yield the CSV (UTF-8 with BOM, so spreadsheets read accents) a few hundred rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(headings(HEADER, lang))
    for count, doc in enumerate(docs, 1):
        writer.writerow([_csv_cell(v) for v in row(doc, now)])
        if count % FLUSH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(sheet, value):
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value.replace(tzinfo=None))  # Excel has no time zones; the header names it
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = WriteOnlyCell(sheet, text)
        if neutralise(text) != text:
            # A text cell, shown as typed (no apostrophe), that the spreadsheet never evaluates.
            cell.data_type = "s"
            cell.quotePrefix = True
        return cell
    return value


def xlsx_chunks(docs, now, lang=None):
    """Yield an XLSX built with openpyxl's write-only mode, whose rows go to disk as they are added."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("findings")
    for index, name in enumerate(HEADER, 1):
        wide = DATE_WIDTH if name.endswith(("_utc", "_china")) else WIDTHS.get(name, 14)
        sheet.column_dimensions[get_column_letter(index)].width = wide
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    titles = []
    for title in headings(HEADER, lang):
        cell = WriteOnlyCell(sheet, title)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    count = 0
    for count, doc in enumerate(docs, 1):
        sheet.append([_xlsx_cell(sheet, v) for v in row(doc, now)])
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{count + 1}"
    yield from workbook_chunks(workbook)


def workbook_chunks(workbook):
    """Yield a saved workbook in pieces from a temporary file (write-only rows went to disk as they were added)."""
    with tempfile.TemporaryFile() as out:
        workbook.save(out)
        out.seek(0)
        while chunk := out.read(FILE_CHUNK):
            yield chunk


def _json_value(value):
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


def feature(doc, now):
    """One finding as a GeoJSON Feature (RFC 7946: [lon, lat]; no location gives a null geometry)."""
    location = doc.get("location") or {}
    geometry = None
    if location.get("lat") is not None and location.get("lon") is not None:
        geometry = {"type": "Point", "coordinates": [location["lon"], location["lat"]]}
    properties = {name: _json_value(v) for name, v in zip(HEADER, row(doc, now))}
    properties["discrepancies"] = list(doc.get("discrepancies") or [])
    properties["batch_codes"] = list(doc.get("batch_codes") or [])
    return {"type": "Feature", "id": doc["_id"], "geometry": geometry, "properties": properties}


def geojson_chunks(docs, now, lang=None):
    """Yield a GeoJSON FeatureCollection, one batch of features at a time."""
    yield b'{"type":"FeatureCollection","features":['
    batch, first = [], True
    for doc in docs:
        batch.append(json.dumps(feature(doc, now), ensure_ascii=False, separators=(",", ":")))
        if len(batch) == FLUSH_ROWS:
            yield (("" if first else ",") + ",".join(batch)).encode("utf-8")
            batch, first = [], False
    if batch:
        yield (("" if first else ",") + ",".join(batch)).encode("utf-8")
    yield b"]}"


WRITERS = {"csv": csv_chunks, "xlsx": xlsx_chunks, "geojson": geojson_chunks}


def export_chunks(fmt, docs, now=None, lang=None):
    """Yield the export in the format asked for; spreadsheet headers in lang when given (else the field names)."""
    return WRITERS[fmt](docs, now or datetime.now(timezone.utc), lang)


# The cell writers, shared by the other exports (inspector/oversight/recall_exports.py) so every spreadsheet the
# service writes has the same dates, China time and formula guard.
csv_cell = _csv_cell
xlsx_cell = _xlsx_cell
