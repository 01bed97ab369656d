"""Ledger files: CSV, XLSX and ODS uploads read line by line into canonical events (the template: template.py)."""
import codecs
import csv
import io
import re
import unicodedata
import zipfile
from datetime import date, datetime, timedelta

from inspector.errors import DomainError
from inspector.ledger.events import LineError, Unreadable
from inspector.ledger.lines import events_from_rows  # noqa: F401 (read from here by the API and tests)

COLUMNS = ("event_id", "event_type", "occurred_at", "enterprise_id", "line_role", "batch_code", "mass_kg", "stage",
           "product_type", "reo_pct", "quota_category", "counterparty_id", "doc_no", "port", "country", "status")
SNIFF_BYTES = 64 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_PACK_RATIO = 150
MAX_CELL_CHARS = 1000

class FileError(DomainError):
    """A whole file that cannot be read as a ledger submission: invalid, or too_large (too many lines, a zip bomb)."""

    def __init__(self, code, message, kind="invalid"):
        super().__init__(message, code=code, kind=kind)

    @property
    def status(self):
        """The HTTP status this refusal is answered with (api/errors.py maps the kind), for callers outside the API."""
        return 413 if self.kind == "too_large" else 422


# -- headers as offices write them -------------------------------------------------------------------------------
# Chinese (and a few English) names a clerk's own sheet uses for the template's columns, compared after NFKC (full-width
# brackets become ASCII), lower case and without spaces.
ALIASES = {
    "event_id": ("事件编号", "事件号", "事件id", "事件代码", "流水号"),
    "event_type": ("事件类型", "类型", "业务类型"),
    "occurred_at": ("发生日期", "日期", "发生时间", "业务日期"),
    "enterprise_id": ("企业编号", "企业代码", "报送企业", "报送企业编号"),
    "line_role": ("行角色", "投入产出", "投入/产出", "投入或产出"),
    "batch_code": ("批次码", "批次编码", "批次号", "批号"),
    "mass_kg": ("质量(千克)", "质量(kg)", "重量", "重量(千克)", "重量(kg)", "质量", "净重(千克)", "净重"),
    "stage": ("阶段", "产品阶段", "环节"),
    "product_type": ("产品类型", "产品", "品名"),
    "reo_pct": ("reo含量(%)", "reo(%)", "稀土氧化物含量(%)", "氧化物含量(%)", "reo含量", "稀土氧化物含量"),
    "quota_category": ("配额类别", "指标类别", "配额类型"),
    "counterparty_id": ("对方企业", "对方企业编号", "交易对方", "对方单位"),
    "doc_no": ("单据号", "单号", "运单号", "单据编号", "许可证号", "报关单号"),
    "port": ("口岸", "港口"),
    "country": ("国家", "国别", "国家(地区)"),
    "status": ("状态",),
}
_ALIAS = {_name: column for column, names in ALIASES.items() for _name in names}
MAX_TITLE_ROWS = 5
TEXT_COLUMNS = ("event_id", "enterprise_id", "batch_code", "counterparty_id", "doc_no")
NUMBER_COLUMNS = ("mass_kg", "reo_pct")
# Where the core names a field the file does not have, the clerk sees the file's column.
FIELD_COLUMNS = {"type": "event_type", "code": "batch_code", "to_id": "counterparty_id", "from_id": "counterparty_id",
                 "licence_no": "doc_no", "declaration_no": "doc_no", "origin_country": "country",
                 "destination_country": "country", "inputs": "line_role", "outputs": "line_role", "gs1": "batch_code"}
_ITEM_FIELD = re.compile(r"^(?:inputs|outputs)\[\d+\]\.(\w+)")
EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
                  r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?$")
_SHORT_YEAR = re.compile(r"^(\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]$")  # LibreOffice's zh-CN date: 26年11月3日
_COMPACT = re.compile(r"^(20\d{2})(\d{2})(\d{2})$")
_DAY_FIRST = re.compile(r"^\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,4}(?:[ T].*)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")
EXACT_DIGITS = 15  # a spreadsheet number keeps 15 significant digits


def _name(raw):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(raw or "")).lstrip("\ufeff")).lower()


def column_of(name):
    """The template column a header cell names (an alias included), or None."""
    key = _name(name)
    if key in COLUMNS:
        return key
    return _ALIAS.get(key)


class Layout:
    """Where the header is and what each cell position holds; the warnings a clerk should see on the receipt."""

    def __init__(self, header_line, names, warnings):
        while names and not str(names[-1] if names[-1] is not None else "").strip():
            names = names[:-1]  # spreadsheet exports add empty trailing columns
        self.header_line, self.names, self.warnings = header_line, names, warnings
        self.positions = {}
        doubled = {}
        ignored = []
        for i, name in enumerate(names):
            column = column_of(name)
            if column is None:
                if str(name or "").strip():
                    ignored.append(str(name).strip())
                continue
            if column in self.positions:
                doubled.setdefault(column, [names[self.positions[column]]]).append(name)
            else:
                self.positions[column] = i
        missing = [c for c in COLUMNS if c not in self.positions]
        if missing or doubled:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing))
            for column, both in doubled.items():
                parts.append(" and ".join(repr(str(b).strip()) for b in both) + f" both name {column}; keep one")
            if ignored:
                parts.append("unknown " + ", ".join(repr(u) for u in ignored))
            raise FileError("wrong_headers", f"The header line (line {header_line}) is wrong: " + "; ".join(parts)
                            + ". Download the template for the expected columns: " + ", ".join(COLUMNS) + ".")
        for name in ignored:
            warnings.append(_warning("column_ignored", f"The column {name!r} is not a ledger column; it was not read.",
                                     column=name))
        self.width = max(self.positions.values()) + 1

    def second_header(self, values, line):
        """True for a row that repeats the header in other words (a Chinese row under the English one)."""
        named = {i: column_of(v) for i, v in enumerate(values) if str(v if v is not None else "").strip()}
        if len(named) < 3 or any(c is None for i, c in named.items() if i in self.positions.values()):
            return False
        wrong = [(i, c) for i, c in named.items() if c is not None and self.positions.get(c) != i]
        if wrong:
            raise FileError("wrong_headers", f"Line {line} repeats the header but puts "
                            + ", ".join(f"{values[i]!r} under {self._at(i) or 'no column'}" for i, _ in wrong)
                            + "; the two header rows must agree.")
        self.warnings.append(_warning("second_header_skipped", f"Line {line} repeats the header in other words; it was "
                                                               "not read as a ledger line.", line=line))
        return True

    def _at(self, index):
        return next((c for c, i in self.positions.items() if i == index), None)

    def row(self, values, line):
        """The line's cells by column, each read as offices write it (an Unreadable for a refused cell); a line
        error for a line too short or too long, or with a cell beyond MAX_CELL_CHARS."""
        width = len(self.names)
        cells = len(values)
        while cells > width and not str(values[cells - 1] if values[cells - 1] is not None else "").strip():
            cells -= 1
        if cells != width:
            return LineError("bad_field", f"The line has {cells} cells; the header has {width}.", line=line,
                             params={"cells": cells, "expected": width})
        for i, value in enumerate(values[:width]):
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                name = self._at(i) or str(self.names[i])
                eid = values[self.positions["event_id"]]
                return LineError("bad_field", f"{name} is longer than {MAX_CELL_CHARS} characters.", name,
                                 str(eid)[:200] if eid is not None else None, line,
                                 params={"column": name, "limit": MAX_CELL_CHARS})
        out = {}
        for column, i in self.positions.items():
            out[column] = read_cell(column, values[i] if i < len(values) else None, line)
        return out


def _warning(code, message, **params):
    return {"code": code, "message": message, "params": params}


def find_layout(rows, warnings):
    """Skip a title (a row of one or two cells) above the header; refuse rows above it that look like ledger lines.

    `rows` yields (line, values); returns (layout, the rows after the header).
    """
    rows = iter(rows)
    above = []
    for line, values in rows:
        cells = [v for v in values if str(v if v is not None else "").strip()]
        if not cells:
            continue
        known = sum(column_of(v) is not None for v in cells)
        if known >= 3:
            layout = Layout(line, list(values), warnings)
            for title_line, text in above:
                warnings.append(_warning("title_row_skipped", f"Line {title_line} ({text[:40]!r}) is above the header; "
                                                              "it was read as a title.", line=title_line, text=text[:80]))
            return layout, rows
        if len(cells) > 2 or len(above) >= MAX_TITLE_ROWS:
            raise FileError("wrong_headers", f"Line {line} is not the header and holds more than a title; the header "
                            "must come first (a title of one cell above it is fine). Expected columns: "
                            + ", ".join(COLUMNS) + ".")
        above.append((line, " ".join(str(c).strip() for c in cells)))
    if above:
        raise FileError("wrong_headers", "No header line was found. Download the template for the expected columns: "
                        + ", ".join(COLUMNS) + ".")
    raise FileError("empty_file", "The file is empty; it needs the header line and one line per event item.")


# -- cells as offices write them ------------------------------------------------------------------------------------
def _refuse(code, message, column, line, **params):
    return Unreadable(LineError(code, message, column, line=line, params={"column": column, **params}))


def read_cell(column, value, line):
    """A cell's text as the core reads it: Chinese dates, date cells and serials, thousands separators, full-width
    digits; a code or number a spreadsheet rounded is refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return _refuse("bad_field", f"{column} is longer than {MAX_CELL_CHARS} characters.", column, line)
    if column == "occurred_at":
        return _date_cell(value, line)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if column in TEXT_COLUMNS and isinstance(value, (int, float)):
        if abs(value) >= 10 ** EXACT_DIGITS or (isinstance(value, float) and not value.is_integer()):
            return _lost(column, value, line)
        return str(int(value))
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, int):
        return str(value)
    text = value.strip()
    if column in TEXT_COLUMNS and _SCIENTIFIC.match(unicodedata.normalize("NFKC", text)):
        return _lost(column, text, line)
    if column in NUMBER_COLUMNS:
        text = unicodedata.normalize("NFKC", text).replace("，", ",")
        if _THOUSANDS.match(text):
            return text.replace(",", "")
        if "," in text:
            return _refuse("bad_number", f"{column} {text!r} is not a number as written: use a point for decimals "
                                         "(2821.9) and, if any, commas only between thousands (2,821.9).",
                           column, line, value=text)
    return text


def _lost(column, shown, line):
    return _refuse("precision_lost", f"{column} came in as the number {shown}: the spreadsheet kept only "
                                     f"{EXACT_DIGITS} digits, so the value is no longer the one on the document. "
                                     "Format the column as text, type the value again and upload the file again.",
                   column, line, value=str(shown))


def _date_cell(value, line):
    column = "occurred_at"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() and value.tzinfo is None \
            else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return _serial(value, line) or _refuse("bad_date", f"occurred_at {value} is neither a date nor a date "
                                                         "serial.", column, line, value=str(value))
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return ""
    if _SERIAL.match(text):
        return _serial(float(text), line) or _refuse("bad_date", f"occurred_at {text} is not a date.", column, line,
                                                      value=text)
    found = _YMD.match(text) or _COMPACT.match(text) or _SHORT_YEAR.match(text)
    if found:
        parts = [int(p) if p else 0 for p in found.groups()] + [0, 0, 0]
        if parts[0] < 100:
            parts[0] += 2000  # the year is marked (年), so 26年 can only be 2026 (the ledger begins in 2000)
        try:
            moment = datetime(*parts[:6])
        except ValueError:
            return _refuse("bad_date", f"occurred_at {text!r} is not a date of the calendar.", column, line,
                           value=text)
        return moment.date().isoformat() if len(found.groups()) == 3 or found.group(4) is None \
            else moment.isoformat()
    if _DAY_FIRST.match(text):
        return _refuse("ambiguous_date", f"occurred_at {text!r} could be read day, month or year first; write the year "
                                         "first in four digits, like 2026-11-03 or 2026年11月3日.", column, line,
                       value=text)
    return text  # ISO forms, with a time or an offset; anything else the core refuses


def _serial(number, line):
    """A spreadsheet date serial (days since 1899-12-30) between 2000 and 2099, as an ISO date or date-time."""
    if not 36526 <= number < 73051:
        return None
    day = EXCEL_EPOCH + timedelta(days=int(number))
    seconds = round((number - int(number)) * 86400)
    if not seconds:
        return day.isoformat()
    return (datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)).isoformat()


def file_columns(error):
    """An error as the clerk's file names things: counterparty_id, never from_id; mass_kg, never outputs[0].mass_kg."""
    field = error.get("field")
    if not field:
        return error
    item = _ITEM_FIELD.match(field)
    column = item.group(1) if item else FIELD_COLUMNS.get(field, field)
    column = {"code": "batch_code", "gs1": "batch_code"}.get(column, column)
    if column != field:
        message = re.sub(rf"(?<![\w\[\].]){re.escape(field)}(?![\w\[])", column, error["message"], count=1)
        error = {**error, "field": column, "message": message}
    params = {**error.get("params", {}), "field": column}
    params.setdefault("column", column)
    return {**error, "params": params}


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


def _too_many(max_lines, line, what="file"):
    if max_lines and line > max_lines + 1:
        raise FileError("too_many_lines", f"The {what} has more than {max_lines:,} lines; a submission holds at most "
                                          "that many. Split the file by month or by site.", kind="too_large")


def csv_rows(stream, max_lines=None, warnings=None):
    """Yield (line, row dict | LineError) from a binary CSV stream; the stream is read again on every call."""
    warnings = [] if warnings is None else warnings
    encoding = file_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        reader = csv.reader(text)

        def records():
            start = 1
            for row in reader:
                line, start = start, reader.line_num + 1  # a quoted newline spans lines: blame its first
                _too_many(max_lines, line)
                yield line, row

        layout, rest = find_layout(records(), warnings)
        first = True
        for line, row in rest:
            if not any(cell.strip() for cell in row):
                continue
            if first and layout.second_header(row, line):
                first = False
                continue
            first = False
            yield line, layout.row(row, line)
    except UnicodeDecodeError:
        raise FileError("bad_encoding", f"The file stops being valid {encoding} text after line "
                                        f"{reader.line_num}.") from None
    except csv.Error as exc:
        raise FileError("bad_csv", f"Line {reader.line_num} cannot be read as CSV: {exc}.") from None
    finally:
        text.detach()


# -- XLSX ---------------------------------------------------------------------------------------------------------
def sheet_rows(layout, rest, formulas):
    """A spreadsheet's lines under its header as rows: blank lines and a second header skipped, formula cells refused."""
    first = True
    for line, values in rest:
        if not any(str(v).strip() for v in values if v is not None):
            continue
        if first and layout.second_header(values, line):
            first = False
            continue
        first = False
        row = layout.row(values + [None] * (len(layout.names) - len(values)), line)
        for i in (formulas.pop(line, ()) if isinstance(row, dict) else ()):
            column = layout._at(i)
            if column:
                row[column] = _refuse("formula_cell", f"{column} holds a formula; enter plain values (paste as "
                                                      "values).", column, line)
        yield line, row


def check_workbook(stream):
    """Refuse workbooks that are not zip files or that unpack far beyond their size (zip bombs)."""
    stream.seek(0, io.SEEK_END)
    packed = stream.tell()
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as z:
            infos = z.infolist()
    except zipfile.BadZipFile:
        raise FileError("bad_xlsx", "The file is not an XLSX or ODS workbook (not a zip archive).") from None
    unpacked = sum(i.file_size for i in infos)
    if len(infos) > 10_000 or unpacked > MAX_UNPACKED_BYTES or unpacked > max(packed, 1) * MAX_PACK_RATIO:
        raise FileError("zip_bomb", f"The workbook unpacks to {unpacked / 1e6:,.0f} MB from {packed / 1e6:,.1f} MB; "
                                    "that is refused as a zip bomb. Upload the ledger as CSV instead.",
                        kind="too_large")
    stream.seek(0)


def xlsx_rows(stream, max_lines=None, warnings=None):
    """Yield (line, row dict | LineError) from the first sheet of an XLSX workbook; formula cells are refused."""
    from openpyxl import load_workbook

    warnings = [] if warnings is None else warnings
    check_workbook(stream)
    try:
        book = load_workbook(stream, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken workbook
        raise FileError("bad_xlsx", f"The workbook cannot be opened: {type(exc).__name__}.") from None
    line = 1
    try:
        sheet = book.worksheets[0]
        _refuse_other_ledger_sheets(book)
        formulas = {}

        def records():
            for number, cells in enumerate(sheet.iter_rows(), start=1):
                _too_many(max_lines, number, "sheet")
                values = []
                for i, c in enumerate(cells):
                    value = getattr(c, "value", None)
                    if getattr(c, "data_type", None) == "f":
                        formulas.setdefault(number, []).append(i)
                    values.append(value)
                yield number, values

        layout, rest = find_layout(records(), warnings)
        yield from sheet_rows(layout, rest, formulas)
    except FileError:
        raise
    except Exception as exc:  # noqa: BLE001 - read-only sheets are parsed while rows are read
        raise FileError("bad_xlsx", f"The workbook cannot be read after row {line}: {type(exc).__name__}.") from None
    finally:
        book.close()


def _refuse_other_ledger_sheets(book):
    """Ledger lines on a second sheet would be silently left out: refuse the workbook instead."""
    for other in book.worksheets[1:]:
        for row in other.iter_rows(max_row=MAX_TITLE_ROWS + 1, values_only=True):
            names = {column_of(v) for v in row if v is not None}
            if {"event_id", "event_type"} <= names:
                raise FileError("bad_xlsx", f"Sheet {other.title!r} also holds ledger lines; only the first sheet is "
                                            "read. Put every line on the first sheet, or upload each sheet as its own "
                                            "file.")
