"""A scan costs the same few MongoDB round trips at every lineage depth, counted by a wrapper on the database handle
(bench/roundtrips.py), through the HTTP API; the reads folded into one aggregation still complete the task it checks."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bench.roundtrips import CountingDatabase, Counter
from conftest import gen_batch
from finding_helpers import crew  # noqa: F401 - the fixture
from inspector.store import connection as store
from recall_helpers import CODES, plant

# Session, the batch with its lineage, movements, sightings, claims, enterprises and tasks (one aggregation), the
# scan, its audit entry, the audit head, and the scan's promise cleared.
ROUND_TRIPS = 6


@pytest.fixture
def counted(db, crew, monkeypatch):  # noqa: F811
    plant(db)
    # Six more generations on the magnet, so the deepest scan walks nine levels to the mine.
    parent = CODES["MAG"]
    for _ in range(6):
        parent = gen_batch(db, stage="magnet", producer_id="ENT-NHM", mass_kg=100.0, parents=[(parent, 100.0)])["_id"]
    counter = Counter()
    counting = CountingDatabase(db, counter)
    monkeypatch.setattr(store, "database", lambda settings, name=None: counting)
    return crew, counter, parent


def _scan(client, headers, code):
    body = {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "warehouse", "name": "Ganzhou depot"},
            "location": {"lat": 25.85, "lon": 114.93, "accuracy_m": 12}}
    r = client.post("/api/scans", json=body, headers=headers)
    assert r.status_code == 201, r.json
    return r.json


def test_a_scan_costs_the_same_six_round_trips_at_every_lineage_depth(client, counted):
    crew, counter, deepest = counted
    headers = crew["inspector"]
    by_depth = {}
    for code in (CODES["GOOD"], CODES["OX"], CODES["OXA"], CODES["MET"], CODES["MIX"], deepest):
        counter.reset()
        scan = _scan(client, headers, code)
        by_depth[scan["provenance"]["depth"]] = (counter.count, counter.calls)
    assert sorted(by_depth) == [0, 1, 2, 3, 4, 9]
    assert {count for count, _ in by_depth.values()} == {ROUND_TRIPS}, by_depth
    # No query per ancestor: one aggregation on batches, whatever the depth.
    assert all(calls.count("batches.aggregate") == 1 and not any(c.startswith("enterprises") for c in calls)
               for _, calls in by_depth.values()), by_depth


def test_the_scan_still_completes_the_task_it_checks_with_no_extra_read(client, counted):
    crew, counter, _ = counted
    due = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    made = client.post("/api/tasks", json={"origin": {"type": "batches", "ref": "ENT-RRS", "batch_codes": [CODES["OXB"]]},
                                           "due_at": due, "assignees": ["inspector"]}, headers=crew["supervisor"])
    assert made.status_code == 201, made.json
    task_id = made.json["tasks"][0]["id"]
    counter.reset()
    _scan(client, crew["inspector"], CODES["OXB"])
    # The task's update and its audit entry are the only additions: the open tasks came with the batch.
    assert "tasks.find" not in counter.calls and counter.calls.count("tasks.update_one") == 1, counter.calls
    task = client.get(f"/api/tasks/{task_id}", headers=crew["supervisor"]).json
    assert task["status"] == "done" and task["progress"]["done"] == 1


def test_a_holder_written_as_a_field_path_is_an_unknown_enterprise_not_the_batchs_holder(client, db, counted):
    # The holder the inspector saw goes into the aggregation as a $literal: "$holder_id" must not name the holder.
    crew, _, _ = counted
    before = db.scans.count_documents({})
    body = {"code": CODES["MIX"], "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Ganzhou"}, "holder_enterprise_id": "$holder_id"}
    r = client.post("/api/scans", json=body, headers=crew["inspector"])
    assert r.status_code == 422 and r.json["errors"]["error_code"] == "unknown_enterprise", r.json
    assert db.scans.count_documents({}) == before
