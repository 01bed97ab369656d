"""Trace and recall through the HTTP API on a planted lineage: the source found, every reached batch with its
share (checked against hand-computed figures), the holders; exports; and the scope attacks, each a clear 4xx."""
import csv
import io
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings as hyp_settings, strategies as st
from openpyxl import load_workbook

from conftest import gen_user
from finding_helpers import crew  # noqa: F401 - the fixture
from inspector.oversight.recall import shares
from recall_helpers import CODES, EXPECTED, plant


@pytest.fixture
def planted(db, crew):  # noqa: F811
    plant(db)
    return crew


def _limited(db, auth, provinces):
    user, password = gen_user(db, role="supervisor", provinces=provinces)
    return auth.headers(user["username"], password)


def test_trace_finds_the_illegal_ore_with_its_reasons_and_share(client, planted):
    r = client.get(f"/api/trace/batches/{CODES['MIX']}", headers=planted["supervisor"])
    assert r.status_code == 200, r.json
    body = r.json
    assert [s["code"] for s in body["sources"]] == [CODES["BAD"]]
    source = body["sources"][0]
    assert source["reasons"][0]["code"] == "producer_not_approved"
    assert source["reasons"][0]["evidence"]["producer_id"] == "ENT-RHA"
    assert source["share_pct"] == pytest.approx(6.0)
    assert body["tainted_pct"] == pytest.approx(6.0)
    assert body["status"] == "fail"
    nodes = {n["code"]: n for n in body["graph"]["nodes"]}
    assert set(nodes) == {CODES[k] for k in ("MIX", "MET", "CLEAN", "OXA", "OX", "BAD", "GOOD")}
    assert nodes[CODES["MIX"]]["generation"] == 0 and nodes[CODES["BAD"]]["generation"] == 4
    assert nodes[CODES["GOOD"]]["approved_on_production_date"] is True
    assert nodes[CODES["BAD"]]["approved_on_production_date"] is False
    edges = {(e["from"], e["to"]): e["mass_kg"] for e in body["graph"]["edges"]}
    assert edges[(CODES["BAD"], CODES["OX"])] == 1000.0 and edges[(CODES["MET"], CODES["MIX"])] == 600.0
    assert len(edges) == 6


def test_a_clean_batch_traces_to_no_source(client, planted):
    body = client.get(f"/api/trace/batches/{CODES['CLEAN']}", headers=planted["admin"]).json
    assert body["sources"] == [] and body["status"] == "pass" and body["tainted_pct"] == 0


def test_recall_from_the_source_gives_every_share_against_hand_computed_figures(client, planted):
    r = client.get(f"/api/recall/{CODES['BAD']}", headers=planted["supervisor"])
    assert r.status_code == 200, r.json
    body = r.json
    rows = {row["code"]: row for row in body["items"]}
    assert set(rows) == {CODES[k] for k in EXPECTED}
    for name, (taint, share, holder) in EXPECTED.items():
        row = rows[CODES[name]]
        assert row["taint_pct"] == pytest.approx(taint, abs=1e-3), name
        assert row["source_share_pct"] == pytest.approx(share, abs=1e-3), name
        assert row["holder_id"] == holder, name
    assert rows[CODES["MAG"]]["province"] == "Inner Mongolia" and rows[CODES["MIX"]]["province"] == "Jiangxi"
    assert rows[CODES["OXB"]]["tainted_remaining_kg"] == pytest.approx(150.0)
    assert rows[CODES["MIX"]]["location"] == {"lat": 25.84, "lon": 114.94}
    assert body["summary"]["active"] == 3 and body["summary"]["holders"] == 4
    assert json.loads(r.headers["X-Pagination"])["total"] == 6
    shares_in_order = [row["taint_pct"] for row in body["items"]]
    assert shares_in_order == sorted(shares_in_order, reverse=True)


def test_recall_filters_sorts_and_pages(client, planted):
    h = planted["supervisor"]
    active = client.get(f"/api/recall/{CODES['BAD']}?status=active&sort=code", headers=h).json["items"]
    assert [r["code"] for r in active] == sorted([CODES["OXB"], CODES["MIX"], CODES["MAG"]])
    inner = client.get(f"/api/recall/{CODES['BAD']}?province=Inner%20Mongolia", headers=h).json["items"]
    assert [r["code"] for r in inner] == [CODES["MAG"]]
    held = client.get(f"/api/recall/{CODES['BAD']}?holder_id=ENT-RRS", headers=h).json["items"]
    assert len(held) == 3
    low = client.get(f"/api/recall/{CODES['BAD']}?min_taint_pct=7", headers=h).json["items"]
    assert CODES["MIX"] not in {r["code"] for r in low} and len(low) == 5
    page = client.get(f"/api/recall/{CODES['BAD']}?page=2&page_size=4&sort=code", headers=h)
    assert len(page.json["items"]) == 2 and json.loads(page.headers["X-Pagination"])["page"] == 2
    assert client.get(f"/api/recall/{CODES['BAD']}?sort=nonsense", headers=h).status_code == 422


def test_recall_shows_where_each_batch_was_last_scanned(client, planted):
    scan = {"code": CODES["MIX"], "client_id": "0b5c1a8e-8f77-4c4e-9a43-4f4c5b7e2d11",
            "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Ganzhou market"}, "location": {"lat": 25.8, "lon": 114.9}}
    assert client.post("/api/scans", json=scan, headers=planted["inspector"]).status_code == 201
    rows = {r["code"]: r for r in client.get(f"/api/recall/{CODES['BAD']}", headers=planted["admin"]).json["items"]}
    assert rows[CODES["MIX"]]["last_scan"]["site"]["name"] == "Ganzhou market"
    assert rows[CODES["MIX"]]["last_scan"]["verdict"] == "fail"
    assert rows[CODES["MAG"]]["last_scan"] is None
    scan_id = client.get("/api/scans", headers=planted["inspector"]).json[0]["id"]
    traced = client.get(f"/api/trace/scans/{scan_id}", headers=planted["supervisor"]).json
    assert traced["traces"][0]["sources"][0]["code"] == CODES["BAD"]


def test_recall_exports_as_csv_xlsx_and_geojson(client, planted):
    h = planted["supervisor"]
    r = client.get(f"/api/recall/{CODES['BAD']}/export?format=csv", headers=h)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert len(rows) == 6 and {row["code"] for row in rows} == {CODES[k] for k in EXPECTED}
    assert float(next(x for x in rows if x["code"] == CODES["MIX"])["taint_pct"]) == pytest.approx(6.0)
    assert rows[0]["produced_on_utc"][4] == "-" and len(rows[0]["produced_on_china"]) == 19
    r = client.get(f"/api/recall/{CODES['BAD']}/export?format=xlsx", headers=h)
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sheet["A1"].value == "code" and sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert sheet.max_row == 7
    r = client.get(f"/api/recall/{CODES['BAD']}/export?format=geojson&status=active", headers=h)
    features = json.loads(r.data)["features"]
    assert len(features) == 3
    mag = next(f for f in features if f["id"] == CODES["MAG"])
    assert mag["geometry"] == {"type": "Point", "coordinates": [109.85, 40.65]}
    r = client.get(f"/api/recall/{CODES['BAD']}/export?format=epcis", headers=h)
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    assert json.loads(r.data)["type"] == "EPCISDocument"


def test_the_epcis_export_carries_the_ledger_events_of_the_reached_batches(client, db, planted):
    for n, code in enumerate((CODES["OX"], CODES["MAG"], CODES["CLEAN"])):
        db.ledger_events.insert_one({"_id": f"EV{n}", "enterprise_id": "ENT-RRS", "event_id": f"E{n}",
                                     "type": "shipment", "occurred_at": datetime(2026, 11, n + 1),
                                     "recorded_at": datetime(2026, 11, n + 1), "codes": [code],
                                     "payload": {"type": "shipment", "event_id": f"E{n}", "enterprise_id": "ENT-RRS",
                                                 "occurred_at": "2026-11-0%d" % (n + 1), "code": code,
                                                 "mass_kg": 10.0, "to_id": "ENT-GMT", "doc_no": f"WB-{n}"}})
    r = client.get(f"/api/recall/{CODES['BAD']}/export?format=epcis", headers=planted["supervisor"])
    assert r.status_code == 200, r.data[:500]
    events = json.loads(r.data)["epcisBody"]["eventList"]
    assert len(events) == 2  # the clean metal is not in the recall


# -- scope: every attack a clear 4xx in the error shape ---------------------------------------------------------------

def _error(r, status, code=None):
    assert r.status_code == status, r.json
    assert set(r.json) >= {"code", "status"} and ("message" in r.json or "errors" in r.json)
    if code:
        assert r.json["errors"]["error_code"] == code


def test_an_enterprise_never_sees_another_enterprises_recall(client, planted):
    _error(client.get(f"/api/recall/{CODES['BAD']}", headers=planted["enterprise2"]), 404, "batch_not_found")
    _error(client.get(f"/api/recall/{CODES['OX']}/export", headers=planted["enterprise"]), 404, "batch_not_found")
    _error(client.get(f"/api/trace/batches/{CODES['MIX']}", headers=planted["enterprise"]), 403)


def test_an_enterprise_reads_the_recall_of_its_own_batch_and_only_its_holdings(client, db, planted, auth):
    user, password = gen_user(db, role="enterprise", enterprise_id="ENT-RRS")
    h = auth.headers(user["username"], password)
    body = client.get(f"/api/recall/{CODES['OX']}", headers=h).json
    assert {r["holder_id"] for r in body["items"]} == {"ENT-RRS"} and body["hidden"] == 3


def test_inspectors_work_through_tasks_not_recalls(client, planted):
    _error(client.get(f"/api/recall/{CODES['BAD']}", headers=planted["inspector"]), 403)
    _error(client.get(f"/api/trace/batches/{CODES['BAD']}", headers=planted["inspector"]), 403)


def test_a_province_limited_supervisor_stays_in_their_provinces(client, db, planted, auth):
    far = _limited(db, auth, ["Guangdong"])
    _error(client.get(f"/api/recall/{CODES['BAD']}", headers=far), 404, "batch_not_found")
    _error(client.get(f"/api/trace/batches/{CODES['MIX']}", headers=far), 404, "batch_not_found")
    near = _limited(db, auth, ["Jiangxi"])
    body = client.get(f"/api/recall/{CODES['BAD']}", headers=near).json
    assert CODES["MAG"] not in {r["code"] for r in body["items"]} and body["hidden"] == 1


def test_unknown_ids_are_404s(client, planted):
    h = planted["supervisor"]
    _error(client.get("/api/recall/RE000000000", headers=h), 404, "batch_not_found")
    _error(client.get("/api/trace/scans/nope", headers=h), 404, "scan_not_found")
    _error(client.get("/api/trace/findings/nope", headers=h), 404, "finding_not_found")
    _error(client.get(f"/api/recall/{CODES['BAD']}/export?format=pdf", headers=h), 422)


# -- the property: shares never exceed 100% and add up over splits and merges ---------------------------------------

@st.composite
def lineages(draw):
    """A random DAG of batches below one source: each child draws some mass from earlier batches."""
    n = draw(st.integers(1, 12))
    batches = [{"_id": "S", "mass_kg": draw(st.floats(1, 1e4)), "parents": []}]
    for i in range(n):
        picks = draw(st.lists(st.integers(0, len(batches) - 1), min_size=1, max_size=3, unique=True))
        parents = [{"code": batches[j]["_id"], "mass_kg": draw(st.floats(0.1, 1e4))} for j in picks]
        if draw(st.booleans()):  # a clean outside feed merged in
            parents.append({"code": f"X{i}", "mass_kg": draw(st.floats(0.1, 1e4))})
        batches.append({"_id": f"B{i}", "mass_kg": draw(st.floats(1, 1e4)), "parents": parents})
    # A parent never gives more than its mass: scale each parent's draws to at most its mass.
    given_out = {}
    for b in batches[1:]:
        for p in b["parents"]:
            given_out[p["code"]] = given_out.get(p["code"], 0) + p["mass_kg"]
    mass = {b["_id"]: b["mass_kg"] for b in batches}
    for b in batches[1:]:
        for p in b["parents"]:
            if p["code"] in mass and given_out[p["code"]] > mass[p["code"]]:
                p["mass_kg"] *= mass[p["code"]] / given_out[p["code"]]
    for b in batches:
        b["parent_codes"] = [p["code"] for p in b["parents"]]
    return batches


@hyp_settings(max_examples=150, deadline=None)
@given(lineages())
def test_shares_stay_within_100_percent_and_add_up(batches):
    source, reached = batches[0], batches[1:]
    found = shares(source, reached)
    by_code = {b["_id"]: b for b in batches}
    assert set(found) == {b["_id"] for b in reached}
    for code, (taint, drawn) in found.items():
        assert -1e-9 <= taint <= 1 + 1e-9
        assert drawn <= source["mass_kg"] * (1 + 1e-6)
    # What each batch passes on to its children never exceeds what it drew (mass is conserved along splits).
    drawn = {c: kg for c, (_, kg) in found.items()} | {"S": source["mass_kg"]}
    for code, b in by_code.items():
        passed = sum(drawn[code] * p["mass_kg"] / b["mass_kg"] for child in reached for p in child["parents"]
                     if p["code"] == code)
        assert passed <= drawn[code] * (1 + 1e-6) + 1e-9
    # A merge's taint is the mass-weighted mean of its feeds.
    for child in reached:
        fed = sum(p["mass_kg"] for p in child["parents"])
        expected = sum(p["mass_kg"] * (1.0 if p["code"] == "S" else found.get(p["code"], (0.0, 0))[0])
                       for p in child["parents"]) / fed
        assert found[child["_id"]][0] == pytest.approx(min(expected, 1.0), rel=1e-9, abs=1e-12)


def test_a_finding_traces_each_batch_it_names(client, planted):
    from finding_helpers import finding_body
    finding = client.post("/api/inspections", headers=planted["inspector"], json=finding_body(
        enterprise_id="ENT-BMM", batch_codes=[CODES["MAG"], "RE000000000"])).json
    r = client.get(f"/api/trace/findings/{finding['id']}", headers=planted["supervisor"])
    assert r.status_code == 200, r.json
    assert [t["code"] for t in r.json["traces"]] == [CODES["MAG"]]
    assert r.json["traces"][0]["sources"][0]["code"] == CODES["BAD"]
    assert r.json["traces"][0]["tainted_pct"] == pytest.approx(10.0)


def test_a_recall_is_four_reads_and_a_trace_two_whatever_the_lineage(db, planted):
    from bench.roundtrips import CountingDatabase, Counter
    from inspector.oversight import recall, trace
    counter = Counter()
    counting = CountingDatabase(db, counter)
    assert len(recall.reach(counting, CODES["BAD"])["rows"]) == 6
    assert counter.count == 4, counter.calls
    counter.reset()
    assert trace.trace(counting, CODES["MIX"])["sources"][0]["code"] == CODES["BAD"]
    assert counter.count == 2, counter.calls
