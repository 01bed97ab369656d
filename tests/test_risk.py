"""Where to inspect next, through the HTTP API: planted evidence moves an enterprise up, with the factor shown."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import gen_enterprise, gen_user
from finding_helpers import act, finding_body
from inspector.clock import CST
from inspector.periods import due_periods


def _ranking(client, headers, **query):
    response = client.get("/api/risk/enterprises", query_string={"limit": 500, **query}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _row(ranking, enterprise_id):
    return next(r for r in ranking["items"] if r["enterprise_id"] == enterprise_id)


def _factor(row, key):
    return next((f for f in row["factors"] if f["factor"] == key), None)


def _weight(ranking, key):
    return next(w["weight"] for w in ranking["weights"] if w["factor"] == key)


def _failing_scan(client, headers, batch):
    """Scan a batch weighing three times its recorded mass: a quantity_mismatch fail."""
    body = {"code": batch["_id"], "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "warehouse", "name": "Risk test warehouse"},
            "observed_mass_kg": round(batch["remaining_kg"] * 3, 1)}
    response = client.post("/api/scans", json=body, headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["verdict"]["status"] == "fail"


@pytest.fixture
def crew(client, seeded, auth):
    return {name: auth.headers(name) for name in ("supervisor", "inspector", "enterprise", "admin")}


def _quiet_producer(db, ranking):
    """An enterprise with nothing against it that holds at least two active batches it made itself."""
    quiet = {r["enterprise_id"] for r in ranking["items"] if r["score"] == 0}
    held = {}
    for b in db.batches.find({"status": "active", "producer_id": {"$in": sorted(quiet)}, "remaining_kg": {"$gt": 0}}):
        if b["holder_id"] == b["producer_id"]:
            held.setdefault(b["producer_id"], []).append(b)
    return next((eid, batches) for eid, batches in sorted(held.items()) if len(batches) >= 2)


def test_failing_scans_and_a_confirmed_finding_move_an_enterprise_up_and_say_why(client, db, crew, app):
    before = _ranking(client, crew["supervisor"])
    eid, batches = _quiet_producer(db, before)
    _failing_scan(client, crew["inspector"], batches[0])
    _failing_scan(client, crew["inspector"], batches[0])  # the same batch again counts once
    _failing_scan(client, crew["inspector"], batches[1])
    after_scans = _ranking(client, crew["supervisor"])
    row = _row(after_scans, eid)
    fails = _factor(row, "fail_verdicts")
    assert fails["count"] == 2
    assert fails["points"] == 2 * _weight(after_scans, "fail_verdicts") == row["score"]
    assert row["top_factor"]["factor"] == "fail_verdicts"
    assert "2 batches it produced or held failed a scan" in row["top_factor"]["text"]
    assert row["rank"] < _row(before, eid)["rank"]

    finding = client.post("/api/inspections", json=finding_body(enterprise_id=eid), headers=crew["inspector"]).json
    assert _factor(_row(_ranking(client, crew["supervisor"]), eid), "confirmed_findings") is None  # not yet confirmed
    assert act(client, crew["supervisor"], finding["id"], "confirm").status_code == 200
    after = _ranking(client, crew["supervisor"])
    row = _row(after, eid)
    assert _factor(row, "confirmed_findings")["count"] == 1
    assert row["score"] == 2 * _weight(after, "fail_verdicts") + _weight(after, "confirmed_findings")
    assert row["rank"] <= _row(after_scans, eid)["rank"] and row["score"] > _row(after_scans, eid)["score"]
    assert [f["points"] for f in row["factors"]] == sorted((f["points"] for f in row["factors"]), reverse=True)
    assert row["top_factor"]["factor"] == row["factors"][0]["factor"]

    # Past the window the scans and the finding no longer count.
    later = datetime.now(timezone.utc) + timedelta(days=after["window_days"] + 1)
    app.config["CLOCK"] = lambda: later
    row = _row(_ranking(client, crew["supervisor"]), eid)
    assert _factor(row, "fail_verdicts") is None and _factor(row, "confirmed_findings") is None


def test_a_production_the_intake_flags_for_mass_balance_counts_against_the_producer(client, db, crew):
    before = _ranking(client, crew["supervisor"])
    batch = next(b for b in db.batches.find({"status": "active", "stage": "compound", "remaining_kg": {"$gt": 100}})
                 if b["holder_id"] == b["producer_id"]
                 and not _factor(_row(before, b["producer_id"]), "mass_balance"))
    producer = batch["producer_id"]
    input_reo = 100.0 * batch["reo_pct"] / 100
    event = {"event_id": f"risk-{uuid.uuid4().hex[:8]}", "type": "production", "enterprise_id": producer,
             "occurred_at": datetime.now(timezone.utc).isoformat(),
             "inputs": [{"code": batch["_id"], "mass_kg": 100.0}],
             "outputs": [{"stage": "metal", "product_type": "prnd_metal", "reo_pct": 116.0,
                          "mass_kg": round(input_reo * 1.5 / 1.16, 1)}]}  # half as much REO again out as in
    receipts = []
    for _ in range(2):  # the second time it is a duplicate, stored once
        response = client.post("/api/ledger/submissions", json={"events": [event], "enterprise_id": producer},
                               headers=crew["admin"])
        assert response.status_code == 201, response.json
        receipts.append(response.json)
    assert [f["code"] for f in receipts[0]["flags"]] == ["mass_balance"] and receipts[1]["duplicates"] == 1
    row = _row(_ranking(client, crew["supervisor"]), producer)
    balance = _factor(row, "mass_balance")
    assert balance["count"] == 1 and balance["periods"] == receipts[0]["periods"]
    assert row["score"] > _row(before, producer)["score"]


def test_every_row_adds_up_and_ranks_by_score(client, crew):
    ranking = _ranking(client, crew["admin"])
    weights = {w["factor"]: w["weight"] for w in ranking["weights"]}
    scores = [r["score"] for r in ranking["items"]]
    assert scores == sorted(scores, reverse=True) and ranking["total"] == len(ranking["items"])
    for row in ranking["items"]:
        assert row["score"] == sum(f["points"] for f in row["factors"])
        for f in row["factors"]:
            assert f["points"] == f["count"] * weights[f["factor"]] and f["count"] > 0
        assert (row["top_factor"] is None) == (row["score"] == 0)
    # The demo history: late reporters, an unapproved mine and a separator out of mass balance show why.
    reasons = {r["top_factor"]["factor"] for r in ranking["items"] if r["top_factor"]}
    assert {"producer_not_approved", "mass_balance"} <= reasons
    late = [r for r in ranking["items"] if _factor(r, "late_reports")]
    assert late and all(_factor(r, "late_reports")["periods"] for r in late)
    top = _ranking(client, crew["admin"], limit=3)["items"]
    assert [r["enterprise_id"] for r in top] == [r["enterprise_id"] for r in ranking["items"][:3]]


def test_a_supervisor_sees_only_their_provinces(client, db, auth, crew):
    user, password = gen_user(db, role="supervisor", provinces=["Jiangxi"])
    jiangxi = auth.headers(user["username"], password)
    ranking = _ranking(client, jiangxi)
    assert ranking["items"] and {r["province"] for r in ranking["items"]} == {"Jiangxi"}
    assert ranking["total"] == db.enterprises.count_documents({"province": "Jiangxi"})
    assert _ranking(client, jiangxi, province="Zhejiang")["items"] == []
    zhejiang = _ranking(client, crew["admin"], province="Zhejiang")
    assert zhejiang["items"] and {r["province"] for r in zhejiang["items"]} == {"Zhejiang"}


def test_only_supervisors_and_admins_see_the_ranking(client, crew):
    assert client.get("/api/risk/enterprises").status_code == 401
    for role in ("inspector", "enterprise"):
        response = client.get("/api/risk/enterprises", headers=crew[role])
        assert response.status_code == 403
        assert response.json["errors"]["error_code"] == "forbidden_role"
    for limit in (0, 501, "many"):
        assert client.get("/api/risk/enterprises", query_string={"limit": limit},
                          headers=crew["supervisor"]).status_code == 422


NOW = datetime(2026, 6, 20, 12, 0, tzinfo=CST)


def test_ledger_flags_count_per_event_and_a_month_tally_only_once(app, client, db, auth):
    """Flagged events count each; a month whose tally also shows the breach does not count again."""
    app.config["CLOCK"] = lambda: NOW
    gen_enterprise(db, "ENT-SEP", name="Overflowing Separation", roles=["separator"], province="Jiangxi")
    gen_enterprise(db, "ENT-OK", name="Balanced Separation", roles=["separator"], province="Jiangxi")
    for eid in ("ENT-SEP", "ENT-OK"):
        for period in due_periods(NOW, 12):
            db.monthly_reports.insert_one({"enterprise_id": eid, "period": period,
                                           "submitted_at": datetime(2020, 1, 1, tzinfo=timezone.utc)})
        db.production_periods.insert_one({"enterprise_id": eid, "period": "2026-04", "output_reo_kg": 90.0,
                                          "input_reo_kg": 100.0, "lots": 1, "quota_used_t": {}})
    db.production_periods.insert_one({"enterprise_id": "ENT-SEP", "period": "2026-06", "output_reo_kg": 130.0,
                                      "input_reo_kg": 100.0, "lots": 2, "quota_used_t": {}})  # 2 events below
    db.production_periods.insert_one({"enterprise_id": "ENT-SEP", "period": "2026-05", "output_reo_kg": 120.0,
                                      "input_reo_kg": 100.0, "lots": 1, "quota_used_t": {}})  # history only

    def event(code, when):
        return {"_id": uuid.uuid4().hex, "enterprise_id": "ENT-SEP", "event_id": uuid.uuid4().hex,
                "type": "production", "occurred_at": when, "flags": [{"code": code, "message": "test"}]}
    db.ledger_events.insert_many([
        event("mass_balance", datetime(2026, 6, 3, tzinfo=CST)),
        event("mass_balance", datetime(2026, 6, 9, tzinfo=CST)),
        event("over_quota", datetime(2026, 6, 9, tzinfo=CST)),
        event("over_quota", datetime(2025, 6, 9, tzinfo=CST))])  # a year ago: outside the window
    user, password = gen_user(db, role="supervisor")
    ranking = _ranking(client, auth.headers(user["username"], password))
    row = _row(ranking, "ENT-SEP")
    balance = _factor(row, "mass_balance")
    assert balance["count"] == 3 and balance["periods"] == ["2026-06", "2026-05"]
    assert _factor(row, "over_quota")["count"] == 1
    assert row["rank"] == 1 and row["top_factor"]["factor"] == "mass_balance"
    assert "3 mass-balance flags" in row["top_factor"]["text"]
    assert _row(ranking, "ENT-OK")["score"] == 0


def test_missing_and_late_reports_count_over_the_last_twelve_due_months(app, client, db, auth):
    app.config["CLOCK"] = lambda: NOW
    gen_enterprise(db, "ENT-LATE", name="Tardy Trading", roles=["trader"], province="Hunan")
    gen_enterprise(db, "ENT-NEW", name="Newcomer Trading", roles=["trader"], province="Hunan",
                   registered_on=datetime(2026, 5, 20, tzinfo=CST))
    due = due_periods(NOW, 12)
    for period in due[2:]:
        db.monthly_reports.insert_one({"enterprise_id": "ENT-LATE", "period": period,
                                       "submitted_at": datetime(2020, 1, 1, tzinfo=timezone.utc)})
    year, month = int(due[1][:4]), int(due[1][5:]) % 12 + 1
    db.monthly_reports.insert_one({"enterprise_id": "ENT-LATE", "period": due[1],
                                   "submitted_at": datetime(year, month, 11, 9, 0, tzinfo=CST)})
    user, password = gen_user(db, role="admin")
    ranking = _ranking(client, auth.headers(user["username"], password))
    row = _row(ranking, "ENT-LATE")
    assert _factor(row, "missing_reports")["periods"] == [due[0]]
    assert _factor(row, "late_reports")["periods"] == [due[1]]
    # Registered in May 2026, the newcomer owes only May (due 10 June), which it never entered.
    assert _factor(_row(ranking, "ENT-NEW"), "missing_reports")["periods"] == ["2026-05"]
