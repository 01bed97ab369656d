"""Properties of the ledger parsers: whatever arrives, they answer with an event or a clear error, never a crash."""
import io
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.codes import batch_code
from inspector.ledger.events import Event, LineError, read_event
from inspector.ledger.files import COLUMNS, FileError, csv_rows, events_from_rows

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.just(10**400) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)
FIELDS = ["event_id", "type", "enterprise_id", "occurred_at", "code", "mass_kg", "to_id", "from_id", "doc_no", "inputs",
          "outputs", "port", "licence_no", "declaration_no", "origin_country", "status", "gs1"]
TYPES = ["production", "shipment", "receipt", "export", "import", "consumption", "split", "merge"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=12), st.sampled_from(TYPES))
def test_any_json_event_reads_as_an_event_or_a_line_error(raw, kind):
    raw.setdefault("type", kind)
    try:
        event = read_event(raw, 7, default_enterprise="ENT-NSM")
    except LineError as error:
        assert error.line == 7 and error.code and error.message
    else:
        assert isinstance(event, Event)
        assert event.payload()["type"] in TYPES


codes = st.builds(lambda body: body + batch_code.check_character(body),
                  st.text(alphabet=batch_code.ALPHABET, min_size=8, max_size=8).map(lambda s: "RE" + s))


@settings(max_examples=200)
@given(codes, st.floats(min_value=0.001, max_value=1e8), st.sampled_from(["ENT-BPS", "ENT-GMT"]))
def test_a_valid_shipment_reads_back_to_what_was_sent(code, kg, to):
    event = read_event({"event_id": "E1", "type": "shipment", "occurred_at": "2026-10-05", "code": code.lower(),
                        "mass_kg": kg, "to_id": to, "doc_no": "WB-1"}, 1, default_enterprise="ENT-NSM")
    assert (event.code, event.to_id, event.enterprise_id) == (code, to, "ENT-NSM")
    assert abs(event.mass_kg - kg) <= 0.0005
    assert event.period == "2026-10"


cells = st.text(alphabet=string.printable + "，。运单\x00\u2028", max_size=12)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cells, min_size=0, max_size=len(COLUMNS) + 2), max_size=8), st.booleans())
def test_any_csv_body_reads_as_events_line_errors_or_one_file_error(rows, gbk):
    text = ",".join(COLUMNS) + "\n" + "\n".join(",".join(r) for r in rows)
    data = text.encode("gb18030" if gbk else "utf-8", errors="replace")
    stream = io.BytesIO(data)
    try:
        for line, item in events_from_rows(csv_rows(stream)):
            assert isinstance(item, (dict, LineError))
            if isinstance(item, dict):
                try:
                    read_event(item, line, default_enterprise="ENT-NSM")
                except LineError as error:
                    assert error.message
    except FileError as error:
        assert error.status in (413, 422) and error.message
