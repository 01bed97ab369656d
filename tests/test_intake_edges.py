"""Ledger intake at its edges, through the HTTP API: junk input, half-writes, state across events, duplicates, files.

Each test describes what a clerk or supervisor should get; the ones that first failed were fixed in the submission.
"""
import csv
import io
import json
import zipfile
from datetime import date, datetime, timezone

import pytest
from openpyxl import Workbook

from inspector.codes import batch_code
from inspector.ledger import rollback
from inspector.ledger import submission
from inspector.ledger.files import COLUMNS


SUBMIT = "/api/ledger/submissions"
UPLOAD = "/api/ledger/uploads"
WATCHED = ("batches", "movements", "ledger_events", "ledger_undo", "monthly_reports", "production_periods",
           "quota_usage")


def native(body):
    return body + batch_code.check_character(body)


A, B, C = (native(b) for b in ("RE2345678C", "RE3456789D", "RE456789AE"))


def ore(event_id, code=None, mass=1000, enterprise=None, day="2026-11-02", reo=50.0,
        product="bastnaesite_concentrate", gs1=None):
    out = {"stage": "ore", "product_type": product, "mass_kg": mass, "reo_pct": reo}
    if code:
        out["code"] = code
    if gs1:
        out["gs1"] = gs1
    event = {"event_id": event_id, "type": "production", "occurred_at": day, "outputs": [out]}
    if enterprise:
        event["enterprise_id"] = enterprise
    return event


def ship(event_id, code, to, mass=1000, doc="WB-1", day="2026-11-03", enterprise=None, **extra):
    event = {"event_id": event_id, "type": "shipment", "occurred_at": day, "code": code, "mass_kg": mass, "to_id": to,
             "doc_no": doc, **extra}
    if enterprise:
        event["enterprise_id"] = enterprise
    return event


def receipt(event_id, code, frm, doc="WB-1", day="2026-11-04", enterprise=None):
    event = {"event_id": event_id, "type": "receipt", "occurred_at": day, "code": code, "from_id": frm, "doc_no": doc}
    if enterprise:
        event["enterprise_id"] = enterprise
    return event


def post(client, headers, events, **extra):
    return client.post(SUBMIT, headers=headers, json={"events": events, **extra})


def errors_of(response):
    """The per-line errors of a rejected submission."""
    assert response.status_code == 422, response.json
    return response.json["errors"]["receipt"]["errors"]


def snapshot(db):
    """Every document the intake may write, to prove a refused or rolled-back submission left nothing behind."""
    return {name: sorted(db[name].find(), key=lambda d: str(d["_id"])) for name in WATCHED}


def quota_used(db, enterprise, year, category="mining_light"):
    row = db.quota_usage.find_one({"enterprise_id": enterprise, "year": year, "category": category})
    return row["used_t"] if row else 0.0


def upload(client, headers, data, name, **form):
    return client.post(UPLOAD, headers=headers, data={"file": (io.BytesIO(data), name), **form},
                       content_type="multipart/form-data")


def _csv(rows, header=None, encoding="utf-8", delimiter=","):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header or COLUMNS)
    for row in rows:
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return out.getvalue().encode(encoding)


def _xlsx(sheets):
    """A workbook from {sheet title: rows}; the first sheet comes first."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ORE_ROW = {"event_id": "U1", "event_type": "production", "occurred_at": "2026-11-02", "enterprise_id": "ENT-NSM",
           "line_role": "output", "mass_kg": "1000", "stage": "ore", "product_type": "bastnaesite_concentrate",
           "reo_pct": "55"}


# -- junk JSON: always a line error, never a 500, never a write --------------------------------------------------------
def _junk_events():
    """(description, event, expected error code): wrong JSON types anywhere in each kind of event."""
    good_ship = ship("J", A, "ENT-BPS")
    good_merge = {"event_id": "J", "type": "merge", "occurred_at": "2026-11-04",
                  "inputs": [{"code": A, "mass_kg": 10}, {"code": B, "mass_kg": 10}], "outputs": [{"mass_kg": 20}]}
    good_split = {"event_id": "J", "type": "split", "occurred_at": "2026-11-04", "code": A,
                  "outputs": [{"mass_kg": 10}, {"mass_kg": 10}]}

    def output(**changes):
        event = ore("J")
        event["outputs"][0].update(changes)
        return event

    return [
        ("event is text", "hello", "bad_field"),
        ("event is null", None, "schema"),  # refused by the request schema, before any line is read
        ("event is a list", [ore("J")], "bad_field"),
        ("event_id is an object", {**ore("J"), "event_id": {"a": 1}}, "bad_field"),
        ("event_id is a bool", {**ore("J"), "event_id": True}, "bad_field"),
        ("event_id is missing", {**ore("J"), "event_id": None}, "bad_field"),
        ("event_id is 1 MB", {**ore("J"), "event_id": "x" * 1_000_000}, "bad_field"),
        ("type is a list", {**ore("J"), "type": ["production"]}, "bad_field"),
        ("type is a number", {**ore("J"), "type": 5}, "bad_field"),
        ("enterprise_id is a list", {**ore("J"), "enterprise_id": ["ENT-NSM"]}, "bad_field"),
        ("occurred_at is a number", {**ore("J"), "occurred_at": 20261102}, "bad_field"),
        ("occurred_at is a list", {**ore("J"), "occurred_at": ["2026-11-02"]}, "bad_field"),
        ("occurred_at 30 February", {**ore("J"), "occurred_at": "2026-02-30"}, "bad_field"),
        ("occurred_at year 1", {**ore("J"), "occurred_at": "0001-01-01"}, "bad_field"),
        ("occurred_at year 1 UTC", {**ore("J"), "occurred_at": "0001-01-01T12:00:00+00:00"}, "bad_field"),
        ("occurred_at past year 9999", {**ore("J"), "occurred_at": "9999-12-31T23:59:59-14:00"}, "bad_field"),
        ("occurred_at month 13", {**ore("J"), "occurred_at": "2026-13-01"}, "bad_field"),
        ("occurred_at offset +24:00", {**ore("J"), "occurred_at": "2026-11-02T10:00:00+24:00"}, "bad_field"),
        ("occurred_at full-width digits", {**ore("J"), "occurred_at": "２０２６-11-02"}, "bad_field"),
        ("outputs is an object", {**ore("J"), "outputs": ore("J")["outputs"][0]}, "bad_field"),
        ("outputs holds a list", {**ore("J"), "outputs": [["ore"]]}, "bad_field"),
        ("outputs is empty", {**ore("J"), "outputs": []}, "bad_field"),
        ("501 outputs", {**ore("J"), "outputs": ore("J")["outputs"] * 501}, "bad_field"),
        ("mass is a bool", output(mass_kg=True), "bad_mass"),
        ("mass is a list", output(mass_kg=[1000]), "bad_mass"),
        ("mass is an object", output(mass_kg={"kg": 1000}), "bad_mass"),
        ("mass is NaN", output(mass_kg=float("nan")), "bad_mass"),
        ("mass is Infinity", output(mass_kg=float("inf")), "bad_mass"),
        ("mass is -Infinity", output(mass_kg=float("-inf")), "bad_mass"),
        ("mass is the text 1e400", output(mass_kg="1e400"), "bad_mass"),
        ("mass is the text NaN", output(mass_kg="NaN"), "bad_mass"),
        ("mass is -0", output(mass_kg=-0.0), "bad_mass"),
        ("mass beyond any lot", output(mass_kg=2e9), "bad_mass"),
        ("mass with a thousands comma", output(mass_kg="25,000"), "bad_mass"),
        ("reo is NaN", output(reo_pct=float("nan")), "bad_field"),
        ("reo is a bool", output(reo_pct=True), "bad_field"),
        ("reo above 120", output(reo_pct=121), "bad_field"),
        ("stage is an object", output(stage={"ore": 1}), "bad_field"),
        ("product_type with spaces", output(product_type="Bastnaesite Concentrate"), "bad_field"),
        ("quota_category unknown", output(quota_category="mining_heavy"), "bad_field"),
        ("output gs1 is text", output(gs1="06952101140014/LOT"), "bad_field"),
        ("output gs1 gtin is short", output(gs1={"gtin": "123", "lot": "L1"}), "bad_field"),
        ("output gs1 lot is a list", output(gs1={"gtin": "06952101140014", "lot": ["L1"]}), "bad_field"),
        ("output gs1 has lot and serial", output(gs1={"gtin": "06952101140014", "lot": "L", "serial": "S"}),
         "bad_field"),
        ("output gs1 lot too long", output(gs1={"gtin": "06952101140014", "lot": "L" * 21}), "bad_field"),
        ("inputs is a code", {**ore("J"), "inputs": A}, "bad_field"),
        ("inputs holds null", {**ore("J"), "inputs": [None]}, "bad_field"),
        ("input code is a number", {**ore("J"), "inputs": [{"code": 5, "mass_kg": 1}]}, "malformed_code"),
        ("input has no code", {**ore("J"), "inputs": [{"mass_kg": 1}]}, "bad_field"),
        ("shipment code is an object", {**good_ship, "code": {"code": A}}, "bad_field"),
        ("shipment code is a list", {**good_ship, "code": [A]}, "bad_field"),
        ("shipment code typo", {**good_ship, "code": A[:-1] + ("2" if A[-1] != "2" else "3")}, "malformed_code"),
        ("shipment code is RTL text", {**good_ship, "code": "\u202e" + A}, "bad_field"),
        ("shipment mass is text", {**good_ship, "mass_kg": "heavy"}, "bad_mass"),
        ("shipment to_id is nested junk", {**good_ship, "to_id": [[[{}]]]}, "bad_field"),
        ("shipment doc_no is 10,000 chars", {**good_ship, "doc_no": "W" * 10_000}, "bad_field"),
        ("shipment doc_no has a newline", {**good_ship, "doc_no": "WB\n1"}, "bad_field"),
        ("shipment doc_no has NUL", {**good_ship, "doc_no": "WB\x001"}, "bad_field"),
        ("shipment doc_no is a formula", {**good_ship, "doc_no": "=cmd|'/c calc'!A1"}, "formula_cell"),
        ("shipment gs1 is a list", {**good_ship, "code": None, "gs1": ["06952101140014", "L"]}, "bad_field"),
        ("shipment has neither code nor gs1", {**good_ship, "code": None}, "bad_field"),
        ("receipt from_id missing", {**receipt("J", A, "ENT-NSM"), "from_id": None}, "bad_field"),
        ("export without licence", {"event_id": "J", "type": "export", "occurred_at": "2026-11-04", "code": A,
                                    "port": "Tianjin"}, "bad_field"),
        ("import outputs null", {"event_id": "J", "type": "import", "occurred_at": "2026-11-04", "outputs": None,
                                 "declaration_no": "CD-1", "port": "Xiamen", "origin_country": "LA"}, "bad_field"),
        ("consumption status unknown", {"event_id": "J", "type": "consumption", "occurred_at": "2026-11-04",
                                        "code": A, "status": "destroyed"}, "bad_field"),
        ("consumption status a bool", {"event_id": "J", "type": "consumption", "occurred_at": "2026-11-04",
                                       "code": A, "status": True}, "bad_field"),
        ("split output mass is text", {**good_split, "outputs": [{"mass_kg": "abc"}, {"mass_kg": 1}]}, "bad_mass"),
        ("split with one output", {**good_split, "outputs": [{"mass_kg": 10}]}, "bad_field"),
        ("merge with no output", {**good_merge, "outputs": []}, "bad_field"),
        ("merge naming one batch twice", {**good_merge, "inputs": [{"code": A, "mass_kg": 1}] * 2}, "bad_field"),
    ]


def test_wrong_json_types_anywhere_in_an_event_get_a_line_error_and_write_nothing(client, clerks, db):
    assert post(client, clerks["ENT-NSM"], [ore("SETUP-A", A), ore("SETUP-B", B)]).status_code == 201
    before = snapshot(db)
    wrong = []
    for description, event, expected in _junk_events():
        response = post(client, clerks["ENT-NSM"], [event])
        if expected == "schema" and response.status_code == 422 and "json" in response.json["errors"]:
            continue
        if response.status_code != 422 or "receipt" not in response.json["errors"]:
            wrong.append((description, response.status_code, response.json))
            continue
        found = response.json["errors"]["receipt"]["errors"]
        if [(e["code"], e["line"], bool(e["message"])) for e in found] != [(expected, 1, True)]:
            wrong.append((description, found))
    assert wrong == []
    assert snapshot(db) == before


def test_numbers_sent_as_text_are_read_as_numbers(client, clerks, db):
    r = post(client, clerks["ENT-NSM"], [ore("T1", A, mass="1000.50", reo="55.5")])
    assert r.status_code == 201, r.json
    stored = db.batches.find_one({"_id": A})
    assert stored["mass_kg"] == 1000.5 and stored["reo_pct"] == 55.5


@pytest.mark.parametrize("field", ["mass_kg", "reo_pct"])
def test_a_number_too_large_for_a_float_is_a_line_error_not_a_500(client, clerks, db, field):
    event = ore("BIG")
    body = json.dumps({"events": [event]}).replace(f'"{field}": {event["outputs"][0][field]}',
                                                   f'"{field}": 1{"0" * 400}')
    response = client.post(SUBMIT, headers={**clerks["ENT-NSM"], "Content-Type": "application/json"}, data=body)
    assert response.status_code == 422
    assert errors_of(response)[0]["code"] in ("bad_mass", "bad_field")


def test_dates_with_far_offsets_fall_in_their_china_time_month(client, clerks, db):
    # 00:30 on 1 November at +14:00 is 18:30 on 31 October in China.
    r = post(client, clerks["ENT-NSM"], [ore("Z1", mass=10, day="2026-11-01T00:30:00+14:00"),
                                         ore("Z2", mass=10, day="2026-10-31T17:00:00-12:00")])
    assert r.status_code == 201, r.json
    assert r.json["periods"] == ["2026-10", "2026-11"]


@pytest.mark.parametrize("doc_no", ["WB\u20281", "WB\x851", "WB-\u202e1-BW", "WB\u200b1"],
                         ids=["line-separator", "C1-NEL", "bidi-override", "zero-width-space"])
def test_invisible_and_line_breaking_characters_in_text_fields_are_refused(client, clerks, db, doc_no):
    assert post(client, clerks["ENT-NSM"], [ore("V0", A)]).status_code == 201
    response = post(client, clerks["ENT-NSM"], [ship("V1", A, "ENT-BPS", doc=doc_no)])
    assert [e["code"] for e in errors_of(response)] == ["bad_field"]


def test_a_json_client_cannot_set_the_line_numbers_of_its_errors(client, clerks, db):
    event = ore("L1", mass=-1)
    event["outputs"][0]["_line"] = {"spoofed": True}
    response = post(client, clerks["ENT-NSM"], [ore("L0", mass=5), event])
    assert [e["line"] for e in errors_of(response)] == [2]


# -- nothing half-written ----------------------------------------------------------------------------------------------
def test_a_rejected_submission_writes_nothing_and_files_no_month(client, clerks, db):
    db.monthly_reports.delete_many({"enterprise_id": "ENT-NSM", "period": {"$in": ["2026-09", "2026-10", "2026-11"]}})
    assert post(client, clerks["ENT-NSM"], [ore("H0", A)]).status_code == 201
    before = snapshot(db)
    events = [ore("H1", B, mass=5000, day="2026-10-20"), ship("H2", A, "ENT-BPS"), ore("H3", mass=10, day="2026-09-30"),
              ship("H4", B, "ENT-GMT", mass=4000)]  # the last one is a partial shipment
    response = post(client, clerks["ENT-NSM"], events, period="2026-09")
    assert [e["code"] for e in errors_of(response)] == ["partial_shipment"]
    assert response.json["errors"]["receipt"]["periods"] == []
    assert snapshot(db) == before
    stored = db.ledger_submissions.find_one({"_id": response.json["errors"]["receipt"]["submission_id"]})
    assert stored["state"] == "rejected"


def _race_on_the_second_chunk(monkeypatch, db, code):
    """Make another process draw 1 kg from a batch between the check and the write of the second chunk."""
    monkeypatch.setattr(submission, "CHUNK", 2)
    original, calls = submission.Book.flush, []

    def flush(book):
        calls.append(1)
        if len(calls) == 2:
            db.batches.update_one({"_id": code}, {"$inc": {"remaining_kg": -1}})
        return original(book)

    monkeypatch.setattr(submission.Book, "flush", flush)
    return original


RACED = [ore("R2", mass=8000, reo=60), ship("R3", A, "ENT-BPS", doc="WB-R3"), ship("R4", B, "ENT-GMT", doc="WB-R4")]


def _without(state, code):
    return {**state, "batches": [d for d in state["batches"] if d["_id"] != code]}


def test_a_conflict_in_a_later_chunk_rolls_back_the_earlier_chunks_and_can_be_resubmitted(client, clerks, db,
                                                                                          monkeypatch):
    assert post(client, clerks["ENT-NSM"], [ore("R0", A), ore("R1", B)]).status_code == 201
    before = snapshot(db)
    original = _race_on_the_second_chunk(monkeypatch, db, B)
    response = post(client, clerks["ENT-NSM"], RACED, period="2026-11")
    assert response.status_code == 409 and response.json["errors"]["error_code"] == "ledger_conflict"
    assert "Nothing of this submission was stored" in response.json["message"]
    # The first chunk's production (quota, tally, event) and shipment of A are undone; B is the other process's.
    assert _without(snapshot(db), B) == _without(before, B)
    assert db.ledger_submissions.count_documents({"state": "rolled_back"}) == 1
    monkeypatch.setattr(submission.Book, "flush", original)
    db.batches.update_one({"_id": B}, {"$set": {"remaining_kg": 1000.0}})
    again = post(client, clerks["ENT-NSM"], RACED, period="2026-11")
    assert again.status_code == 201 and again.json["accepted"] == 3 and again.json["duplicates"] == 0


def test_rolling_back_after_a_conflict_keeps_what_the_other_process_wrote(client, clerks, db, monkeypatch):
    assert post(client, clerks["ENT-NSM"], [ore("R0", A), ore("R1", B)]).status_code == 201
    _race_on_the_second_chunk(monkeypatch, db, B)
    assert post(client, clerks["ENT-NSM"], RACED).status_code == 409
    assert db.batches.find_one({"_id": B})["remaining_kg"] == pytest.approx(999.0)


def test_recovering_a_stalled_submission_leaves_no_production_tally_behind(client, clerks, db):
    def risk_factors():
        ranked = client.get("/api/risk/enterprises", headers=clerks["supervisor"]).json
        items = ranked["items"] if isinstance(ranked, dict) else ranked
        return next(i["factors"] for i in items if i["enterprise_id"] == "ENT-ERR")

    assert db.production_periods.find_one({"enterprise_id": "ENT-ERR", "period": "2026-11"}) is None
    factors = risk_factors()
    big = ore("O1", mass=1_000_000, reo=90, product="ion_adsorption_mixed_oxide")
    response = post(client, clerks["ENT-ERR"], [big])
    assert response.status_code == 201 and "over_quota" in {f["code"] for f in response.json["flags"]}
    sid = response.json["submission_id"]
    db.ledger_submissions.update_one({"_id": sid}, {"$set": {"state": "applying",
                                                             "received_at": datetime(2026, 1, 1, tzinfo=timezone.utc)}})
    assert rollback.recover_stalled(db, datetime.now(timezone.utc)) == [sid]
    left = db.production_periods.find_one({"enterprise_id": "ENT-ERR", "period": "2026-11"})
    assert left is None or (left["lots"] == 0 and not any((left.get("quota_used_t") or {}).values()))
    # A supervisor must not see an over-quota production that was rolled back.
    assert risk_factors() == factors


# -- state across the events of one submission -------------------------------------------------------------------------
def test_one_submission_ships_receives_produces_splits_ships_a_child_and_exports_it(client, clerks, db):
    events = [
        ore("C1", A, enterprise="ENT-NSM"),
        ship("C2", A, "ENT-BPS", enterprise="ENT-NSM", doc="WB-C2"),
        receipt("C3", A, "ENT-NSM", doc="WB-C2", enterprise="ENT-BPS"),
        {"event_id": "C4", "type": "production", "enterprise_id": "ENT-BPS", "occurred_at": "2026-11-05",
         "inputs": [{"code": A, "mass_kg": 1000}],
         "outputs": [{"code": B, "stage": "compound", "product_type": "prnd_oxide", "mass_kg": 400, "reo_pct": 99}]},
        {"event_id": "C5", "type": "split", "enterprise_id": "ENT-BPS", "occurred_at": "2026-11-06", "code": B,
         "outputs": [{"code": C, "mass_kg": 100}, {"mass_kg": 300}]},
        ship("C6", C, "ENT-TPE", mass=100, doc="WB-C6", day="2026-11-07", enterprise="ENT-BPS"),
        receipt("C7", C, "ENT-BPS", doc="WB-C6", day="2026-11-08", enterprise="ENT-TPE"),
        {"event_id": "C8", "type": "export", "enterprise_id": "ENT-TPE", "occurred_at": "2026-11-09", "code": C,
         "licence_no": "EL-2026-7", "port": "Tianjin", "destination_country": "DE"},
    ]
    response = post(client, clerks["admin"], events)
    assert response.status_code == 201, response.json
    assert response.json["accepted"] == 8 and response.json["flags"] == []
    other_half = response.json["issued_codes"]["C5"][0]
    assert db.batches.find_one({"_id": A})["status"] == "transformed"
    assert db.batches.find_one({"_id": B})["status"] == "transformed"
    child = db.batches.find_one({"_id": C})
    assert (child["status"], child["holder_id"], child["quota_category"]) == ("exported", "ENT-TPE", "separation")
    assert db.batches.find_one({"_id": other_half})["holder_id"] == "ENT-BPS"
    for code, doc_no in ((A, "WB-C2"), (C, "WB-C6")):
        assert db.movements.find_one({"batch_code": code, "doc_no": doc_no})["received_at"] is not None
    assert db.movements.find_one({"batch_code": C, "kind": "export"})["to_id"] == "FOREIGN"


def test_batches_merged_in_their_own_submission_and_consumed_to_zero_can_no_longer_ship(client, clerks, db):
    merge = {"event_id": "G3", "type": "merge", "occurred_at": "2026-11-04",
             "inputs": [{"code": A, "mass_kg": 300}, {"code": B, "mass_kg": 200}],
             "outputs": [{"code": C, "mass_kg": 500}]}
    response = post(client, clerks["ENT-NSM"], [ore("G1", A, mass=300), ore("G2", B, mass=200, reo=60), merge])
    assert response.status_code == 201, response.json
    merged = db.batches.find_one({"_id": C})
    assert merged["reo_pct"] == pytest.approx((300 * 50 + 200 * 60) / 500) and merged["parent_codes"] == [A, B]
    before = snapshot(db)
    use_up = {"event_id": "G4", "type": "consumption", "occurred_at": "2026-11-05", "code": C}
    response = post(client, clerks["ENT-NSM"], [use_up, ship("G5", C, "ENT-BPS", mass=500, day="2026-11-06")])
    assert [(e["line"], e["code"]) for e in errors_of(response)] == [(2, "batch_retired")]
    assert snapshot(db) == before


def test_a_batch_cannot_be_shipped_twice_in_one_submission(client, clerks, db):
    response = post(client, clerks["ENT-NSM"], [ore("S1", A), ship("S2", A, "ENT-BPS", doc="WB-S2"),
                                                 ship("S3", A, "ENT-GMT", doc="WB-S3")])
    found = errors_of(response)
    assert [(e["line"], e["code"]) for e in found] == [(3, "in_transit")]
    assert "in transit from ENT-NSM to ENT-BPS" in found[0]["message"]


def test_a_receipt_by_an_enterprise_the_batch_was_not_shipped_to_is_flagged(client, clerks, db):
    assert post(client, clerks["ENT-NSM"], [ore("W0", A), ship("W1", A, "ENT-BPS", doc="WB-W1")]).status_code == 201
    response = post(client, clerks["ENT-GMT"], [receipt("W2", A, "ENT-NSM", doc="WB-W1")])
    assert response.status_code == 201
    assert [f["code"] for f in response.json["flags"]] == ["receipt_without_shipment"]
    # The shipment to ENT-BPS is still waiting for ENT-BPS's receipt.
    assert db.movements.find_one({"batch_code": A, "doc_no": "WB-W1", "to_id": "ENT-BPS"}).get("received_at") is None


def test_a_receipt_dated_before_the_batch_was_produced_is_refused(client, clerks, db):
    assert post(client, clerks["ENT-NSM"], [ore("B0", A, day="2026-11-10"),
                                            ship("B1", A, "ENT-BPS", day="2026-11-11")]).status_code == 201
    response = post(client, clerks["ENT-BPS"], [receipt("B2", A, "ENT-NSM", day="2026-11-01")])
    assert [e["code"] for e in errors_of(response)] == ["bad_field"]


def test_a_receipt_dated_before_its_shipment_is_refused(client, clerks, db):
    assert post(client, clerks["ENT-NSM"], [ore("B0", A, day="2026-11-02"),
                                            ship("B1", A, "ENT-BPS", day="2026-11-11")]).status_code == 201
    response = post(client, clerks["ENT-BPS"], [receipt("B2", A, "ENT-NSM", day="2026-11-05")])
    assert [e["code"] for e in errors_of(response)] == ["bad_field"]


def test_production_on_new_years_morning_in_china_uses_that_years_quota(client, clerks, db):
    before = {year: quota_used(db, "ENT-NSM", year) for year in (2025, 2026)}
    response = post(client, clerks["ENT-NSM"], [ore("Y1", mass=2000, reo=50, day="2026-01-01T06:00:00+08:00")])
    assert response.status_code == 201 and response.json["periods"] == ["2026-01"]
    assert quota_used(db, "ENT-NSM", 2025) == pytest.approx(before[2025])
    assert quota_used(db, "ENT-NSM", 2026) == pytest.approx(before[2026] + 1.0)


# -- GS1 references ----------------------------------------------------------------------------------------------------
def _nsm_gs1_batch(db):
    return db.batches.find_one({"holder_id": "ENT-NSM", "status": "active", "gs1.lot": {"$exists": True}})


def test_gs1_references_name_inputs_and_shipments_and_a_registered_lot_cannot_be_reused(client, clerks, db):
    stored = _nsm_gs1_batch(db)
    new_lot = {"gtin": stored["gs1"]["gtin"], "lot": "NEW-LOT-1"}
    events = [
        ship("Q1", None, "ENT-BPS", mass=stored["remaining_kg"], doc="WB-Q1", enterprise="ENT-NSM", gs1=stored["gs1"]),
        ore("Q2", gs1=new_lot, enterprise="ENT-NSM"),
        ship("Q3", None, "ENT-BPS", doc="WB-Q3", enterprise="ENT-NSM", gs1={**new_lot, "gtin": new_lot["gtin"][1:]}),
        {"event_id": "Q3R", "type": "receipt", "enterprise_id": "ENT-BPS", "occurred_at": "2026-11-04",
         "gs1": new_lot, "from_id": "ENT-NSM", "doc_no": "WB-Q3"},
        {"event_id": "Q1R", "type": "receipt", "enterprise_id": "ENT-BPS", "occurred_at": "2026-11-04",
         "gs1": stored["gs1"], "from_id": "ENT-NSM", "doc_no": "WB-Q1"},
        {"event_id": "Q4", "type": "production", "enterprise_id": "ENT-BPS", "occurred_at": "2026-11-05",
         "inputs": [{"gs1": new_lot, "mass_kg": 1000}, {"gs1": stored["gs1"], "mass_kg": 100}],
         "outputs": [{"stage": "compound", "product_type": "prnd_oxide", "mass_kg": 400, "reo_pct": 99}]},
    ]
    response = post(client, clerks["admin"], events)
    assert response.status_code == 201, response.json
    made = response.json["issued_codes"]["Q2"][0]
    assert db.batches.find_one({"_id": made})["gs1"] == new_lot
    assert db.batches.find_one({"_id": made})["status"] == "transformed"
    assert db.batches.find_one({"_id": stored["_id"]})["holder_id"] == "ENT-BPS"
    product = db.batches.find_one({"_id": response.json["issued_codes"]["Q4"][0]})
    assert set(product["parent_codes"]) == {made, stored["_id"]}
    for lot in (stored["gs1"], new_lot):
        again = post(client, clerks["ENT-NSM"], [ore("Q5", gs1=lot)])
        assert [e["code"] for e in errors_of(again)] == ["code_taken"]
    twice = post(client, clerks["ENT-NSM"], [ore("Q6", gs1={**new_lot, "lot": "L-2"}),
                                             ore("Q7", gs1={**new_lot, "lot": "L-2"})])
    assert [(e["line"], e["code"]) for e in errors_of(twice)] == [(2, "code_taken")]


def test_an_event_that_named_its_batch_by_gs1_exports_and_captures_again(client, clerks, db):
    stored = _nsm_gs1_batch(db)
    response = post(client, clerks["ENT-NSM"], [ship("X1", None, "ENT-BPS", mass=stored["remaining_kg"], doc="WB-X1",
                                                     gs1=stored["gs1"])])
    assert response.status_code == 201
    history = client.get(f"/api/epcis/batches/{stored['_id']}/history", headers=clerks["admin"])
    assert history.status_code == 200
    assert "GS1|" not in history.get_data(as_text=True)
    again = client.post("/api/epcis/capture", headers={**clerks["admin"], "Content-Type": "application/ld+json"},
                        data=history.data)
    assert again.status_code == 201, again.json
    assert again.json["duplicates"] == len(history.json["epcisBody"]["eventList"]) and again.json["accepted"] == 0


# -- months, nil reports and receipts ----------------------------------------------------------------------------------
def test_an_admins_nil_report_for_an_unknown_enterprise_is_refused(client, clerks, db):
    response = post(client, clerks["admin"], [], period="2026-10", enterprise_id="ENT-NOPE")
    assert response.status_code == 422
    assert db.monthly_reports.count_documents({"enterprise_id": "ENT-NOPE"}) == 0


def test_a_nil_report_for_a_month_that_has_not_begun_is_refused(client, clerks, db):
    response = post(client, clerks["ENT-NSM"], [], period="2027-05")
    assert response.status_code == 422
    assert db.monthly_reports.count_documents({"enterprise_id": "ENT-NSM", "period": "2027-05"}) == 0


def test_an_admin_submission_returns_every_issued_code_when_two_enterprises_share_an_event_id(client, clerks, db):
    response = post(client, clerks["admin"], [ore("SAME", mass=10, enterprise="ENT-NSM"),
                                               ore("SAME", mass=20, enterprise="ENT-CPM")])
    assert response.status_code == 201 and response.json["accepted"] == 2
    issued = [c for entry in response.json["issued"] for c in entry["codes"]]
    assert len(issued) == 2
    assert {(e["enterprise_id"], e["event_id"]) for e in response.json["issued"]} == {("ENT-NSM", "SAME"),
                                                                                    ("ENT-CPM", "SAME")}
    assert {db.batches.find_one({"_id": c})["producer_id"] for c in issued} == {"ENT-NSM", "ENT-CPM"}


def test_an_all_duplicate_resend_after_the_deadline_keeps_the_month_on_time(app, client, clerks, db):
    db.monthly_reports.delete_many({"enterprise_id": "ENT-NSM", "period": "2026-10"})
    events = [ore("M1", A, day="2026-10-20"), ship("M2", A, "ENT-BPS", day="2026-10-21")]
    app.config["CLOCK"] = lambda: datetime(2026, 11, 5, 4, 0, tzinfo=timezone.utc)
    assert post(client, clerks["ENT-NSM"], events).status_code == 201
    filed = db.monthly_reports.find_one({"enterprise_id": "ENT-NSM", "period": "2026-10"})
    app.config["CLOCK"] = lambda: datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
    again = post(client, clerks["ENT-NSM"], events)
    assert again.status_code == 201 and again.json["duplicates"] == 2 and again.json["accepted"] == 0
    assert db.monthly_reports.find_one({"enterprise_id": "ENT-NSM", "period": "2026-10"}) == filed
    report = client.get("/api/reporting/compliance?period=2026-10", headers=clerks["supervisor"]).json
    mine = next(i for i in report["items"] if i["enterprise_id"] == "ENT-NSM")
    assert mine["status"] == "on_time" and mine["submissions"] == 1


# -- duplicates --------------------------------------------------------------------------------------------------------
def test_a_resend_with_other_whitespace_case_and_number_forms_is_all_duplicates(client, clerks, db):
    events = [ore("W1", A), ship("W2", A, "ENT-BPS", doc="WB-77")]
    assert post(client, clerks["ENT-NSM"], events).status_code == 201
    before = snapshot(db)
    spaced = "re " + A[2:6].lower() + "-" + A[6:].lower()
    resent = [{**ore(" W1 ", spaced), "type": " Production ", "occurred_at": "2026-11-02T00:00:00+08:00"},
              {**ship("W2\t", spaced, " ENT-BPS ", mass="1000.000", doc=" WB-77 "), "type": "SHIPMENT",
               "occurred_at": "2026-11-02T16:00:00Z"}]
    response = post(client, clerks["ENT-NSM"], resent)
    assert response.status_code == 201, response.json
    assert (response.json["accepted"], response.json["duplicates"]) == (0, 2)
    assert snapshot(db) == before


def test_event_ids_belong_to_their_enterprise(client, clerks, db):
    for clerk in ("ENT-NSM", "ENT-CPM"):
        response = post(client, clerks[clerk], [ore("SHARED-1", mass=10)])
        assert response.status_code == 201 and response.json["accepted"] == 1, response.json
    for clerk in ("ENT-NSM", "ENT-CPM"):
        response = post(client, clerks[clerk], [ore("SHARED-1", mass=10)])
        assert (response.json["accepted"], response.json["duplicates"]) == (0, 1)
    # A different event under an id only the other enterprise used is new, not "reused".
    response = post(client, clerks["ENT-BPS"], [ship("SHARED-1", A, "ENT-GMT")])
    assert [e["code"] for e in errors_of(response)] == ["unknown_batch"]


def test_the_same_events_sent_as_json_then_as_csv_are_duplicates(client, clerks, db):
    sent = post(client, clerks["ENT-NSM"], [ore("J1", A, reo=55), ship("J2", A, "ENT-BPS", doc="WB-J2")])
    assert sent.status_code == 201
    rows = [{**ORE_ROW, "event_id": "J1", "batch_code": A},
            {"event_id": "J2", "event_type": "shipment", "occurred_at": "2026-11-03", "batch_code": A,
             "mass_kg": "1000", "counterparty_id": "ENT-BPS", "doc_no": "WB-J2"}]
    response = upload(client, clerks["ENT-NSM"], _csv(rows), "resend.csv")
    assert response.status_code == 201, response.json
    assert (response.json["accepted"], response.json["duplicates"]) == (0, 2)


# -- CSV ---------------------------------------------------------------------------------------------------------------
def _production_rows(event_id, code, day="2026-11-02"):
    return {"event_id": event_id, "event_type": "production", "occurred_at": day, "line_role": "output",
            "batch_code": code, "mass_kg": "1000", "stage": "ore", "product_type": "bastnaesite_concentrate",
            "reo_pct": "50"}


def test_a_production_whose_lines_are_split_by_another_event_is_refused(client, clerks, db):
    rows = [_production_rows("P1", A), {**ORE_ROW, "event_id": "P2"}, _production_rows("P1", B)]
    before = snapshot(db)
    response = upload(client, clerks["ENT-NSM"], _csv(rows), "split.csv")
    assert [e["line"] for e in errors_of(response)] == [4]
    assert snapshot(db) == before


def test_two_identical_lines_of_one_production_split_by_another_event_are_not_dropped_as_a_duplicate(client, clerks,
                                                                                                    db):
    lot = {**_production_rows("P1", None), "batch_code": ""}
    before = snapshot(db)
    response = upload(client, clerks["ENT-NSM"], _csv([lot, {**ORE_ROW, "event_id": "P2"}, lot]), "split.csv")
    assert response.status_code == 422, response.json
    assert snapshot(db) == before


def test_a_quoted_newline_ragged_row_nul_byte_and_long_cells_are_line_errors(client, clerks, db):
    rows = [{**ORE_ROW, "event_id": "N1", "product_type": "bastnaesite\nconcentrate"},
            {**ORE_ROW, "event_id": "N2\x00"},
            {**ORE_ROW, "event_id": "N3", "mass_kg": "10\x00"},
            {**ORE_ROW, "event_id": "N4", "doc_no": "x" * 5000},
            {**ORE_ROW, "event_id": "N5"}]
    data = _csv(rows) + b"N6,production\n"
    before = snapshot(db)
    response = upload(client, clerks["ENT-NSM"], data, "odd.csv")
    found = errors_of(response)
    by_id = {e["event_id"]: e for e in found}
    assert by_id["N1"]["code"] == "bad_field" and "control or invisible characters" in by_id["N1"]["message"]
    assert any(e["field"] == "event_id" and "control or invisible characters" in e["message"] for e in found)  # N2 and its NUL
    assert by_id["N3"]["code"] == "bad_mass"
    assert by_id["N4"]["code"] == "bad_field" and "1000 characters" in by_id["N4"]["message"]
    ragged = [e for e in found if "cells" in e["message"]]
    assert len(ragged) == 1 and "2 cells" in ragged[0]["message"]
    assert "N5" not in by_id and len(found) == 5
    assert snapshot(db) == before


def test_a_record_with_a_quoted_newline_is_reported_at_the_line_it_starts_on(client, clerks, db):
    rows = [{**ORE_ROW, "event_id": "N1", "product_type": "bastnaesite\nconcentrate"}]
    response = upload(client, clerks["ENT-NSM"], _csv(rows), "nl.csv")
    assert [e["line"] for e in errors_of(response)] == [2]


def test_a_cell_beyond_the_csv_field_limit_refuses_the_file_clearly(client, clerks, db):
    response = upload(client, clerks["ENT-NSM"], _csv([{**ORE_ROW, "doc_no": "x" * 200_000}]), "huge.csv")
    assert response.status_code == 422 and response.json["errors"]["error_code"] == "bad_csv"
    assert "Line 2" in response.json["message"]


def test_a_semicolon_separated_file_is_refused_as_wrong_headers(client, clerks, db):
    response = upload(client, clerks["ENT-NSM"], _csv([ORE_ROW], delimiter=";"), "excel-de.csv")
    assert response.status_code == 422 and response.json["errors"]["error_code"] == "wrong_headers"


def test_thousands_separators_are_read_and_a_decimal_comma_is_a_clear_number_error(client, clerks, db):
    # Offices write 25,000 (issue 15): read as 25000 kg. A comma that is not between thousands is refused.
    response = upload(client, clerks["ENT-NSM"], _csv([{**ORE_ROW, "mass_kg": "25,0"}]), "comma.csv")
    found = errors_of(response)
    assert [(e["line"], e["code"]) for e in found] == [(2, "bad_number")] and "25,0" in found[0]["message"]
    response = upload(client, clerks["ENT-NSM"], _csv([{**ORE_ROW, "mass_kg": "25,000"}]), "thousands.csv")
    assert response.status_code == 201, response.json


def test_a_header_only_file_with_a_period_is_a_nil_report(client, clerks, db):
    db.monthly_reports.delete_many({"enterprise_id": "ENT-NSM", "period": "2026-10"})
    response = upload(client, clerks["ENT-NSM"], _csv([]), "nil.csv", period="2026-10")
    assert response.status_code == 201 and response.json["periods"] == ["2026-10"]
    assert db.monthly_reports.count_documents({"enterprise_id": "ENT-NSM", "period": "2026-10"}) == 1


def test_a_header_only_file_without_a_period_is_refused_like_an_empty_json_submission(client, clerks, db):
    response = upload(client, clerks["ENT-NSM"], _csv([]), "empty.csv")
    assert response.status_code == 422 and response.json["errors"]["error_code"] == "empty_submission"
    assert db.ledger_submissions.count_documents({"enterprise_id": "ENT-NSM", "state": "accepted",
                                                  "receipt.events": 0}) == 0


def test_trailing_empty_columns_from_a_spreadsheet_export_are_ignored(client, clerks, db):
    line = ",".join(ORE_ROW.get(c, "") for c in COLUMNS)
    data = (",".join(COLUMNS) + ",,\r\n" + line + ",,\r\n").encode()
    response = upload(client, clerks["ENT-NSM"], data, "excel.csv")
    assert response.status_code == 201, response.json


def test_a_gbk_file_whose_first_64_kb_are_ascii_is_read(client, clerks, db):
    rows = [{**ORE_ROW, "event_id": f"F{i:05d}", "mass_kg": "1"} for i in range(800)]
    rows.append({**ORE_ROW, "event_id": "GBK-1", "batch_code": A})
    rows.append({"event_id": "GBK-2", "event_type": "shipment", "occurred_at": "2026-11-03", "batch_code": A,
                 "mass_kg": "1000", "counterparty_id": "ENT-BPS", "doc_no": "运单-甲-1"})
    data = _csv(rows, encoding="gbk")
    assert len(data) > 64 * 1024 and data[:64 * 1024].isascii()
    response = upload(client, clerks["ENT-NSM"], data, "gbk.csv")
    assert response.status_code == 201, response.json
    assert db.movements.find_one({"batch_code": A})["doc_no"] == "运单-甲-1"


def test_the_line_limit_counts_file_lines_not_events(client, clerks, db):
    client.application.config["SETTINGS"] = client.application.config["SETTINGS"].with_overrides(intake_max_lines=5)
    rows = [{**ORE_ROW, "event_id": "ML1", "mass_kg": str(10 + i)} for i in range(8)]
    response = upload(client, clerks["ENT-NSM"], _csv(rows), "long.csv")
    assert response.status_code == 413 and response.json["errors"]["error_code"] == "too_many_lines"


# -- XLSX --------------------------------------------------------------------------------------------------------------
def _row(values):
    return [values.get(c, "") for c in COLUMNS]


def test_an_xlsx_with_real_date_and_number_cells_and_a_notes_sheet_is_read(client, clerks, db):
    first = _row({**ORE_ROW, "event_id": "X1", "batch_code": A})
    first[COLUMNS.index("occurred_at")] = datetime(2026, 11, 2, 9, 30)
    first[COLUMNS.index("mass_kg")] = 25000
    first[COLUMNS.index("reo_pct")] = 55.5
    second = _row({**ORE_ROW, "event_id": "X2", "batch_code": B})
    second[COLUMNS.index("occurred_at")] = date(2026, 11, 3)
    second[COLUMNS.index("mass_kg")] = 1234.5
    data = _xlsx({"ledger": [list(COLUMNS), first, second], "notes": [["Checked by Li Wei"], ["two lots"]]})
    response = upload(client, clerks["ENT-NSM"], data, "ledger.xlsx")
    assert response.status_code == 201, response.json
    assert response.json["accepted"] == 2 and response.json["periods"] == ["2026-11"]
    a, b = db.batches.find_one({"_id": A}), db.batches.find_one({"_id": B})
    assert (a["mass_kg"], a["reo_pct"], b["mass_kg"]) == (25000, 55.5, 1234.5)
    assert a["produced_on"] == datetime(2026, 11, 2, 1, 30, tzinfo=timezone.utc)  # 09:30 China time


def test_ledger_rows_on_a_second_sheet_are_not_silently_left_out(client, clerks, db):
    data = _xlsx({"production": [list(COLUMNS), _row({**ORE_ROW, "event_id": "X1", "batch_code": A})],
                  "shipments": [list(COLUMNS), _row({"event_id": "X2", "event_type": "shipment",
                                                     "occurred_at": "2026-11-03", "batch_code": A, "mass_kg": "1000",
                                                     "counterparty_id": "ENT-BPS", "doc_no": "WB-X2"})]})
    response = upload(client, clerks["ENT-NSM"], data, "two-sheets.xlsx")
    read_both = response.status_code == 201 and response.json["accepted"] == 2
    refused = response.status_code == 422 and db.batches.find_one({"_id": A}) is None
    assert read_both or refused


def test_an_xlsx_with_a_damaged_sheet_is_refused_as_bad_xlsx(client, clerks, db):
    good = _xlsx({"ledger": [list(COLUMNS)] + [_row({**ORE_ROW, "event_id": f"D{i}"}) for i in range(20)]})
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    response = upload(client, clerks["ENT-NSM"], damaged.getvalue(), "damaged.xlsx")
    assert response.status_code == 422 and response.json["errors"]["error_code"] == "bad_xlsx"
