"""Inspection tasks through the HTTP API: made from a recall list, a risk row, a finding; inspectors' own tasks;
scans and findings completing items; progress; ETag concurrency; audit; and the scope attacks (each a clear 4xx)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import gen_user
from finding_helpers import crew, finding_body  # noqa: F401 - the fixture
from recall_helpers import CODES, plant


@pytest.fixture
def planted(db, crew):  # noqa: F811
    plant(db)
    return crew


def _due(days=3):
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


def _make(client, headers, origin, **fields):
    body = {"origin": origin, "due_at": _due(), "assignees": ["inspector"], **fields}
    return client.post("/api/tasks", json=body, headers=headers)


def _scan(client, headers, code):
    body = {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "warehouse", "name": "Ganzhou depot"}}
    r = client.post("/api/scans", json=body, headers=headers)
    assert r.status_code == 201, r.json
    return r.json


def _error(r, status, code=None):
    assert r.status_code == status, r.json
    assert {"code", "status"} <= set(r.json)
    if code:
        assert r.json["errors"]["error_code"] == code


def test_a_recall_list_becomes_one_task_per_holder_of_its_active_batches(client, db, planted):
    r = _make(client, planted["supervisor"], {"type": "recall", "ref": CODES["BAD"]})
    assert r.status_code == 201, r.json
    tasks = {t["enterprise_id"]: t for t in r.json["tasks"]}
    assert set(tasks) == {"ENT-RRS", "ENT-GMT", "ENT-BMM"}
    assert [i["batch_code"] for i in tasks["ENT-GMT"]["items"]] == [CODES["MIX"]]
    assert tasks["ENT-BMM"]["province"] == "Inner Mongolia"
    assert tasks["ENT-GMT"]["progress"] == {"total": 1, "done": 0, "open": 1, "overdue": False}
    assert db.audit_log.count_documents({"action": "task.create"}) == 3


def test_an_inspector_scans_the_batches_of_a_task_and_completes_it(client, db, planted):
    task = _make(client, planted["supervisor"], {"type": "batches", "ref": "ENT-RRS",
                                                  "batch_codes": [CODES["OXB"], CODES["OXA"]]}).json["tasks"][0]
    mine = client.get("/api/tasks/mine", headers=planted["inspector"])
    assert mine.status_code == 200 and [t["id"] for t in mine.json] == [task["id"]]
    assert {i["batch_code"] for i in mine.json[0]["items"]} == {CODES["OXB"], CODES["OXA"]}
    assert client.get("/api/tasks/mine", headers=planted["inspector2"]).json == []
    # Another inspector's scan of the batch does not complete this inspector's item.
    _scan(client, planted["inspector2"], CODES["OXB"])
    assert client.get(f"/api/tasks/{task['id']}", headers=planted["supervisor"]).json["progress"]["done"] == 0
    scan = _scan(client, planted["inspector"], CODES["OXB"])
    body = client.get(f"/api/tasks/{task['id']}", headers=planted["supervisor"]).json
    assert body["progress"] == {"total": 2, "done": 1, "open": 1, "overdue": False}
    item = next(i for i in body["items"] if i["batch_code"] == CODES["OXB"])
    assert item["scan_ids"] == [scan["id"]] and item["status"] == "done"
    finding = client.post("/api/inspections", json=finding_body(enterprise_id="ENT-RRS", batch_codes=[CODES["OXA"]]),
                          headers=planted["inspector"])
    assert finding.status_code == 201, finding.json
    body = client.get(f"/api/tasks/{task['id']}", headers=planted["supervisor"]).json
    assert body["status"] == "done" and body["finding_ids"] == [finding.json["id"]]
    assert client.get("/api/tasks/mine", headers=planted["inspector"]).json == []
    done = client.get("/api/tasks?status=done", headers=planted["supervisor"]).json
    assert [t["id"] for t in done] == [task["id"]]
    assert db.audit_log.count_documents({"action": "task.progress", "target": f"task:{task['id']}"}) == 2


def test_a_finding_and_a_risk_row_become_tasks(client, db, planted):
    finding = client.post("/api/inspections", json=finding_body(enterprise_id="ENT-GMT", batch_codes=[CODES["MIX"]]),
                          headers=planted["inspector2"]).json
    r = _make(client, planted["supervisor"], {"type": "finding", "ref": finding["id"]})
    assert r.status_code == 201, r.json
    assert [i["batch_code"] for i in r.json["tasks"][0]["items"]] == [CODES["MIX"]]
    r = _make(client, planted["supervisor"], {"type": "risk", "ref": "ENT-BMM"}, pool_province="Inner Mongolia",
              assignees=[])
    assert r.status_code == 201, r.json
    pool_task = r.json["tasks"][0]
    assert pool_task["pool"] is True and [i["batch_code"] for i in pool_task["items"]] == [CODES["MAG"]]
    # A pool task is every inspector's until one is assigned; whoever scans it completes it.
    assert pool_task["id"] in {t["id"] for t in client.get("/api/tasks/mine", headers=planted["inspector2"]).json}
    _scan(client, planted["inspector2"], CODES["MAG"])
    assert client.get(f"/api/tasks/{pool_task['id']}", headers=planted["admin"]).json["status"] == "done"


def test_an_inspector_claims_a_pool_task_and_only_one_claim_wins(client, db, planted):
    task = _make(client, planted["supervisor"], {"type": "risk", "ref": "ENT-BMM"}, pool_province="Inner Mongolia",
                 assignees=[]).json["tasks"][0]
    url = f"/api/tasks/{task['id']}/claim"
    etag = client.get(f"/api/tasks/{task['id']}", headers=planted["inspector"]).headers["ETag"]
    _error(client.post(url, headers=planted["inspector"]), 428, "if_match_required")
    won = client.post(url, headers={**planted["inspector"], "If-Match": etag})
    assert won.status_code == 200, won.json
    lost = client.post(url, headers={**planted["inspector2"], "If-Match": etag})
    assert lost.status_code == 404  # no longer in the pool, so no longer theirs to see
    assert [t["id"] for t in client.get("/api/tasks/mine", headers=planted["inspector"]).json] == [task["id"]]
    assert client.get("/api/tasks/mine", headers=planted["inspector2"]).json == []
    _error(client.post(url, headers={**planted["inspector"], "If-Match": won.headers["ETag"]}), 409,
           "not_a_pool_task")
    assert db.audit_log.count_documents({"action": "task.claim"}) == 1


def test_overdue_tasks_and_a_weekly_round(client, db, planted):
    task = _make(client, planted["supervisor"], {"type": "batches", "ref": "ENT-GMT", "batch_codes": [CODES["MIX"]]},
                 repeat_every_days=7).json["tasks"][0]
    db.tasks.update_one({"_id": task["id"]}, {"$set": {"due_at": datetime.now(timezone.utc) - timedelta(hours=1)}})
    overdue = client.get("/api/tasks?overdue=true", headers=planted["supervisor"]).json
    assert [t["id"] for t in overdue] == [task["id"]] and overdue[0]["progress"]["overdue"] is True
    _scan(client, planted["inspector"], CODES["MIX"])
    rounds = client.get("/api/tasks?status=open", headers=planted["supervisor"]).json
    assert len(rounds) == 1 and rounds[0]["previous_id"] == task["id"]
    assert datetime.fromisoformat(rounds[0]["due_at"]) > datetime.now(timezone.utc)


def test_changes_need_the_current_etag(client, db, planted):
    task = _make(client, planted["supervisor"], {"type": "batches", "ref": "ENT-GMT",
                                                  "batch_codes": [CODES["MIX"]]}).json["tasks"][0]
    url = f"/api/tasks/{task['id']}"
    r = client.get(url, headers=planted["supervisor"])
    etag = r.headers["ETag"]
    _error(client.patch(url, json={"due_at": _due(5)}, headers=planted["supervisor"]), 428, "if_match_required")
    _error(client.patch(url, json={"due_at": _due(5)}, headers={**planted["supervisor"], "If-Match": '"forged"'}),
           412, "stale_etag")
    ok = client.patch(url, json={"assignees": ["inspector2"]}, headers={**planted["supervisor"], "If-Match": etag})
    assert ok.status_code == 200, ok.json
    assert ok.headers["ETag"] != etag
    _error(client.patch(url, json={"status": "cancelled"}, headers={**planted["supervisor"], "If-Match": etag}),
           412, "stale_etag")
    assert client.get("/api/tasks/mine", headers=planted["inspector"]).json == []
    assert [t["id"] for t in client.get("/api/tasks/mine", headers=planted["inspector2"]).json] == [task["id"]]
    cancel = client.patch(url, json={"status": "cancelled"}, headers={**planted["supervisor"],
                                                                      "If-Match": ok.headers["ETag"]})
    assert cancel.json["status"] == "cancelled"
    assert db.audit_log.count_documents({"action": "task.change", "target": f"task:{task['id']}"}) == 2
    _error(client.patch(url, json={"status": "done"}, headers={**planted["supervisor"],
                                                                "If-Match": cancel.headers["ETag"]}), 422)


def test_an_inspector_never_reads_someone_elses_task(client, planted):
    task = _make(client, planted["supervisor"], {"type": "batches", "ref": "ENT-GMT",
                                                  "batch_codes": [CODES["MIX"]]}).json["tasks"][0]
    _error(client.get(f"/api/tasks/{task['id']}", headers=planted["inspector2"]), 404, "task_not_found")
    assert client.get(f"/api/tasks/{task['id']}", headers=planted["inspector"]).status_code == 200
    _error(client.get("/api/tasks", headers=planted["inspector"]), 403)
    _error(client.patch(f"/api/tasks/{task['id']}", json={"title": "x"}, headers={**planted["inspector"],
                                                                                   "If-Match": "x"}), 403)
    _error(client.get(f"/api/tasks/{task['id']}", headers=planted["enterprise"]), 403)
    _error(_make(client, planted["inspector"], {"type": "recall", "ref": CODES["BAD"]}), 403)


def test_a_province_limited_supervisor_makes_and_reads_tasks_only_in_their_provinces(client, db, planted, auth):
    user, password = gen_user(db, role="supervisor", provinces=["Jiangxi"])
    jiangxi = auth.headers(user["username"], password)
    theirs = _make(client, planted["supervisor"], {"type": "risk", "ref": "ENT-BMM"}).json["tasks"][0]
    _error(client.get(f"/api/tasks/{theirs['id']}", headers=jiangxi), 404, "task_not_found")
    _error(client.patch(f"/api/tasks/{theirs['id']}", json={"title": "x"}, headers={**jiangxi, "If-Match": "x"}),
           404, "task_not_found")
    _error(_make(client, jiangxi, {"type": "risk", "ref": "ENT-BMM"}), 404, "enterprise_not_found")
    _error(_make(client, jiangxi, {"type": "batches", "ref": "ENT-GMT", "batch_codes": [CODES["MIX"]]},
                 assignees=[], pool_province="Guangdong"), 403, "province_out_of_scope")
    made = _make(client, jiangxi, {"type": "recall", "ref": CODES["BAD"]})
    assert made.status_code == 201, made.json
    assert {t["province"] for t in made.json["tasks"]} == {"Jiangxi"}
    assert {t["province"] for t in client.get("/api/tasks", headers=jiangxi).json} == {"Jiangxi"}


def test_bad_requests_are_422s_not_500s(client, planted):
    h = planted["supervisor"]
    _error(_make(client, h, {"type": "batches", "ref": "ENT-GMT", "batch_codes": ["RE000000000"]}), 422,
           "unknown_batches")
    _error(_make(client, h, {"type": "batches", "ref": "ENT-GMT", "batch_codes": [CODES["MIX"]]},
                 assignees=["supervisor"]), 422, "unknown_inspector")
    _error(_make(client, h, {"type": "batches", "ref": "ENT-GMT", "batch_codes": [CODES["MIX"]]},
                 due_at="2020-01-01T00:00:00+00:00"), 422)
    _error(_make(client, h, {"type": "batches", "ref": "ENT-GMT", "batch_codes": [CODES["MIX"]]}, assignees=[]), 422)
    _error(_make(client, h, {"type": "recall", "ref": "RE000000000"}), 404, "batch_not_found")
    _error(_make(client, h, {"type": "finding", "ref": "nope"}), 404, "finding_not_found")
    _error(_make(client, h, {"type": "nonsense", "ref": "x"}), 422)
    _error(client.get("/api/tasks/nope", headers=h), 404, "task_not_found")


def test_a_retried_scan_links_what_an_interrupted_first_try_did_not(client, db, planted):
    task = _make(client, planted["supervisor"], {"type": "batches", "ref": "ENT-GMT",
                                                  "batch_codes": [CODES["MIX"]]}).json["tasks"][0]
    body = {"code": CODES["MIX"], "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Ganzhou"}}
    first = client.post("/api/scans", json=body, headers=planted["inspector"])
    assert first.status_code == 201
    # As if the process stopped between storing the scan and linking it.
    db.tasks.update_one({"_id": task["id"]}, {"$set": {"status": "open", "items.0.status": "open",
                                                       "items.0.scan_ids": []}})
    again = client.post("/api/scans", json=body, headers=planted["inspector"])
    assert again.status_code == 200
    stored = client.get(f"/api/tasks/{task['id']}", headers=planted["supervisor"]).json
    assert stored["status"] == "done" and stored["items"][0]["scan_ids"] == [first.json["id"]]
    # A third replay changes nothing: no new ETag, no new audit entry.
    before = db.tasks.find_one({"_id": task["id"]})["_etag"]
    client.post("/api/scans", json=body, headers=planted["inspector"])
    assert db.tasks.find_one({"_id": task["id"]})["_etag"] == before
