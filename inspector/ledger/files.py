"""Ledger files: CSV and XLSX uploads read line by line into canonical events, and the template to fill in."""
import codecs
import csv
import io
import zipfile
from datetime import date, datetime

from inspector.codes.batch_code import check_character
from inspector.errors import DomainError
from inspector.ledger.events import FileItem, LineError

COLUMNS = ("event_id", "event_type", "occurred_at", "enterprise_id", "line_role", "batch_code", "mass_kg", "stage",
           "product_type", "reo_pct", "quota_category", "counterparty_id", "doc_no", "port", "country", "status")
EVENT_FIELDS = ("event_type", "occurred_at", "enterprise_id", "counterparty_id", "doc_no", "port", "country", "status")
MULTI_LINE = ("production", "import", "split", "merge")
SNIFF_BYTES = 64 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_PACK_RATIO = 150
MAX_CELL_CHARS = 1000

_ORE = "RE2345678A" + check_character("RE2345678A")
_OXIDE = "RE3456789B" + check_character("RE3456789B")
TEMPLATE_ROWS = [
    ("EV-2026-10-0001", "production", "2026-10-03", "ENT-NSM", "output", _ORE, "25000", "ore",
     "bastnaesite_concentrate", "55.5", "mining_light", "", "", "", "", ""),
    ("EV-2026-10-0002", "shipment", "2026-10-04", "ENT-NSM", "", _ORE, "25000", "", "", "", "", "ENT-BPS",
     "WB-202610-0001", "", "", ""),
    ("EV-2026-10-0003", "receipt", "2026-10-06", "ENT-BPS", "", _ORE, "25000", "", "", "", "", "ENT-NSM",
     "WB-202610-0001", "", "", ""),
    ("EV-2026-10-0004", "production", "2026-10-20", "ENT-BPS", "input", _ORE, "25000", "", "", "", "", "", "",
     "", "", ""),
    ("EV-2026-10-0004", "production", "2026-10-20", "ENT-BPS", "output", _OXIDE, "13200", "compound", "prnd_oxide",
     "99.1", "", "", "", "", "", ""),
    ("EV-2026-10-0005", "shipment", "2026-10-24", "ENT-BPS", "", _OXIDE, "13200", "", "", "", "", "ENT-TPE",
     "WB-202610-0002", "", "", ""),
    ("EV-2026-10-0006", "receipt", "2026-10-26", "ENT-TPE", "", _OXIDE, "13200", "", "", "", "", "ENT-BPS",
     "WB-202610-0002", "", "", ""),
    ("EV-2026-10-0007", "export", "2026-10-28", "ENT-TPE", "", _OXIDE, "", "", "", "", "", "", "EL-2026-000123",
     "Tianjin", "DE", ""),
]


class FileError(DomainError):
    """A whole file that cannot be read as a ledger submission: invalid, or too_large (too many lines, a zip bomb)."""

    def __init__(self, code, message, kind="invalid"):
        super().__init__(message, code=code, kind=kind)

    @property
    def status(self):
        """The HTTP status this refusal is answered with (api/errors.py maps the kind), for callers outside the API."""
        return 413 if self.kind == "too_large" else 422


# -- rows -> canonical events ---------------------------------------------------------------------------------------
def events_from_rows(rows):
    """Group consecutive rows of one event_id into canonical event dicts; yield (line, event | LineError)."""
    group, first_line, finished = [], None, {}
    for line, row in rows:
        if isinstance(row, LineError):
            if group:
                yield first_line, _finish(group, finished)
                group = []
            yield line, row
            continue
        if group and row.get("event_id") != group[0][1].get("event_id"):
            yield first_line, _finish(group, finished)
            group = []
        if not group:
            first_line = line
            earlier = finished.get(row.get("event_id"))
            if earlier:
                yield line, LineError("bad_field", f"The lines of event {row.get('event_id')!r} are not together: it "
                                                   f"began on line {earlier}. Keep all the lines of one event "
                                                   "consecutive.", "event_id", row.get("event_id"), line)
                continue
        group.append((line, row))
    if group:
        yield first_line, _finish(group, finished)


def _finish(group, finished):
    """The group's event; multi-line events are remembered so that a stray later line of one is caught."""
    if (group[0][1].get("event_type") or "").strip().lower() in MULTI_LINE:
        finished[group[0][1].get("event_id")] = group[0][0]
    return _event(group)


def _event(group):
    first_line, first = group[0]
    kind = (first.get("event_type") or "").strip().lower()
    for line, row in group[1:]:
        for name in EVENT_FIELDS:
            if row.get(name) not in (None, "") and row.get(name) != first.get(name):
                return LineError("bad_field", f"{name} differs from the event's first line ({first_line}); every "
                                              "line of one event carries the same event fields.", name,
                                 first.get("event_id"), line)
    if kind not in MULTI_LINE and len(group) > 1:
        return LineError("bad_field", f"A {kind or 'line'} event takes one line; event_id {first.get('event_id')!r} "
                                      f"repeats on line {group[1][0]}.", "event_id", first.get("event_id"), group[1][0])
    event = {"event_id": first.get("event_id"), "type": kind, "enterprise_id": first.get("enterprise_id") or None,
             "occurred_at": first.get("occurred_at")}
    if kind in MULTI_LINE:
        inputs, outputs = [], []
        for line, row in group:
            role = (row.get("line_role") or "").strip().lower()
            if role not in ("input", "output"):
                return LineError("bad_field", "line_role must be input or output for a " + kind + ".", "line_role",
                                 first.get("event_id"), line)
            item = FileItem({"code": row.get("batch_code") or None, "mass_kg": row.get("mass_kg")}, line)
            if role == "output" and kind in ("production", "import"):
                item.update(stage=row.get("stage"), product_type=row.get("product_type"), reo_pct=row.get("reo_pct"),
                            quota_category=row.get("quota_category") or None)
            (inputs if role == "input" else outputs).append(item)
        event["outputs"] = outputs
        if kind == "split":
            if len(inputs) != 1:
                return LineError("bad_field", "A split has exactly one input line.", "line_role", first.get("event_id"),
                                 first_line)
            event["code"] = inputs[0]["code"]
        elif kind in ("production", "merge"):
            event["inputs"] = inputs
        if kind == "import":
            event.update(declaration_no=first.get("doc_no"), port=first.get("port"),
                         origin_country=first.get("country"))
        return event
    event["code"] = first.get("batch_code")
    mass = first.get("mass_kg") or None
    if kind == "shipment":
        event.update(mass_kg=mass, to_id=first.get("counterparty_id"), doc_no=first.get("doc_no"))
    elif kind == "receipt":
        event.update(mass_kg=mass, from_id=first.get("counterparty_id"), doc_no=first.get("doc_no"))
    elif kind == "export":
        event.update(mass_kg=mass, licence_no=first.get("doc_no"), port=first.get("port"),
                     destination_country=first.get("country") or None)
    else:
        event.update(mass_kg=mass, status=first.get("status") or None)
    return event


# -- CSV ----------------------------------------------------------------------------------------------------------
def sniff_encoding(head: bytes):
    """UTF-8 (with or without BOM) or GBK/GB18030; anything else is refused with a hint."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError("bad_encoding", "The file is UTF-16; save it as CSV UTF-8 (or GBK) and upload again.")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise FileError("bad_encoding", "The file is neither UTF-8 nor GBK text; save it as CSV UTF-8.") from None


def _header(names):
    seen = [(n or "").strip().lower().lstrip("\ufeff") for n in names]
    while seen and seen[-1] == "":
        seen.pop()  # spreadsheet exports add empty trailing columns
    missing = [c for c in COLUMNS if c not in seen]
    unknown = [n for n in seen if n not in COLUMNS]
    if missing or unknown or len(set(seen)) != len(seen):
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(repr(u) for u in unknown))
        if len(set(seen)) != len(seen):
            parts.append("a column appears twice")
        raise FileError("wrong_headers", "The header line is wrong: " + "; ".join(parts)
                        + ". Download the template for the expected columns: " + ", ".join(COLUMNS) + ".")
    return seen


def file_encoding(stream):
    """UTF-8 when the whole file decodes as UTF-8 (read in chunks), else GBK/GB18030, else a clear refusal."""
    stream.seek(0)
    encoding = sniff_encoding(stream.read(SNIFF_BYTES))
    if encoding == "utf-8":
        stream.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := stream.read(SNIFF_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            encoding = "gb18030"
    stream.seek(0)
    return encoding


def csv_rows(stream, max_lines=None):
    """Yield (line, row dict | LineError) from a binary CSV stream; the stream is read again on every call."""
    encoding = file_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        reader = csv.reader(text)
        try:
            header = _header(next(reader))
        except StopIteration:
            raise FileError("empty_file", "The file is empty; it needs the header line and one line per event "
                                          "item.") from None
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1  # a quoted newline makes a record span lines: blame its first
            if max_lines and line > max_lines + 1:
                raise FileError("too_many_lines", f"The file has more than {max_lines:,} lines; a submission holds at "
                                                  "most that many. Split the file by month or by site.",
                                kind="too_large")
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header) and not any(cell.strip() for cell in row[len(header):]):
                row = row[:len(header)]  # spreadsheet exports pad rows with empty cells
            if len(row) != len(header):
                yield line, LineError("bad_field", f"The line has {len(row)} cells; the header has {len(header)}.",
                                      line=line)
                continue
            yield line, _cells(dict(zip(header, row)), line)
    except UnicodeDecodeError:
        raise FileError("bad_encoding", f"The file stops being valid {encoding} text after line "
                                        f"{reader.line_num}.") from None
    except csv.Error as exc:
        raise FileError("bad_csv", f"Line {reader.line_num} cannot be read as CSV: {exc}.") from None
    finally:
        text.detach()


def _cells(row, line):
    for name, value in row.items():
        if len(value) > MAX_CELL_CHARS:
            return LineError("bad_field", f"{name} is longer than {MAX_CELL_CHARS} characters.", name,
                             row.get("event_id"), line)
    return {k: v.strip() for k, v in row.items()}


# -- XLSX ---------------------------------------------------------------------------------------------------------
def check_workbook(stream):
    """Refuse workbooks that are not zip files or that unpack far beyond their size (zip bombs)."""
    stream.seek(0, io.SEEK_END)
    packed = stream.tell()
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as z:
            infos = z.infolist()
    except zipfile.BadZipFile:
        raise FileError("bad_xlsx", "The file is not an XLSX workbook (not a zip archive).") from None
    unpacked = sum(i.file_size for i in infos)
    if len(infos) > 10_000 or unpacked > MAX_UNPACKED_BYTES or unpacked > max(packed, 1) * MAX_PACK_RATIO:
        raise FileError("zip_bomb", f"The workbook unpacks to {unpacked / 1e6:,.0f} MB from {packed / 1e6:,.1f} MB; "
                                    "that is refused as a zip bomb. Upload the ledger as CSV instead.",
                        kind="too_large")
    stream.seek(0)


def xlsx_rows(stream, max_lines=None):
    """Yield (line, row dict | LineError) from the first sheet of an XLSX workbook; formula cells are refused."""
    from openpyxl import load_workbook

    check_workbook(stream)
    try:
        book = load_workbook(stream, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken workbook
        raise FileError("bad_xlsx", f"The workbook cannot be opened: {type(exc).__name__}.") from None
    line = 1
    try:
        sheet = book.worksheets[0]
        _refuse_other_ledger_sheets(book)
        rows = sheet.iter_rows()
        try:
            header = _header([_plain(c.value) for c in next(rows)])
        except StopIteration:
            raise FileError("empty_file", "The first sheet is empty; it needs the header row.") from None
        for line, cells in enumerate(rows, start=2):
            if max_lines and line > max_lines + 1:
                raise FileError("too_many_lines", f"The sheet has more than {max_lines:,} lines; a submission holds "
                                                  "at most that many. Split it by month or by site.", kind="too_large")
            values = [_plain(c.value) for c in cells][:len(header)]
            if not any(values):
                continue
            formula = next((header[i] for i, c in enumerate(cells[:len(header)]) if c.data_type == "f"), None)
            if formula:
                yield line, LineError("formula_cell", f"{formula} holds a formula; enter plain values (paste as "
                                                      "values).", formula, None, line)
                continue
            values += [""] * (len(header) - len(values))
            yield line, _cells(dict(zip(header, values)), line)
    except FileError:
        raise
    except Exception as exc:  # noqa: BLE001 - read-only sheets are parsed while rows are read
        raise FileError("bad_xlsx", f"The workbook cannot be read after row {line}: {type(exc).__name__}.") from None
    finally:
        book.close()


def _refuse_other_ledger_sheets(book):
    """Ledger lines on a second sheet would be silently left out: refuse the workbook instead."""
    for other in book.worksheets[1:]:
        first = next(other.iter_rows(max_row=1, values_only=True), ())
        names = {_plain(v).strip().lower() for v in first}
        if {"event_id", "event_type"} <= names:
            raise FileError("bad_xlsx", f"Sheet {other.title!r} also holds ledger lines; only the first sheet is "
                                        "read. Put every line on the first sheet, or upload each sheet as its own "
                                        "file.")


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- template -------------------------------------------------------------------------------------------------------
def template_csv():
    """The CSV template: the header and one example of each common event."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return "\ufeff" + out.getvalue()  # the BOM makes spreadsheet programs read it as UTF-8


def template_xlsx():
    """The XLSX template, with the same rows as the CSV one."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("ledger")
    sheet.append(COLUMNS)
    for row in TEMPLATE_ROWS:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
