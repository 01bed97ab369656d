"""Notifications through the HTTP API: who gets which event in the inbox, marking read, settings, the deadline
sweep, and the attacks (another enterprise's or province's items, others' ids, non-admins on webhooks)."""
from datetime import datetime, timedelta, timezone

import pytest

from conftest import gen_batch
from finding_helpers import act, log_finding, sent_finding
from inspector.notifications import sweep
from notification_helpers import world_fixture

world = world_fixture()


@pytest.fixture
def crew(world):
    world.clear()
    return world


@pytest.fixture
def client(world):
    return world.client


@pytest.fixture
def db(world):
    return world.db


def _inbox(client, headers, **query):
    r = client.get("/api/notifications", headers=headers, query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def _kinds(client, headers):
    """The kinds of the finding items in the inbox (the sweep also finds last month's ledgers missing)."""
    return [i["kind"] for i in _inbox(client, headers) if i["kind"].startswith("finding")]


def _unread(client, headers):
    r = client.get("/api/notifications/unread", headers=headers)
    assert r.status_code == 200, r.json
    return r.json["unread"]


def _error(r, status, code=None):
    assert r.status_code == status, r.json
    assert {"code", "status"} <= set(r.json)
    if code:
        assert r.json["errors"]["error_code"] == code


@pytest.fixture
def limited(crew):
    """Headers of a supervisor limited to Inner Mongolia (the demo finding's enterprise is in Jiangxi)."""
    return crew["sup-im"]


def test_a_sent_finding_reaches_its_enterprise_only_once_and_reads_in_its_language(client, db, crew, limited):
    finding = log_finding(client, crew["inspector"], notes="Seen by Li Wei, stall 14")
    assert act(client, crew["supervisor"], finding["id"], "confirm").status_code == 200
    etag = client.get(f"/api/inspections/{finding['id']}", headers=crew["supervisor"]).headers["ETag"]
    sent = act(client, crew["supervisor"], finding["id"], "send_to_enterprise", etag=etag)
    assert sent.status_code == 200
    # The answer was lost and the phone sends the same request again: nobody is told twice.
    assert act(client, crew["supervisor"], finding["id"], "send_to_enterprise", etag=etag).status_code == 200

    items = _inbox(client, crew["enterprise"])
    assert [i["kind"] for i in items] == ["finding_sent"]
    assert items[0]["link"] == {"type": "finding", "id": finding["id"]}
    assert finding["id"][:8] in items[0]["title"] and sent.json["deadline"][:4] in items[0]["body"]
    assert "Li Wei" not in items[0]["body"] and "stall 14" not in items[0]["body"]
    zh = _inbox(client, crew["enterprise"], lang="zh-CN")[0]
    assert "需要您答复" in zh["title"]
    assert _unread(client, crew["enterprise"]) == 1
    # Another enterprise, a supervisor of another province, and the inspector hear nothing of it.
    for other in (crew["enterprise2"], limited, crew["inspector"], crew["inspector2"]):
        assert _inbox(client, other) == [] and _unread(client, other) == 0
    # Another enterprise marking this item read changes nothing.
    r = client.post("/api/notifications/read", json={"ids": [items[0]["id"]]}, headers=crew["enterprise2"])
    assert r.status_code == 200 and r.json["marked"] == 0
    assert _unread(client, crew["enterprise"]) == 1
    r = client.post("/api/notifications/read", json={"ids": [items[0]["id"]]}, headers=crew["enterprise"])
    assert r.json == {"marked": 1, "unread": 0}
    assert _inbox(client, crew["enterprise"], unread="true") == []
    assert _inbox(client, crew["enterprise"])[0]["read_at"] is not None


def test_the_response_reaches_the_supervisor_who_sent_it_and_the_resolution_the_enterprise_and_inspector(
        client, db, crew, limited):
    jiangxi = crew["sup-jx"]
    finding_id = sent_finding(client, crew)
    assert act(client, crew["enterprise"], finding_id, "respond", comment="The transfer record is attached.",
               response_type="explanation").status_code == 200
    assert [i["kind"] for i in _inbox(client, crew["supervisor"])] == ["finding_responded"]
    # Only the supervisor who worked the case is told, not every supervisor who could see it, nor one elsewhere.
    assert _inbox(client, jiangxi) == [] and _inbox(client, limited) == []
    assert act(client, crew["supervisor"], finding_id, "resolve", outcome="penalty_recommended").status_code == 200
    resolved = [i for i in _inbox(client, crew["enterprise"], lang="fr") if i["kind"] == "finding_resolved"]
    assert len(resolved) == 1 and "sanction recommandée" in resolved[0]["body"]
    assert [i["kind"] for i in _inbox(client, crew["inspector"])] == ["finding_resolved"]
    assert _inbox(client, crew["inspector2"]) == [] and _inbox(client, crew["enterprise2"]) == []


def test_the_sweep_tells_of_deadlines_soon_and_passed_and_of_missing_ledgers_once(world, client, db, crew, limited):
    finding_id = sent_finding(client, crew)
    deadline = db.findings.find_one({"_id": finding_id})["deadline"].replace(tzinfo=timezone.utc)
    settings = world.app.config["SETTINGS"]
    for _ in range(2):  # sweeping twice tells nobody twice
        sweep.sweep(db, settings, deadline - timedelta(days=2))
    assert _kinds(client, crew["enterprise"]) == ["finding_deadline_soon", "finding_sent"]
    sweep.sweep(db, settings, deadline + timedelta(hours=1))
    assert _kinds(client, crew["enterprise"]) == ["finding_overdue", "finding_deadline_soon", "finding_sent"]
    assert _kinds(client, crew["supervisor"]) == ["finding_overdue"]
    assert _kinds(client, limited) == []

    # The ledger: a month not received by the 10th (China time) tells the clerks; three days later, the supervisors.
    db.notifications.delete_many({})
    db.findings.delete_many({})
    on_11th = datetime(2026, 11, 10, 16, 30, tzinfo=timezone.utc)  # 00:30 on the 11th in China
    sweep.sweep(db, settings, datetime(2026, 11, 10, 15, 0, tzinfo=timezone.utc))  # 23:00 on the 10th: still on time
    assert _inbox(client, crew["enterprise"]) == []
    sweep.sweep(db, settings, on_11th)
    clerk = _inbox(client, crew["enterprise"])
    assert [i["kind"] for i in clerk] == ["ledger_missing"] and "2026-10" in clerk[0]["title"]
    assert _inbox(client, crew["supervisor"]) == []
    sweep.sweep(db, settings, on_11th + timedelta(days=4))
    sweep.sweep(db, settings, on_11th + timedelta(days=5))
    escalated = [i for i in _inbox(client, limited) if i["kind"] == "ledger_missing_escalated"]
    assert escalated and all("Inner Mongolia" in i["body"] for i in escalated)
    assert not any("Ganzhou" in i["title"] for i in escalated)  # ENT-GMT is in Jiangxi
    assert len(_inbox(client, crew["enterprise"])) == 1


def test_a_task_tells_its_inspectors_and_a_receipt_claim_the_supervisors_of_its_province(client, db, crew, limited):
    due = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    code = gen_batch(db, stage="ore", producer_id="ENT-NSM", produced_on=datetime(2026, 10, 1, tzinfo=timezone.utc))["_id"]
    r = client.post("/api/tasks", headers=crew["supervisor"], json={
        "origin": {"type": "batches", "ref": "ENT-NSM", "batch_codes": [code]}, "due_at": due,
        "assignees": ["inspector"]})
    assert r.status_code == 201, r.json
    mine = _inbox(client, crew["inspector"])
    assert [i["kind"] for i in mine] == ["task_assigned"] and mine[0]["link"]["id"] == r.json["tasks"][0]["id"]
    assert _inbox(client, crew["inspector2"]) == []

    r = client.post("/api/ledger/submissions", headers=crew["clerk-bps"], json={"events": [
        {"event_id": "W1", "type": "receipt", "occurred_at": "2026-11-04", "code": code, "from_id": "ENT-NSM",
         "doc_no": "WB-404"}]})
    assert r.status_code == 201, r.json["errors"]["receipt"]["errors"]
    claims = [i for i in _inbox(client, limited) if i["kind"] == "receipt_claim"]
    assert len(claims) == 1 and "WB-404" in claims[0]["body"]
    assert [i["kind"] for i in _inbox(client, crew["supervisor"])] == ["receipt_claim"]
    assert _inbox(client, crew["sup-jx"]) == []
    assert _inbox(client, crew["enterprise"]) == []


def test_settings_are_checked_and_kept_per_user(client, crew):
    r = client.get("/api/notifications/settings", headers=crew["enterprise"])
    assert r.status_code == 200 and r.json["email"] is None and "finding_sent" in r.json["kinds"]
    assert "finding_responded" not in r.json["kinds"]
    _error(client.put("/api/notifications/settings", json={"email": "not an address"}, headers=crew["enterprise"]),
           422, "invalid_notification_settings")
    _error(client.put("/api/notifications/settings", json={"email_kinds": ["finding_responded"]},
                      headers=crew["enterprise"]), 422, "invalid_notification_settings")
    _error(client.put("/api/notifications/settings", json={"mode": "hourly"}, headers=crew["enterprise"]), 422)
    r = client.put("/api/notifications/settings", json={"email": "clerk@gmt.example.com", "mode": "digest",
                                                        "language": "id"}, headers=crew["enterprise"])
    assert r.status_code == 200 and (r.json["email"], r.json["mode"], r.json["language"]) == (
        "clerk@gmt.example.com", "digest", "id")
    assert client.get("/api/notifications/settings", headers=crew["enterprise2"]).json["email"] is None


def test_only_administrators_register_webhooks_and_bad_ones_are_refused(client, crew):
    body = {"url": "https://erp.example.com/hook", "enterprise_id": "ENT-GMT"}
    for who in ("enterprise", "supervisor", "inspector"):
        _error(client.post("/api/notifications/webhooks", json=body, headers=crew[who]), 403)
        _error(client.get("/api/notifications/webhooks", headers=crew[who]), 403)
    admin = crew["admin"]
    _error(client.post("/api/notifications/webhooks", json={**body, "url": "ftp://x.example.com/a"}, headers=admin),
           422, "invalid_webhook")
    _error(client.post("/api/notifications/webhooks", json={**body, "province": "Jiangxi"}, headers=admin), 422)
    _error(client.post("/api/notifications/webhooks", json={"url": body["url"], "province": "Atlantis"},
                       headers=admin), 422)
    _error(client.post("/api/notifications/webhooks", json={**body, "enterprise_id": "ENT-NOPE"}, headers=admin),
           422, "unknown_enterprise")
    _error(client.post("/api/notifications/webhooks", json={**body, "secret": "short"}, headers=admin), 422)
    r = client.post("/api/notifications/webhooks", json=body, headers=admin)
    assert r.status_code == 201 and len(r.json["secret"]) >= 16
    listed = client.get("/api/notifications/webhooks", headers=admin).json
    assert [h["id"] for h in listed] == [r.json["id"]] and "secret" not in listed[0]
    _error(client.get("/api/notifications/webhooks/WH-nope/deliveries", headers=admin), 404, "webhook_not_found")
    assert client.delete(f"/api/notifications/webhooks/{r.json['id']}", headers=admin).status_code == 204
    assert client.get("/api/notifications/webhooks", headers=admin).json[0]["active"] is False


def test_the_inbox_needs_a_sign_in(client):
    _error(client.get("/api/notifications"), 401)
    _error(client.post("/api/notifications/read", json={"all": True}), 401)


def test_the_cli_sweep_runs(world, crew):
    result = world.app.test_cli_runner().invoke(args=["notifications", "sweep"])
    assert result.exit_code == 0, result.output
    assert "findings: 0" in result.output


def test_a_queued_scan_judged_otherwise_than_the_phone_showed_tells_its_inspector_once(client, crew):
    import random
    import uuid

    from inspector.codes import batch_code

    at = datetime.now(timezone.utc).isoformat()

    def scan(shown, client_id=None):
        body = {"code": batch_code.issue(random.Random(7)), "client_id": client_id or str(uuid.uuid4()),
                "scanned_at": at, "site": {"type": "market", "name": "Stall 3"},
                "shown_status": shown, "queued_ms": 1000}
        r = client.post("/api/scans", json=body, headers=crew["inspector"])
        assert r.status_code in (200, 201), r.json
        return body["client_id"], r.json["verdict"]["status"]

    client_id, verdict = scan("pass")
    assert verdict == "fail"  # an unregistered code
    scan("pass", client_id)  # the phone sends it again after a lost answer
    scan("fail")  # what the phone showed was right: nothing to say
    items = _inbox(client, crew["inspector"], lang="fr")
    assert [(i["kind"], i["link"]) for i in items] == [("scan_verdict_differs", {"type": "scan", "id": client_id})]
    assert "CONFORME" in items[0]["body"] and "NON CONFORME" in items[0]["title"]
    assert _inbox(client, crew["inspector2"]) == [] and _inbox(client, crew["supervisor"]) == []
    bad = client.post("/api/scans", headers=crew["inspector"], json={
        "code": "RE2345678C", "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
        "site": {"type": "market", "name": "Stall 3"}, "shown_status": "maybe"})
    _error(bad, 422, "invalid_scan")
