"""Attacks on a scan's time and place: a phone's clock and GPS are its owner's word, so the server checks them."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import gen_batch, gen_enterprise, gen_user

BAOTOU = {"lat": 40.6574, "lon": 109.8403, "accuracy_m": 8.0}
GANZHOU = {"lat": 25.8412, "lon": 114.9396, "accuracy_m": 8.0}


def body(code, when=None, **extra):
    when = when or datetime.now(timezone.utc)
    return {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": when.isoformat(),
            "site": {"type": "market", "name": "Attack market"}, **extra}


def codes(verdict):
    return [r["code"] for r in verdict["reasons"]]


@pytest.fixture
def staff(db, auth):
    """Sign-in headers for inspectors made on demand, each on its own device."""
    made = {}

    def headers(name, role="inspector", **fields):
        if name not in made:
            user, password = gen_user(db, f"{name}-{uuid.uuid4().hex[:4]}", role=role, **fields)
            made[name] = auth.headers(user["username"], password, device_id=f"phone-{name}")
        return made[name]
    return headers


@pytest.fixture
def batch(db):
    return gen_batch(db, stage="magnet", produced_on=datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3))


def test_a_scan_dated_1900_is_refused(client, staff, batch, db):
    r = client.post("/api/scans", json=body(batch["_id"], datetime(1900, 1, 1, tzinfo=timezone.utc)),
                    headers=staff("ann"))
    assert r.status_code == 422, r.json
    assert r.json["errors"]["error_code"] == "scan_too_old" and r.json["errors"]["field"] == "scanned_at"
    assert db.scans.count_documents({}) == 0


def test_a_scan_dated_before_its_batch_was_made_is_refused(client, staff, batch, db):
    r = client.post("/api/scans", json=body(batch["_id"], datetime.now(timezone.utc) - timedelta(days=5)),
                    headers=staff("ann"))
    assert r.status_code == 422, r.json
    assert r.json["errors"]["error_code"] == "before_batch"
    assert db.scans.count_documents({}) == 0


def test_a_scan_two_hours_ahead_of_the_server_is_refused(client, staff, batch):
    r = client.post("/api/scans", json=body(batch["_id"], datetime.now(timezone.utc) + timedelta(hours=2)),
                    headers=staff("ann"))
    assert r.status_code == 422, r.json
    assert r.json["errors"]["error_code"] == "clock_ahead"


@pytest.mark.parametrize("location", [None, {"lat": GANZHOU["lat"], "lon": GANZHOU["lon"]}],
                         ids=["no-location", "no-accuracy"])
def test_a_scan_that_cannot_be_placed_says_the_clone_check_was_not_done(client, staff, batch, location):
    client.post("/api/scans", json=body(batch["_id"], location=BAOTOU), headers=staff("ann"))
    r = client.post("/api/scans", json=body(batch["_id"], location=location), headers=staff("bob"))
    assert r.status_code == 201, r.json
    verdict = r.json["verdict"]
    assert "cloned_code" not in codes(verdict)
    assert [(c["check"], c["reason"]) for c in verdict["checks_not_done"]] == [
        ("cloned_code", "no_location" if location is None else "no_accuracy")]


@pytest.mark.parametrize("wait", [{}, {"queued_ms": 0}], ids=["wait-unreported", "sent-live"])
def test_a_backdated_scan_cannot_hide_a_planted_clone(client, staff, batch, wait):
    """The planted copy is scanned in Ganzhou while the real lot is in Baotou; its scan is dated 30 hours back."""
    client.post("/api/scans", json=body(batch["_id"], location=BAOTOU), headers=staff("ann"))
    backdated = datetime.now(timezone.utc) - timedelta(hours=30)
    r = client.post("/api/scans", json=body(batch["_id"], backdated, location=GANZHOU, **wait), headers=staff("mole"))
    assert r.status_code == 201, r.json
    expected = "disagrees" if wait else "unverified"
    assert r.json["time_check"]["status"] == expected
    assert "cloned_code" not in codes(r.json["verdict"])
    assert [(c["check"], c["reason"]) for c in r.json["verdict"]["checks_not_done"]] == [
        ("cloned_code", f"time_{expected}")]


def test_a_scan_whose_time_disagrees_with_its_wait_fails_no_honest_scan(client, staff, batch):
    """A forged sighting dated an hour back in Baotou, though the phone sent it at once, is not a clone's other half."""
    forged = body(batch["_id"], datetime.now(timezone.utc) - timedelta(hours=1), location=BAOTOU, queued_ms=0)
    assert client.post("/api/scans", json=forged, headers=staff("mole")).json["time_check"]["status"] == "disagrees"
    honest = client.post("/api/scans", json=body(batch["_id"], location=GANZHOU, queued_ms=0), headers=staff("ann"))
    assert "cloned_code" not in codes(honest.json["verdict"])
    assert honest.json["cloned_with"] == []


def test_one_forged_far_away_scan_is_named_and_ranks_its_inspector_for_review(client, staff, db):
    jiangxi = gen_enterprise(db, province="Jiangxi")
    lot = gen_batch(db, stage="magnet", holder_id=jiangxi["_id"])
    forged = client.post("/api/scans", json=body(lot["_id"], location=BAOTOU), headers=staff("mole"))
    for name in ("ann", "bob", "cat"):
        r = client.post("/api/scans", json=body(lot["_id"], location=GANZHOU), headers=staff(name))
        reason = next(x for x in r.json["verdict"]["reasons"] if x["code"] == "cloned_code")
        ev = reason["evidence"]
        assert ev["other_scan_id"] == forged.json["id"]
        assert ev["other_inspector"].startswith("mole-") and ev["other_device_id"] == "phone-mole"
        assert ev["inspector"].startswith(f"{name}-") and ev["device_id"] == f"phone-{name}"

    ranking = client.get("/api/risk/inspectors", headers=staff("sup", role="supervisor"))
    assert ranking.status_code == 200, ranking.json
    top = ranking.json["items"][0]
    assert top["inspector"].startswith("mole-") and top["clone_hits"] == 3 and top["counterparts"] == 3
    assert forged.json["id"] in top["scan_ids"]
    assert all(row["counterparts"] == 1 for row in ranking.json["items"][1:])

    elsewhere = client.get("/api/risk/inspectors", headers=staff("far", role="supervisor", provinces=["Guangdong"]))
    assert elsewhere.status_code == 200 and elsewhere.json["items"] == []
    assert client.get("/api/risk/inspectors", headers=staff("ann")).status_code == 403
