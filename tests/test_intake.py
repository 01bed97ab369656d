"""Ledger intake through the HTTP API: every event kind, every rejection, every flag, files, duplicates, concurrency."""
import csv
import io
import threading
import uuid
import zipfile
from datetime import datetime, timezone

import pytest
from openpyxl import Workbook

from inspector.codes import batch_code
from inspector.ledger import rollback
from inspector.ledger import submission


SUBMIT = "/api/ledger/submissions"
UPLOAD = "/api/ledger/uploads"
CODE_A = "RE2345678C" + batch_code.check_character("RE2345678C")
CODE_B = "RE3456789D" + batch_code.check_character("RE3456789D")
CODE_C = "RE456789AE" + batch_code.check_character("RE456789AE")
CODE_D = "RE56789ABF" + batch_code.check_character("RE56789ABF")


def ore(event_id, code=None, mass=25000, enterprise="ENT-NSM", day="2026-11-02", reo=55.5, product="bastnaesite_concentrate"):
    out = {"stage": "ore", "product_type": product, "mass_kg": mass, "reo_pct": reo}
    if code:
        out["code"] = code
    return {"event_id": event_id, "type": "production", "enterprise_id": enterprise, "occurred_at": day,
            "outputs": [out]}


def ship(event_id, code, to, frm="ENT-NSM", mass=25000, doc="WB-1", day="2026-11-03"):
    return {"event_id": event_id, "type": "shipment", "enterprise_id": frm, "occurred_at": day, "code": code,
            "mass_kg": mass, "to_id": to, "doc_no": doc}


def receive(event_id, code, frm, to, mass=25000, doc="WB-1", day="2026-11-04"):
    return {"event_id": event_id, "type": "receipt", "enterprise_id": to, "occurred_at": day, "code": code,
            "mass_kg": mass, "from_id": frm, "doc_no": doc}


def counts(db):
    return {name: db[name].count_documents({}) for name in
            ("batches", "movements", "ledger_events", "ledger_undo", "monthly_reports", "production_periods")} | {
        "quota_t": round(sum(u["used_t"] for u in db.quota_usage.find()), 6)}


def post(client, headers, events, **extra):
    return client.post(SUBMIT, headers=headers, json={"events": events, **extra})


def batch(client, headers, code):
    response = client.get(f"/api/batches/{code}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


# -- every event kind --------------------------------------------------------------------------------------------
def test_a_whole_chain_of_events_moves_the_batches_as_the_ledger_says(client, clerks, db):
    insp = clerks["inspector"]
    r = post(client, clerks["ENT-NSM"], [ore("E1", CODE_A), ship("E2", CODE_A, "ENT-BPS")], period="2026-11")
    assert r.status_code == 201, r.json
    assert r.json["accepted"] == 2 and r.json["periods"] == ["2026-11"]
    # Shipped, not yet received: still the sender's, in transit.
    shipped = batch(client, insp, CODE_A)
    assert shipped["batch"]["holder_id"] == "ENT-NSM"
    assert "in_transit" in [r["code"] for r in shipped["verdict"]["reasons"]]

    events = [
        {"event_id": "B1", "type": "receipt", "occurred_at": "2026-11-04", "code": CODE_A, "from_id": "ENT-NSM",
         "doc_no": "WB-1"},
        {"event_id": "B2", "type": "production", "occurred_at": "2026-11-05", "inputs": [{"code": CODE_A, "mass_kg": 25000}],
         "outputs": [{"code": CODE_B, "stage": "compound", "product_type": "prnd_oxide", "mass_kg": 13000, "reo_pct": 99.0}]},
        {"event_id": "B3", "type": "split", "occurred_at": "2026-11-06", "code": CODE_B,
         "outputs": [{"mass_kg": 6000}, {"mass_kg": 7000}]},
    ]
    r = post(client, clerks["ENT-BPS"], events)
    assert r.status_code == 201, r.json
    halves = r.json["issued_codes"]["B3"]
    assert len(halves) == 2
    parent = batch(client, insp, CODE_A)["batch"]
    assert parent["status"] == "transformed" and parent["remaining_kg"] == 0
    assert db.movements.find_one({"batch_code": CODE_A, "doc_no": "WB-1"})["received_at"] is not None
    child = batch(client, insp, halves[0])
    assert child["batch"]["producer_id"] == "ENT-BPS" and child["batch"]["parents"] == [{"code": CODE_B, "mass_kg": 6000}]
    ancestors = {a["code"] for a in child["provenance"]["ancestors"]}
    assert {CODE_A, CODE_B} <= ancestors

    r = post(client, clerks["ENT-BPS"], [
        {"event_id": "B4", "type": "merge", "occurred_at": "2026-11-07",
         "inputs": [{"code": halves[0], "mass_kg": 6000}, {"code": halves[1], "mass_kg": 7000}],
         "outputs": [{"code": CODE_C, "mass_kg": 12990}]},
        {"event_id": "B5", "type": "consumption", "occurred_at": "2026-11-08", "code": CODE_C, "mass_kg": 990},
        ship("B6", CODE_C, "ENT-TPE", frm="ENT-BPS", mass=12000, doc="WB-2", day="2026-11-09")])
    assert r.status_code == 201, r.json
    merged = batch(client, insp, CODE_C)["batch"]
    assert merged["remaining_kg"] == 12000 and merged["holder_id"] == "ENT-BPS"
    assert batch(client, insp, halves[0])["batch"]["status"] == "transformed"

    r = post(client, clerks["ENT-TPE"], [
        {"event_id": "T1", "type": "receipt", "occurred_at": "2026-11-10", "code": CODE_C, "from_id": "ENT-BPS",
         "doc_no": "WB-2"},
        {"event_id": "T2", "type": "export", "occurred_at": "2026-11-11", "code": CODE_C, "licence_no": "EL-2026-1",
         "port": "Tianjin", "destination_country": "DE"},
        {"event_id": "T3", "type": "import", "occurred_at": "2026-11-12", "declaration_no": "CD-2026-9", "port": "Tianjin",
         "origin_country": "MM", "outputs": [{"code": CODE_D, "stage": "ore", "product_type": "ion_adsorption_mixed_oxide",
                                               "mass_kg": 5000, "reo_pct": 90}]}])
    assert r.status_code == 201, r.json
    assert db.movements.find_one({"batch_code": CODE_C, "doc_no": "WB-2"})["received_at"] is not None
    exported = batch(client, insp, CODE_C)
    assert exported["batch"]["status"] == "exported"
    export = db.movements.find_one({"batch_code": CODE_C, "kind": "export"})
    assert export["doc_no"] == "EL-2026-1" and export["to_id"] == "FOREIGN" and export["port"] == "Tianjin"
    imported = db.batches.find_one({"_id": CODE_D})
    assert imported["imported"] and imported["holder_id"] == "ENT-TPE" and imported["origin_country"] == "MM"
    assert db.ledger_events.count_documents({"seeded": {"$ne": True}}) == 11  # besides the seeded histories


def test_production_consumes_quota_and_the_batch_remembers_it(client, clerks, db):
    before = db.quota_usage.find_one({"enterprise_id": "ENT-NSM", "year": 2026, "category": "mining_light"})["used_t"]
    r = post(client, clerks["ENT-NSM"], [ore("Q1", mass=10000, reo=60.0)])
    assert r.status_code == 201, r.json
    code = r.json["issued_codes"]["Q1"][0]
    after = db.quota_usage.find_one({"enterprise_id": "ENT-NSM", "year": 2026, "category": "mining_light"})["used_t"]
    assert after == pytest.approx(before + 6.0)
    stored = db.batches.find_one({"_id": code})
    assert stored["within_quota"] is True and stored["quota_used_t"] == pytest.approx(after, abs=1e-3)
    quota = client.get("/api/enterprises/ENT-NSM/quota?year=2026", headers=clerks["ENT-NSM"]).json
    light = next(c for c in quota["categories"] if c["category"] == "mining_light")
    assert light["used_t"] == pytest.approx(after, abs=0.1)


# -- rejections: the whole submission is refused and nothing is written --------------------------------------------
REJECTIONS = [
    ("unknown_batch", "ENT-NSM", [ship("R1", CODE_A, "ENT-BPS")]),
    ("unknown_enterprise", "ENT-NSM", [ore("R0", CODE_A), ship("R1", CODE_A, "ENT-NOPE")]),
    ("bad_mass", "ENT-NSM", [ore("R1", mass=0)]),
    ("bad_mass", "ENT-NSM", [ore("R1", mass=-5)]),
    ("bad_mass", "ENT-NSM", [ore("R1", mass="heavy")]),
    ("over_holding", "ENT-NSM", [ore("R0", CODE_A), ship("R1", CODE_A, "ENT-BPS", mass=26000)]),
    ("partial_shipment", "ENT-NSM", [ore("R0", CODE_A), ship("R1", CODE_A, "ENT-BPS", mass=20000)]),
    ("future_date", "ENT-NSM", [ore("R1", day="2027-01-05")]),
    ("not_your_enterprise", "ENT-NSM", [ore("R1", enterprise="ENT-BPS")]),
    ("not_your_enterprise", "ENT-BPS", [ship("R1", CODE_A, "ENT-GMT", frm="ENT-NSM")]),
    ("malformed_code", "ENT-NSM", [ship("R1", CODE_A[:-1] + ("2" if CODE_A[-1] != "2" else "3"), "ENT-BPS")]),
    ("code_taken", "ENT-NSM", [ore("R0", CODE_A), ore("R1", CODE_A)]),
    ("bad_field", "ENT-NSM", [{"event_id": "R1", "type": "teleport", "occurred_at": "2026-11-02"}]),
]


@pytest.mark.parametrize("expected, clerk, events", REJECTIONS, ids=[f"{r[0]}-{i}" for i, r in enumerate(REJECTIONS)])
def test_impossible_lines_reject_the_whole_submission_with_a_reason_per_line(client, clerks, db, expected, clerk, events):
    good = [ore("OK-1", mass=1000, enterprise=clerk)]
    before = counts(db)
    r = post(client, clerks[clerk], good + events)
    assert r.status_code == 422, r.json
    receipt = r.json["errors"]["receipt"]
    assert receipt["status"] == "rejected" and receipt["accepted"] == 0
    codes = {e["code"] for e in receipt["errors"]}
    assert expected in codes, receipt["errors"]
    assert all(e["line"] >= 2 for e in receipt["errors"]), "the good first line is not blamed"
    assert all(e["message"] for e in receipt["errors"])
    assert counts(db) == before


def test_a_clerk_may_not_ship_a_batch_another_enterprise_holds(client, clerks, db):
    assert post(client, clerks["ENT-NSM"], [ore("X1", CODE_A)]).status_code == 201
    r = post(client, clerks["ENT-BPS"], [ship("X2", CODE_A, "ENT-GMT", frm="ENT-BPS")])
    assert r.status_code == 422
    error = r.json["errors"]["receipt"]["errors"][0]
    assert error["code"] == "not_your_enterprise" and "held by ENT-NSM" in error["message"]


def test_the_same_event_id_twice_is_a_duplicate_and_stored_once(client, clerks, db):
    events = [ore("D1", CODE_A), ship("D2", CODE_A, "ENT-BPS")]
    assert post(client, clerks["ENT-NSM"], events).status_code == 201
    before = counts(db)
    again = post(client, clerks["ENT-NSM"], events)
    assert again.status_code == 201
    assert again.json["duplicates"] == 2 and again.json["accepted"] == 0
    assert counts(db) == before
    changed = post(client, clerks["ENT-NSM"], [ore("D1", mass=999)])
    assert changed.status_code == 422
    assert changed.json["errors"]["receipt"]["errors"][0]["code"] == "event_id_reused"
    within = post(client, clerks["ENT-NSM"], [ore("D9", mass=5), ore("D9", mass=5)])
    assert within.status_code == 201 and within.json["accepted"] == 1 and within.json["duplicates"] == 1


# -- accepted and flagged -------------------------------------------------------------------------------------------
def scan(client, headers, code):
    r = client.post("/api/scans", headers=headers, json={
        "code": code, "client_id": str(uuid.uuid4()),
        "scanned_at": datetime.now(timezone.utc).isoformat(), "site": {"type": "market", "name": "Ganzhou"}})
    assert r.status_code in (200, 201), r.json
    return {x["code"] for x in r.json["verdict"]["reasons"]}


def test_production_by_a_mine_not_on_the_whitelist_is_kept_and_flagged(client, clerks, db):
    r = post(client, clerks["ENT-RHA"], [ore("F1", CODE_A, enterprise="ENT-RHA", reo=90,
                                          product="ion_adsorption_mixed_oxide")])
    assert r.status_code == 201, r.json
    assert [f["code"] for f in r.json["flags"]] == ["producer_not_approved"]
    assert db.batches.find_one({"_id": CODE_A})
    assert "producer_not_approved" in scan(client, clerks["inspector"], CODE_A)


def test_production_beyond_the_quota_is_kept_and_flagged_over_quota(client, clerks, db):
    r = post(client, clerks["ENT-ERR"], [ore("F2", CODE_A, enterprise="ENT-ERR", mass=1_000_000, reo=90,
                                          product="ion_adsorption_mixed_oxide")])
    assert r.status_code == 201, r.json
    flag = next(f for f in r.json["flags"] if f["code"] == "over_quota")
    assert flag["used_t"] > flag["allocated_t"] > 0
    assert db.batches.find_one({"_id": CODE_A})["within_quota"] is False
    assert "over_quota" in scan(client, clerks["inspector"], CODE_A)


def test_output_beyond_the_recovery_ceiling_is_kept_and_flagged_mass_balance(client, clerks, db):
    assert post(client, clerks["ENT-NSM"], [ore("M0", CODE_A, mass=10000, reo=50), ship("M1", CODE_A, "ENT-BPS",
                                                                                       mass=10000)]).status_code == 201
    r = post(client, clerks["ENT-BPS"], [
        receive("M1R", CODE_A, "ENT-NSM", "ENT-BPS", mass=10000),
        {"event_id": "M2", "type": "production", "occurred_at": "2026-11-05", "inputs": [{"code": CODE_A, "mass_kg": 10000}],
         "outputs": [{"code": CODE_B, "stage": "compound", "product_type": "prnd_oxide", "mass_kg": 6000,
                      "reo_pct": 99}]}])
    assert r.status_code == 201, r.json
    flag = next(f for f in r.json["flags"] if f["code"] == "mass_balance")
    assert flag["output_reo_kg"] == pytest.approx(5940) and flag["input_reo_kg"] == pytest.approx(5000)


def test_a_receipt_with_no_shipment_is_kept_flagged_and_moves_nothing(client, clerks, db):
    assert post(client, clerks["ENT-NSM"], [ore("W0", CODE_A)]).status_code == 201
    r = post(client, clerks["ENT-BPS"], [{"event_id": "W1", "type": "receipt", "occurred_at": "2026-11-04",
                                          "code": CODE_A, "from_id": "ENT-NSM", "doc_no": "WB-404"}])
    assert r.status_code == 201
    assert r.json["flags"][0]["code"] == "receipt_without_shipment"
    assert db.batches.find_one({"_id": CODE_A})["holder_id"] == "ENT-NSM"


# -- quota under concurrency ------------------------------------------------------------------------------------------
def test_twenty_concurrent_productions_use_exactly_their_sum_of_quota(app, clerks, db):
    before = db.quota_usage.find_one({"enterprise_id": "ENT-NSM", "year": 2026, "category": "mining_light"})["used_t"]
    results, headers = [], clerks["ENT-NSM"]

    def produce(i):
        response = app.test_client().post(SUBMIT, headers=headers, json={
            "events": [ore(f"C{i}", mass=1000 + i, reo=50.0)]})
        results.append(response.status_code)

    threads = [threading.Thread(target=produce, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 20
    after = db.quota_usage.find_one({"enterprise_id": "ENT-NSM", "year": 2026, "category": "mining_light"})["used_t"]
    assert after - before == pytest.approx(sum((1000 + i) * 0.5 / 1000 for i in range(20)), abs=1e-9)
    assert db.ledger_events.count_documents({"event_id": {"$regex": "^C"}}) == 20


# -- rollback ---------------------------------------------------------------------------------------------------------
def test_rolling_back_a_submission_restores_batches_quota_and_months(client, clerks, db, app):
    assert post(client, clerks["ENT-NSM"], [ore("K0", CODE_A)]).status_code == 201
    before = counts(db)
    held = db.batches.find_one({"_id": CODE_A})
    r = post(client, clerks["ENT-NSM"], [ship("K1", CODE_A, "ENT-BPS"), ore("K2", mass=8000)], period="2026-10")
    assert r.status_code == 201
    assert counts(db) != before
    rollback.rollback(db, r.json["submission_id"])
    assert counts(db) == before
    assert db.batches.find_one({"_id": CODE_A})["holder_id"] == held["holder_id"]
    assert db.ledger_submissions.find_one({"_id": r.json["submission_id"]})["state"] == "rolled_back"


# -- monthly reports -----------------------------------------------------------------------------------------------------
def test_a_submission_files_its_months_and_an_empty_one_is_a_nil_report(client, clerks, db):
    db.monthly_reports.delete_many({"enterprise_id": "ENT-NSM", "period": {"$in": ["2026-10", "2026-11"]}})
    r = post(client, clerks["ENT-NSM"], [ore("P1", mass=500, day="2026-10-30")])
    assert r.status_code == 201 and r.json["periods"] == ["2026-10"]
    report = db.monthly_reports.find_one({"enterprise_id": "ENT-NSM", "period": "2026-10"})
    assert report["submissions"] == 1 and report["submitted_at"]
    nil = post(client, clerks["ENT-NSM"], [], period="2026-11")
    assert nil.status_code == 201 and nil.json["periods"] == ["2026-11"]
    assert db.monthly_reports.count_documents({"enterprise_id": "ENT-NSM", "period": "2026-11"}) == 1
    assert post(client, clerks["ENT-NSM"], []).status_code == 422


# -- roles and scope ------------------------------------------------------------------------------------------------------
def test_only_enterprises_and_admins_submit_and_receipts_stay_with_their_enterprise(client, clerks):
    assert post(client, clerks["inspector"], [ore("S1")]).status_code == 403
    r = post(client, clerks["ENT-NSM"], [ore("S1", mass=10)])
    sid = r.json["submission_id"]
    assert client.get(f"{SUBMIT}/{sid}", headers=clerks["ENT-NSM"]).json["accepted"] == 1
    assert client.get(f"{SUBMIT}/{sid}", headers=clerks["ENT-BPS"]).status_code == 404
    assert [s["submission_id"] for s in client.get(SUBMIT, headers=clerks["ENT-BPS"]).json] == []
    assert post(client, clerks["ENT-NSM"], [ore("S2")], enterprise_id="ENT-BPS").status_code == 403
    assert post(client, clerks["admin"], [ore("S3", mass=10)]).status_code == 201


# -- files -----------------------------------------------------------------------------------------------------------------
def upload(client, headers, data, name):
    return client.post(UPLOAD, headers=headers, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_templates_download_and_upload_as_they_are(client, clerks, db):
    for name in ("csv", "xlsx"):
        r = client.get(f"/api/ledger/template.{name}", headers=clerks["ENT-NSM"])
        assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
        done = upload(client, clerks["admin"], r.data, f"template.{name}")
        assert done.status_code == 201, done.json
        assert done.json["channel"] == name
    first, second = [s for s in client.get(SUBMIT, headers=clerks["admin"]).json][::-1][:2]
    assert first["accepted"] == 7 and second["duplicates"] == 7


def _csv(rows, header=None, encoding="utf-8"):
    from inspector.ledger.files import COLUMNS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or COLUMNS)
    for row in rows:
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return out.getvalue().encode(encoding)


ORE_ROW = {"event_id": "U1", "event_type": "production", "occurred_at": "2026-11-02", "enterprise_id": "ENT-NSM",
           "line_role": "output", "mass_kg": "1000", "stage": "ore", "product_type": "bastnaesite_concentrate",
           "reo_pct": "55"}


def test_a_csv_with_wrong_headers_is_refused_naming_the_columns(client, clerks, db):
    from inspector.ledger.files import COLUMNS
    r = upload(client, clerks["ENT-NSM"], _csv([ORE_ROW], header=list(COLUMNS[:-1]) + ["colour"]), "l.csv")
    assert r.status_code == 422 and r.json["errors"]["error_code"] == "wrong_headers"
    assert "missing status" in r.json["message"] and "'colour'" in r.json["message"]


def test_gbk_and_utf8_with_bom_are_read(client, clerks, db):
    row = {**ORE_ROW, "event_id": "G1"}
    shipment = {"event_id": "G2", "event_type": "shipment", "occurred_at": "2026-11-03", "enterprise_id": "ENT-NSM",
                "batch_code": CODE_A, "mass_kg": "1000", "counterparty_id": "ENT-BPS", "doc_no": "运单-甲-1"}
    r = upload(client, clerks["ENT-NSM"], _csv([{**row, "batch_code": CODE_A}, shipment], encoding="gbk"), "gbk.csv")
    assert r.status_code == 201, r.json
    assert db.movements.find_one({"batch_code": CODE_A})["doc_no"] == "运单-甲-1"
    bom = b"\xef\xbb\xbf" + _csv([{**ORE_ROW, "event_id": "G3", "doc_no": ""}])
    assert upload(client, clerks["ENT-NSM"], bom, "bom.csv").status_code == 201
    utf16 = _csv([ORE_ROW]).decode().encode("utf-16")
    r = upload(client, clerks["ENT-NSM"], utf16, "u16.csv")
    assert r.status_code == 422 and r.json["errors"]["error_code"] == "bad_encoding"


def test_formula_cells_are_refused_in_csv_and_xlsx(client, clerks, db):
    bad = {**ORE_ROW, "event_id": "=HYPERLINK(\"http://x\")"}
    r = upload(client, clerks["ENT-NSM"], _csv([bad]), "f.csv")
    assert r.status_code == 422
    assert r.json["errors"]["receipt"]["errors"][0]["code"] == "formula_cell"
    from inspector.ledger.files import COLUMNS
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append([ORE_ROW.get(c, "") for c in COLUMNS])
    sheet["G2"] = "=500*2"
    out = io.BytesIO()
    book.save(out)
    r = upload(client, clerks["ENT-NSM"], out.getvalue(), "f.xlsx")
    assert r.status_code == 422
    error = r.json["errors"]["receipt"]["errors"][0]
    assert error["code"] == "formula_cell" and error["line"] == 2 and error["field"] == "mass_kg"


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(client, clerks, db):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 300_000_000 + b"/>")
    r = upload(client, clerks["ENT-NSM"], out.getvalue(), "bomb.xlsx")
    assert r.status_code == 413 and r.json["errors"]["error_code"] == "zip_bomb"
    r = upload(client, clerks["ENT-NSM"], b"PK\x03\x04 not really", "broken.xlsx")
    assert r.status_code == 422 and r.json["errors"]["error_code"] == "bad_xlsx"


def test_a_million_line_upload_is_refused_by_the_documented_limits(client, clerks, db):
    line = b"E,consumption,2026-11-02,ENT-NSM,,RE2345678CX,1,,,,,,,,,\n"
    big = _csv([]) + line * 1_000_000
    r = upload(client, clerks["ENT-NSM"], big, "big.csv")
    assert r.status_code == 413 and r.json["errors"]["error_code"] == "request_too_large"
    assert "MB" in r.json["message"]
    before = counts(db)
    limited = client.application
    limited.config["SETTINGS"] = limited.config["SETTINGS"].with_overrides(intake_max_lines=50)
    rows = [{**ORE_ROW, "event_id": f"L{i}"} for i in range(60)]
    r = upload(client, clerks["ENT-NSM"], _csv(rows), "sixty.csv")
    assert r.status_code == 413 and r.json["errors"]["error_code"] == "too_many_lines"
    assert counts(db) == before


def test_unknown_file_types_and_missing_files_are_refused(client, clerks):
    assert upload(client, clerks["ENT-NSM"], b"%PDF-1.4", "ledger.pdf").status_code == 415
    r = client.post(UPLOAD, headers=clerks["ENT-NSM"], data={}, content_type="multipart/form-data")
    assert r.status_code == 422
    r = upload(client, clerks["ENT-NSM"], b"", "empty.csv")
    assert r.status_code == 422 and r.json["errors"]["error_code"] == "empty_file"


def test_imported_and_merged_lots_are_not_judged_by_the_whitelist_of_whoever_holds_them(client, clerks, db):
    declared = client.post("/api/registry/customs-declarations", headers=clerks["admin"], json={"declarations": [
        {"declaration_no": "CD-1", "declared_on": "2026-11-01", "importer_id": "ENT-GMT", "port": "Xiamen",
         "hs_code": "284690", "net_mass_kg": 900, "origin_country": "LA"}]})
    assert declared.status_code == 201, declared.json
    r = post(client, clerks["ENT-GMT"], [
        {"event_id": "I1", "type": "import", "occurred_at": "2026-11-02", "declaration_no": "CD-1", "port": "Xiamen",
         "origin_country": "LA", "outputs": [{"code": CODE_A, "stage": "compound", "product_type": "prnd_oxide",
                                              "mass_kg": 500, "reo_pct": 99},
                                             {"code": CODE_B, "stage": "compound", "product_type": "prnd_oxide",
                                              "mass_kg": 400, "reo_pct": 98}]},
        {"event_id": "I2", "type": "merge", "occurred_at": "2026-11-03",
         "inputs": [{"code": CODE_A, "mass_kg": 500}, {"code": CODE_B, "mass_kg": 400}],
         "outputs": [{"code": CODE_C, "mass_kg": 900}]}])
    assert r.status_code == 201, r.json
    assert r.json["flags"] == []
    merged = db.batches.find_one({"_id": CODE_C})
    assert merged["reo_pct"] == pytest.approx((500 * 99 + 400 * 98) / 900, abs=1e-3)
    reasons = scan(client, clerks["inspector"], CODE_C)
    assert not {"producer_not_approved", "over_quota", "tainted_lineage"} & reasons


def test_a_submission_left_half_applied_by_a_stopped_process_is_rolled_back_at_the_next_start(client, clerks, db):
    from datetime import datetime, timedelta, timezone

    assert post(client, clerks["ENT-NSM"], [ore("H0", CODE_A)]).status_code == 201
    before = counts(db)
    r = post(client, clerks["ENT-NSM"], [ship("H1", CODE_A, "ENT-BPS"), ore("H2", mass=700)])
    sid = r.json["submission_id"]
    # As if the process had stopped while applying it an hour ago.
    db.ledger_submissions.update_one({"_id": sid}, {"$set": {"state": "applying",
                                                             "received_at": datetime.now(timezone.utc) - timedelta(hours=1)}})
    assert rollback.recover_stalled(db, datetime.now(timezone.utc)) == [sid]
    assert counts(db) == before
    assert db.batches.find_one({"_id": CODE_A})["holder_id"] == "ENT-NSM"


def test_a_receipt_chunks_after_its_shipment_still_confirms_it(client, clerks, db, monkeypatch):
    monkeypatch.setattr(submission, "CHUNK", 2)
    events = [ore("N0", CODE_A), ore("N1", mass=10), ore("N2", mass=10), ship("N3", CODE_A, "ENT-BPS"),
              ore("N4", mass=10), ore("N5", mass=10), ore("N6", mass=10)]
    assert post(client, clerks["admin"], events).status_code == 201
    receipt = {"event_id": "N7", "type": "receipt", "enterprise_id": "ENT-BPS", "occurred_at": "2026-11-04",
               "code": CODE_A, "from_id": "ENT-NSM", "doc_no": "WB-1"}
    r = post(client, clerks["admin"], [ore(f"M{i}", mass=10) for i in range(4)] + [receipt])
    assert r.status_code == 201 and r.json["flags"] == []
    assert db.movements.find_one({"batch_code": CODE_A, "doc_no": "WB-1"})["received_at"] is not None
    same = [ore("S0", CODE_C, mass=10), ship("S1", CODE_C, "ENT-BPS", mass=10, doc="WB-9"), ore("S2", mass=10),
            ore("S3", mass=10), dict(receipt, event_id="S4", code=CODE_C, doc_no="WB-9")]
    r = post(client, clerks["admin"], same)
    assert r.status_code == 201 and r.json["flags"] == []
    assert db.movements.find_one({"batch_code": CODE_C, "doc_no": "WB-9"})["received_at"] is not None
