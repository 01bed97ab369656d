"""Stored EPCIS events as a table a supervisor opens in a spreadsheet (CSV) or a script reads (JSON).

Every time is given twice: in UTC and in China time (Asia/Shanghai, UTC+8 all year), since people read the ledger in
China time and other systems in UTC. CSV cells are `YYYY-MM-DD HH:MM:SS` (Excel and LibreOffice read them as dates
in any locale; the header names the zone), UTF-8 with a BOM, and text a spreadsheet would run as a formula is
neutralised; JSON times are strict RFC 3339 (`...Z` and `...+08:00`).
"""
import csv
import io
import json

from inspector.clock import CST, as_utc
from inspector.findings.exports import neutralise
from inspector.ledger.epcis.query import utc_text

COLUMNS = ("eventID", "type", "action", "bizStep", "disposition", "eventTime_utc", "eventTime_china",
           "eventTimeZoneOffset", "recordTime_utc", "recordTime_china", "readPoint", "bizLocation", "epcs",
           "epcClasses", "outcome", "captureID")
TIMES = {"eventTime": "event_time", "recordTime": "record_time"}
FLUSH_ROWS = 500


def row(doc):
    """One stored event as {column: value}: datetimes aware (UTC, and China time in the _china columns)."""
    event = json.loads(doc["json"])
    out = {"eventID": doc["_id"], "type": doc.get("type"), "action": doc.get("action"), "bizStep": doc.get("biz_step"),
           "disposition": doc.get("disposition"), "eventTimeZoneOffset": event.get("eventTimeZoneOffset"),
           "readPoint": doc.get("read_point"), "bizLocation": doc.get("biz_location"),
           "epcs": " ".join(doc.get("epcs") or []), "epcClasses": " ".join(doc.get("epc_classes") or []),
           "outcome": doc.get("outcome"), "captureID": doc.get("capture_id")}
    for name, field in TIMES.items():
        moment = as_utc(doc.get(field))
        out[f"{name}_utc"] = moment
        out[f"{name}_china"] = None if moment is None else moment.astimezone(CST)
    return out


def _csv_cell(value):
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else neutralise(value)


def csv_chunks(docs):
    """Yield the CSV (UTF-8 with BOM) a few hundred rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    for count, doc in enumerate(docs, 1):
        values = row(doc)
        writer.writerow([_csv_cell(values[c]) for c in COLUMNS])
        if count % FLUSH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _json_value(value):
    if hasattr(value, "utcoffset") and value.utcoffset():
        return value.isoformat(timespec="milliseconds")  # China time: 2026-11-02T10:00:00.000+08:00
    return utc_text(value) if hasattr(value, "utcoffset") else value


def json_chunks(docs):
    """Yield {"columns", "events": [...]} as JSON, one event at a time."""
    yield b'{"columns": ' + json.dumps(COLUMNS).encode() + b', "events": ['
    for count, doc in enumerate(docs):
        values = {k: _json_value(v) for k, v in row(doc).items()}
        yield (b", " if count else b"") + json.dumps(values, ensure_ascii=False).encode("utf-8")
    yield b"]}"
