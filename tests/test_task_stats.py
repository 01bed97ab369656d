"""Task statistics through the HTTP API: a recall's progress (by status, overdue, items, per province), in scope only,
and the role and input attacks answered with a clear 4xx."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import gen_user
from finding_helpers import crew  # noqa: F401 - the fixture
from recall_helpers import CODES, plant


@pytest.fixture
def recalled(client, db, crew):  # noqa: F811
    """The planted recall sent out (one task per holder), one of its tasks done by a scan, one made overdue."""
    plant(db)
    due = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    r = client.post("/api/tasks", json={"origin": {"type": "recall", "ref": CODES["BAD"]}, "due_at": due,
                                        "assignees": ["inspector"]}, headers=crew["supervisor"])
    assert r.status_code == 201, r.json
    tasks = {t["enterprise_id"]: t for t in r.json["tasks"]}
    scan = {"code": CODES["MIX"], "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Ganzhou"}}
    assert client.post("/api/scans", json=scan, headers=crew["inspector"]).status_code == 201
    db.tasks.update_one({"_id": tasks["ENT-BMM"]["id"]},
                        {"$set": {"due_at": datetime.now(timezone.utc) - timedelta(days=1)}})
    other = client.post("/api/tasks", json={"origin": {"type": "risk", "ref": "ENT-BMM"}, "due_at": due,
                                            "assignees": ["inspector2"]}, headers=crew["supervisor"])
    assert other.status_code == 201, other.json
    return crew, tasks


def test_a_recalls_progress_counts_its_tasks_by_status_overdue_and_province(client, recalled):
    crew, tasks = recalled
    r = client.get(f"/api/tasks/stats?origin_ref={CODES['BAD']}", headers=crew["supervisor"])
    assert r.status_code == 200, r.json
    body = r.json
    assert body["total"] == 3 and body["by_status"] == {"open": 2, "done": 1, "cancelled": 0}
    assert body["overdue"] == 1
    assert body["items"] == sum(len(t["items"]) for t in tasks.values()) and body["items_done"] == 1
    by = {p["province"]: p for p in body["provinces"]}
    assert by["Jiangxi"]["done"] == 1 and by["Inner Mongolia"]["overdue"] == 1
    everything = client.get("/api/tasks/stats", headers=crew["supervisor"]).json
    assert everything["total"] == 4  # the risk task too


def test_a_province_limited_supervisor_counts_only_their_provinces(client, db, recalled, auth):
    crew, _ = recalled
    user, password = gen_user(db, role="supervisor", provinces=["Jiangxi"])
    jiangxi = auth.headers(user["username"], password)
    body = client.get(f"/api/tasks/stats?origin_ref={CODES['BAD']}", headers=jiangxi).json
    assert body["total"] == 2 and [p["province"] for p in body["provinces"]] == ["Jiangxi"]
    assert body["by_status"]["done"] == 1 and body["overdue"] == 0  # the overdue one is in Inner Mongolia
    # Asking for another province by name gives nothing of it, not its counts.
    assert client.get("/api/tasks/stats?province=Inner%20Mongolia", headers=jiangxi).json["total"] == 0


@pytest.mark.parametrize("who", ["inspector", "enterprise"])
def test_inspectors_and_enterprises_may_not_read_task_stats(client, recalled, who):
    crew, _ = recalled
    r = client.get("/api/tasks/stats", headers=crew[who])
    assert r.status_code == 403 and {"code", "status", "message"} <= set(r.json)
    assert client.get("/api/tasks/stats").status_code == 401


def test_forged_stats_filters_are_422s(client, recalled):
    crew, _ = recalled
    for query in ("status=lost", "overdue=maybe", "origin_ref=" + "X" * 65):
        r = client.get("/api/tasks/stats?" + query, headers=crew["supervisor"])
        assert r.status_code == 422, (query, r.json)
    r = client.get("/api/tasks?origin_ref=" + CODES["BAD"], headers=crew["supervisor"])
    assert r.status_code == 200 and len(r.json) == 3  # the list takes the same filter
