"""Properties of the parsers of what arrives from outside: batch codes, ledger lines (CSV, XLSX, JSON) and EPCIS.

Whatever arrives, each parser answers with a result or its own documented error, never anything else; what it
accepts reads back the same way again; and the three ledger channels (JSON, CSV, XLSX) read one event alike.
"""
import csv
import io
import json
import math
import string
import zipfile
from datetime import date
from urllib.parse import quote

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import event as note_outcome
from hypothesis import strategies as st
from openpyxl import Workbook

from inspector.codes import batch_code
from inspector.codes.batch_code import ALPHABET, BatchCodeError
from inspector.codes.labels import read_code
from inspector.ledger.epcis.capture import DocumentError, event_list, read_document
from inspector.ledger.events import Event, LineError, read_event
from inspector.ledger.files import COLUMNS, FileError, csv_rows, events_from_rows, xlsx_rows
from inspector.ledger.template import template_xlsx

SLOW = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
issued_codes = st.randoms(use_true_random=False).map(batch_code.issue)


# ---- Batch codes ----

def _typed(code):
    """The ways a person or a scanner may render an issued code."""
    return st.sampled_from([code, code.lower(), batch_code.display(code), "-".join(batch_code.display(code).split()),
                            f"  {code} ", code[:-1], code + "A", code[:4] + code[5] + code[4] + code[6:]])


GTIN = "09521234543213"
GS1_CHARACTERS = "!\"%&'()*+,-./:;<=>?_" + string.digits + string.ascii_letters
near_codes = issued_codes.flatmap(_typed)
gs1_parts = st.text(alphabet=GS1_CHARACTERS, min_size=1, max_size=22)
gs1_texts = st.builds(lambda gtin, lot, serial, form: form.format(gtin=gtin, lot=lot, serial=serial),
                      st.sampled_from([GTIN, GTIN[1:], "09521234543214"]), gs1_parts, gs1_parts,
                      st.sampled_from(["01{gtin}10{lot}", "01{gtin}10{lot}\x1d21{serial}", "(01){gtin}(21){serial}",
                                       "]Q3https://example.com/01/{gtin}/10/{lot}", "https://id.gs1.org/01/{gtin}"]))
any_text = (st.text(max_size=40) | st.text(alphabet=ALPHABET + "RE -01OIre", max_size=16) | near_codes
            | gs1_texts)


@settings(max_examples=400)
@given(any_text)
def test_normalise_accepts_a_code_or_says_why_not(text):
    try:
        code = batch_code.normalise(text)
    except BatchCodeError as error:
        assert str(error)[0].isupper() and str(error).endswith(".")
        assert error.typo in (True, False)
        return
    assert batch_code.normalise(code) == code
    assert batch_code.normalise(batch_code.display(code)) == code
    assert code[-1] == batch_code.check_character(code[:-1])
    # A scan reads the same text as the same batch.
    assert read_code(text).lookup() == {"_id": code}


@settings(max_examples=300)
@given(any_text)
def test_what_the_scan_intake_reads_it_reads_again_from_its_own_rendering(text):
    label = read_code(text)
    note_outcome(label.kind)
    if label.kind == "native":
        assert read_code(batch_code.display(label.batch_code)).lookup() == label.lookup()
    elif label.kind == "gs1":
        again = read_code(f"https://id.gs1.org/01/{label.gtin}"
                          + (f"/10/{quote(label.lot, safe='')}" if label.lot is not None else "")
                          + (f"/21/{quote(label.serial, safe='')}" if label.serial is not None else ""))
        assert again.lookup() == label.lookup()
    else:
        assert label.lookup() is None and label.error


# ---- Ledger lines: one event through the JSON, CSV and XLSX channels ----

words = st.text(alphabet=string.ascii_letters + string.digits + "-_/., '\"，运单\t\n", min_size=0, max_size=12)
ids = st.text(alphabet=string.ascii_uppercase + string.digits + "-", min_size=1, max_size=12)
names = st.text(alphabet=string.ascii_letters + string.digits + " _/.,'\"，运单", min_size=1, max_size=12).filter(str.strip)
good_codes = issued_codes.flatmap(lambda code: st.sampled_from([code, code.lower(), batch_code.display(code)]))
good_masses = st.floats(min_value=0.001, max_value=1e7)
masses = st.none() | st.floats(min_value=0.0005, max_value=2e9) | st.just(0.0) | st.just(-5.0)
days = st.dates(min_value=date(1999, 12, 1), max_value=date(2100, 12, 31))
good_days = st.dates(min_value=date(2000, 1, 2), max_value=date(2100, 12, 31))
SINGLE = ("shipment", "receipt", "export", "consumption")
# What each field is drawn from: anything a person may type, or only what the ledger accepts.
FIELDS = {
    False: {"ids": ids, "codes": near_codes | words, "masses": masses, "days": days, "text": ids | words, "port": words,
            "status": st.sampled_from(["", "consumed", "Retired", "lost"]),
            "stage": st.sampled_from(["ore", "compound", "Metal", "magnet", "cake"]),
            "product_type": st.sampled_from(["prnd_oxide", "ndfeb_sintered_magnet", "Bad Type"]),
            "reo_pct": st.none() | st.floats(min_value=-1, max_value=130)},
    True: {"ids": ids.map("E".__add__), "codes": good_codes, "masses": good_masses, "days": good_days, "text": ids.map("E".__add__) | names, "port": names,
           "status": st.sampled_from(["", "consumed", "Retired"]),
           "stage": st.sampled_from(["ore", "compound", "Metal", "magnet"]),
           "product_type": st.sampled_from(["prnd_oxide", "ndfeb_sintered_magnet"]),
           "reo_pct": st.floats(min_value=0.01, max_value=120)},
}


@st.composite
def single_line_events(draw, valid=False):
    """(CSV row dict, the same event as JSON) for a one-line event."""
    kind = draw(st.sampled_from(SINGLE))
    f = FIELDS[valid]
    row = {"event_id": draw(f["ids"]), "event_type": kind, "occurred_at": draw(f["days"]),
           "enterprise_id": draw(f["ids"] | st.just("")), "batch_code": draw(f["codes"]),
           "mass_kg": draw(f["masses"]), "counterparty_id": draw(f["text"]), "doc_no": draw(f["text"]),
           "port": draw(f["port"]), "country": draw(st.sampled_from(["", "DE", "JP"])), "status": draw(f["status"])}
    event = {"event_id": row["event_id"], "type": kind, "occurred_at": row["occurred_at"].isoformat(),
             "enterprise_id": row["enterprise_id"] or None, "code": row["batch_code"], "mass_kg": row["mass_kg"]}
    if kind == "shipment":
        event.update(to_id=row["counterparty_id"], doc_no=row["doc_no"])
    elif kind == "receipt":
        event.update(from_id=row["counterparty_id"], doc_no=row["doc_no"])
    elif kind == "export":
        event.update(licence_no=row["doc_no"], port=row["port"], destination_country=row["country"] or None)
    else:
        event.update(status=row["status"] or None)
    return [row], event


@st.composite
def production_events(draw, valid=False):
    """(CSV rows, the same event as JSON) for a production: input lines, then output lines."""
    f = FIELDS[valid]
    head = {"event_id": draw(f["ids"]), "event_type": "production", "occurred_at": draw(f["days"]),
            "enterprise_id": draw(f["ids"] | st.just(""))}
    inputs = draw(st.lists(st.fixed_dictionaries({"batch_code": f["codes"], "mass_kg": f["masses"]}),
                           max_size=2, unique_by=lambda item: batch_code.normalise(item["batch_code"])
                           if valid else item["batch_code"]))
    outputs = draw(st.lists(st.fixed_dictionaries({
        "batch_code": st.just(""), "mass_kg": f["masses"], "stage": f["stage"], "product_type": f["product_type"],
        "reo_pct": f["reo_pct"], "quota_category": st.sampled_from(["", "mining_light"] + ([] if valid else ["x"]))}),
        min_size=1 if valid else 0, max_size=2))
    rows = [{**head, "line_role": "input", **item} for item in inputs]
    rows += [{**head, "line_role": "output", **item} for item in outputs]
    event = {"event_id": head["event_id"], "type": "production", "occurred_at": head["occurred_at"].isoformat(),
             "enterprise_id": head["enterprise_id"] or None,
             "inputs": [{"code": i["batch_code"] or None, "mass_kg": i["mass_kg"]} for i in inputs],
             "outputs": [{"code": o["batch_code"] or None, "mass_kg": o["mass_kg"], "stage": o["stage"],
                          "product_type": o["product_type"], "reo_pct": o["reo_pct"],
                          "quota_category": o["quota_category"] or None} for o in outputs]}
    assume(rows)
    return rows, event


ledger_events = single_line_events() | production_events() | single_line_events(True) | production_events(True)
accepted_events = single_line_events(True) | production_events(True)


def _outcome(raw, line):
    """What the ledger makes of one event: its stored form, or the code of the error it reports."""
    try:
        return "event", read_event(raw, line, default_enterprise="ENT-NSM").payload()
    except LineError as error:
        # An error in an item of a file is on that item's own line, at or after the event's first.
        assert error.message and error.line >= line
        return "error", error.code


def _file_outcomes(items):
    outcomes = []
    for line, item in items:
        if isinstance(item, LineError):
            assert item.message and item.line
            outcomes.append(("error", item.code))
        else:
            outcomes.append(_outcome(item, line))
    return outcomes


def _cell(value):
    """A value as a CSV cell: text as it is, numbers as Python writes them."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def _csv(rows, bom=False):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in COLUMNS])
    return io.BytesIO((("\ufeff" if bom else "") + out.getvalue()).encode("utf-8"))


def _xlsx(rows):
    """The rows as a workbook typed the way a spreadsheet keeps them: text, numbers and dates."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(name) if row.get(name) != "" else None for name in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


@settings(max_examples=300, **SLOW)
@given(ledger_events, st.booleans())
def test_a_csv_line_reads_as_the_same_event_as_its_json(event, bom):
    rows, raw = event
    from_csv = _file_outcomes(events_from_rows(csv_rows(_csv(rows, bom))))
    expected = _outcome(raw, 2)
    note_outcome(expected[0] if expected[0] == "event" else f"error {expected[1]}")
    assert from_csv == [expected]


@settings(max_examples=60, **SLOW)
@given(ledger_events)
def test_an_xlsx_row_reads_as_the_same_event_as_its_json(event):
    rows, raw = event
    from_xlsx = _file_outcomes(events_from_rows(xlsx_rows(_xlsx(rows))))
    expected = _outcome(raw, 2)
    note_outcome(expected[0] if expected[0] == "event" else f"error {expected[1]}")
    assert from_xlsx == [expected]


@settings(max_examples=300, **SLOW)
@given(accepted_events)
def test_an_accepted_event_reads_back_from_its_stored_form_unchanged(event):
    _, raw = event
    kind, payload = _outcome(raw, 1)
    assert kind == "event", payload
    assert _outcome(json.loads(json.dumps(payload)), 1) == ("event", payload)


# ---- Ledger files: any bytes at all ----

HEADER = ",".join(COLUMNS).encode()
prefixes = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", HEADER + b"\n", b"\xef\xbb\xbf" + HEADER + b"\r\n"])


def _reads_or_refuses(read):
    """Every item is an event or a line error, or the whole file is refused with a FileError; None when refused."""
    try:
        items = list(events_from_rows(read()))
    except FileError as error:
        assert error.status in (413, 422) and error.code and error.message
        return None
    assert all(isinstance(item, (dict, LineError)) for _, item in items)
    return _file_outcomes(items)


@settings(max_examples=300, **SLOW)
@given(prefixes, st.binary(max_size=300) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_as_a_csv_file_read_as_lines_or_one_file_error(prefix, data):
    stream = io.BytesIO(prefix + data)
    _reads_or_refuses(lambda: csv_rows(stream, max_lines=50))


TEMPLATE = template_xlsx()


def _damaged(changes):
    data = bytearray(TEMPLATE)
    for position, value in changes:
        data[position] = value
    return bytes(data)


damaged_workbooks = (st.integers(0, len(TEMPLATE) - 1).map(lambda keep: TEMPLATE[:keep])
                     | st.lists(st.tuples(st.integers(0, len(TEMPLATE) - 1), st.integers(0, 255)), min_size=1,
                                max_size=6).map(_damaged))


@settings(max_examples=80, **SLOW)
@given(damaged_workbooks)
def test_any_damage_to_a_workbook_reads_as_lines_or_one_file_error(data):
    _reads_or_refuses(lambda: xlsx_rows(io.BytesIO(data), max_lines=50))


def _sheet_values():
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
    return st.none() | text | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False) \
        | st.booleans() | st.dates()


@settings(max_examples=40, **SLOW)
@given(st.lists(st.lists(_sheet_values(), max_size=len(COLUMNS) + 2), max_size=6))
def test_any_cell_values_in_a_workbook_read_as_lines_or_one_file_error(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    _reads_or_refuses(lambda: xlsx_rows(io.BytesIO(out.getvalue()), max_lines=50))


def test_a_zip_that_is_not_a_workbook_is_one_file_error():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert _reads_or_refuses(lambda: xlsx_rows(io.BytesIO(out.getvalue()))) is None


# ---- EPCIS documents ----

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25)
DOCUMENT_KEYS = ["type", "@context", "schemaVersion", "epcisBody", "eventList", "queryResults", "resultsBody",
                 "creationDate", "eventTime", "action", "bizStep"]
documents = st.dictionaries(st.sampled_from(DOCUMENT_KEYS), json_values | st.sampled_from(
    ["EPCISDocument", "EPCISQueryDocument", "ObjectEvent", "2.0", "2.0.0", "1.2"]), max_size=6)
DOCUMENT_ERRORS = {"not_epcis", "unsupported_schema_version", "too_many_events"}


@settings(max_examples=400, deadline=None)
@given(json_values | documents | st.builds(lambda body: {"type": "EPCISDocument", "schemaVersion": "2.0",
                                                         "epcisBody": body}, json_values | documents),
       st.none() | st.integers(min_value=1, max_value=3))
def test_any_json_is_an_event_list_or_a_documented_refusal(doc, limit):
    try:
        events, prefixes = event_list(doc, limit)
    except DocumentError as error:
        assert error.code in DOCUMENT_ERRORS and str(error)
        return
    assert isinstance(events, list) and isinstance(prefixes, dict)
    assert limit is None or len(events) <= limit
    lines = list(read_document(doc, limit))
    assert [line for line, _ in lines] == list(range(1, len(events) + 1))
    for line, event in lines:
        if isinstance(event, LineError):
            assert event.line == line and event.code and event.message
        else:
            kind, _ = _outcome(event, line)
            assert kind in ("event", "error")


def test_the_ledger_channels_agree_on_a_plain_shipment():
    """The example of the properties above, written out: one shipment, three channels, one event."""
    code = batch_code.issue(__import__("random").Random(7))
    rows = [{"event_id": "E1", "event_type": "shipment", "occurred_at": date(2026, 10, 5), "enterprise_id": "",
             "batch_code": batch_code.display(code), "mass_kg": 1250.5, "counterparty_id": "ENT-BPS",
             "doc_no": "WB-1"}]
    raw = {"event_id": "E1", "type": "shipment", "occurred_at": "2026-10-05", "code": code, "mass_kg": 1250.5,
           "to_id": "ENT-BPS", "doc_no": "WB-1"}
    expected = _outcome(raw, 2)
    assert expected[0] == "event" and expected[1]["code"] == code and math.isclose(expected[1]["mass_kg"], 1250.5)
    assert _file_outcomes(events_from_rows(csv_rows(_csv(rows)))) == [expected]
    assert _file_outcomes(events_from_rows(xlsx_rows(_xlsx(rows)))) == [expected]
    assert isinstance(read_event(raw, 2, default_enterprise="ENT-NSM"), Event)
