"""A ledger submission whose database went away at its commit: the retry stores it, undoing is done exactly once."""
import random
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import mongomock.collection
import pytest
from pymongo.errors import AutoReconnect

from api.context import db as current_db
from inspector.accounts import users as accounts
from inspector.audit import chain as audit
from inspector.codes import batch_code
from inspector.ledger import rollback
from seed.loader import load
from tests.conftest import make_app, sign_in
from tests.fault_tools import StoreFaults

CLERK_PASSWORD = "clerk-password-1"
TONNES = 1000 * 55.5 / 100 / 1000  # one production of the test: 1,000 kg at 55.5 % REO


@pytest.fixture(scope="module")
def world():
    name = f"test_ledger_faults_{uuid.uuid4().hex}"
    app = make_app(name)
    with app.app_context():
        database = current_db()
    load(database, "small")
    accounts.create_user(database, "clerk-nsm", CLERK_PASSWORD, "enterprise", enterprise_id="ENT-NSM")
    client = app.test_client()
    signed = sign_in(client, "clerk-nsm", CLERK_PASSWORD, "ledger-faults")
    yield SimpleNamespace(client=client, db=database, rng=random.Random(7),
                          heads={"Authorization": f"Bearer {signed['access_token']}"})
    database.client.drop_database(name)


@pytest.fixture
def faults():
    with StoreFaults() as tool:
        yield tool


@pytest.fixture(autouse=True)
def no_remembered_rollbacks():
    rollback._unfinished.clear()
    yield
    rollback._unfinished.clear()


def events(world):
    code = batch_code.issue(world.rng)
    return code, [{"event_id": f"LF-{code}-P", "type": "production", "occurred_at": "2026-11-02",
                   "outputs": [{"code": code, "stage": "ore", "product_type": "bastnaesite_concentrate",
                                "mass_kg": 1000, "reo_pct": 55.5}]},
                  {"event_id": f"LF-{code}-S", "type": "shipment", "occurred_at": "2026-11-03", "code": code,
                   "mass_kg": 1000, "to_id": "ENT-BPS", "doc_no": f"WB-{code}"}]


def send(world, evs):
    return world.client.post("/api/ledger/submissions", json={"events": evs}, headers=world.heads)


def usage(db):
    return db.quota_usage.find_one({"enterprise_id": "ENT-NSM", "year": 2026, "category": "mining_light"})["used_t"]


def commit_step(world, faults):
    """The position of the update that marks a submission accepted, counted in a clean submission."""
    with faults.counting():
        assert send(world, events(world)[1]).status_code == 201
        log = list(faults.log)
    first_audit = next(i for i, n in enumerate(log) if n.startswith("audit_log."))
    return max(i for i, n in enumerate(log[:first_audit]) if n == "ledger_submissions.update_one") + 1


def fail_at_commit(world, faults, evs):
    """Send evs with the database gone from the commit on (so the rollback cannot run either); return the id."""
    k = commit_step(world, faults)
    faults.fail_from(k)
    first = send(world, evs)
    faults.come_back()
    assert first.status_code == 503
    sid = world.db.ledger_submissions.find_one(sort=[("received_at", -1), ("_id", -1)],
                                               filter={"submitted_by": "clerk-nsm", "state": {"$ne": "accepted"}})
    assert sid["state"] == "applying"
    assert world.db.ledger_events.count_documents({"submission_id": sid["_id"]}) == 2  # half-applied leftovers
    return sid["_id"]


def assert_stored(world, code, response, before):
    db = world.db
    assert response.status_code == 201, response.json
    assert response.json["accepted"] == 2 and response.json["duplicates"] == 0
    assert db.batches.find_one({"_id": code})["in_transit"]["to_id"] == "ENT-BPS"
    assert db.ledger_events.count_documents({"event_id": {"$in": [f"LF-{code}-P", f"LF-{code}-S"]}}) == 2
    assert db.movements.count_documents({"batch_code": code}) == 1
    assert usage(db) == pytest.approx(before + TONNES, abs=1e-9)
    again = send(world, events_of(code))
    assert again.status_code == 201 and again.json["duplicates"] == 2 and again.json["accepted"] == 0


def let_the_lease_lapse(monkeypatch):
    """Stand past the lease of every claim taken so far, as a process starting a few minutes later would."""
    later = datetime.now(timezone.utc) + rollback.LEASE + timedelta(seconds=5)
    monkeypatch.setattr(rollback, "_clock", lambda: later)


def events_of(code):
    return [{"event_id": f"LF-{code}-P", "type": "production", "occurred_at": "2026-11-02",
             "outputs": [{"code": code, "stage": "ore", "product_type": "bastnaesite_concentrate",
                          "mass_kg": 1000, "reo_pct": 55.5}]},
            {"event_id": f"LF-{code}-S", "type": "shipment", "occurred_at": "2026-11-03", "code": code,
             "mass_kg": 1000, "to_id": "ENT-BPS", "doc_no": f"WB-{code}"}]


def test_a_retry_after_an_outage_at_the_commit_stores_the_lines(world, faults):
    code, evs = events(world)
    before = usage(world.db) + TONNES  # commit_step stores one clean submission first
    sid = fail_at_commit(world, faults, evs)
    retry = send(world, evs)  # no /readyz in between
    assert_stored(world, code, retry, before)
    assert world.db.ledger_submissions.find_one({"_id": sid})["state"] == "rolled_back"


def test_after_a_restart_the_retry_waits_for_the_lapsed_claim_then_stores_the_lines(world, faults, monkeypatch):
    code, evs = events(world)
    before = usage(world.db) + TONNES
    sid = fail_at_commit(world, faults, evs)
    rollback._unfinished.clear()  # a new worker: nothing in memory knows the first try died
    waiting = send(world, evs)
    assert waiting.status_code == 409, waiting.json
    assert waiting.json["errors"]["error_code"] == "submission_in_progress"
    # Still "applying": a live attempt would be done in moments, so the client is asked back soon, not in 2 minutes.
    assert 0 < int(waiting.headers["Retry-After"]) <= 5
    assert world.db.ledger_submissions.find_one({"_id": sid})["state"] == "applying"
    let_the_lease_lapse(monkeypatch)
    assert_stored(world, code, send(world, evs), before)
    assert world.db.ledger_submissions.find_one({"_id": sid})["state"] == "rolled_back"


def _slow_quota_updates(monkeypatch):
    original = mongomock.collection.Collection.update_one

    def slow(self, *args, **kwargs):
        if self.name in ("quota_usage", "production_periods"):
            time.sleep(0.2)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.Collection, "update_one", slow)


def _together(*calls):
    errors, results = [], []

    def run(call):
        try:
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - the test reports any
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, results


def test_two_concurrent_resumes_give_the_quota_back_once(world, faults, monkeypatch):
    db = world.db
    _, evs = events(world)
    before = usage(db) + TONNES
    sid = fail_at_commit(world, faults, evs)
    assert usage(db) == pytest.approx(before + TONNES, abs=1e-9)  # taken by the half-applied try
    _slow_quota_updates(monkeypatch)
    errors, results = _together(lambda: rollback.resume_rollbacks(db), lambda: rollback.resume_rollbacks(db))
    assert errors == []
    assert sorted(results) == [[], [sid]]
    assert usage(db) == pytest.approx(before, abs=1e-9)
    assert db.ledger_submissions.find_one({"_id": sid})["state"] == "rolled_back"
    assert db.ledger_events.count_documents({"submission_id": sid}) == 0


def test_recovering_stalled_submissions_and_a_resume_undo_one_submission_once(world, faults, monkeypatch):
    db = world.db
    _, evs = events(world)
    before = usage(db) + TONNES
    sid = fail_at_commit(world, faults, evs)
    _slow_quota_updates(monkeypatch)
    an_hour_on = datetime.now(timezone.utc) + timedelta(hours=1)
    errors, _ = _together(lambda: rollback.recover_stalled(db, an_hour_on), lambda: rollback.resume_rollbacks(db))
    assert errors == []
    assert rollback.recover_stalled(db, an_hour_on) == [] and rollback.resume_rollbacks(db) == []
    assert usage(db) == pytest.approx(before, abs=1e-9)
    assert db.ledger_submissions.find_one({"_id": sid})["state"] == "rolled_back"


def test_a_claimant_that_stopped_after_giving_quota_back_is_finished_without_giving_it_back_again(world, faults,
                                                                                                  monkeypatch):
    db = world.db
    _, evs = events(world)
    before = usage(db) + TONNES
    sid = fail_at_commit(world, faults, evs)
    booked = rollback._booked

    def gone(*args):
        raise AutoReconnect("connection closed right after the quota was given back")

    monkeypatch.setattr(rollback, "_booked", gone)
    with pytest.raises(AutoReconnect):
        rollback.resume_rollbacks(db)
    assert usage(db) == pytest.approx(before, abs=1e-9)
    assert db.ledger_submissions.find_one({"_id": sid})["state"] == "rolling_back"
    monkeypatch.setattr(rollback, "_booked", booked)
    rollback._unfinished.clear()  # and the process stopped: the next claimant waits for the claim to lapse
    assert rollback.resume_rollbacks(db) == []
    let_the_lease_lapse(monkeypatch)
    assert rollback.resume_rollbacks(db) == [sid]
    assert usage(db) == pytest.approx(before, abs=1e-9)
    assert db.ledger_submissions.find_one({"_id": sid})["state"] == "rolled_back"
    assert db.ledger_events.count_documents({"submission_id": sid}) == 0


def test_a_claimant_that_stopped_just_before_the_end_leaves_no_marker_behind(world, faults, monkeypatch):
    """It gave quota back and deleted the events, then died: the next claimant cannot rebuild what it marked."""
    db = world.db
    _, evs = events(world)
    before = usage(db) + TONNES
    sid = fail_at_commit(world, faults, evs)
    original = mongomock.collection.Collection.update_one

    def dies_at_the_end(self, spec, update, *args, **kwargs):
        if self.name == "ledger_submissions" and update.get("$set", {}).get("state") == "rolled_back":
            raise AutoReconnect("connection closed before the rollback was marked done")
        return original(self, spec, update, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.Collection, "update_one", dies_at_the_end)
    with pytest.raises(AutoReconnect):
        rollback.resume_rollbacks(db)
    monkeypatch.setattr(mongomock.collection.Collection, "update_one", original)
    assert db.ledger_events.count_documents({"submission_id": sid}) == 0
    assert db.quota_usage.count_documents({"given_back": sid}) >= 1
    rollback._unfinished.clear()  # the process stopped
    let_the_lease_lapse(monkeypatch)
    assert rollback.resume_rollbacks(db) == [sid]
    assert usage(db) == pytest.approx(before, abs=1e-9)
    assert db.ledger_submissions.find_one({"_id": sid})["state"] == "rolled_back"
    for collection in (db.quota_usage, db.production_periods):
        assert collection.count_documents({"given_back": {"$exists": True}}) == 0


def test_an_accepted_submission_keeps_its_audit_entry_when_the_database_goes_at_the_audit_write(world, faults):
    db = world.db
    with faults.counting():
        assert send(world, events(world)[1]).status_code == 201
        log = list(faults.log)
    code, evs = events(world)
    faults.fail_from(log.index("audit_log.insert_one") + 1)
    first = send(world, evs)
    faults.come_back()
    assert first.status_code == 503
    sid = db.ledger_submissions.find_one({"receipt.issued": [], "audit_pending": {"$exists": True}},
                                         sort=[("received_at", -1)])["_id"]
    assert db.batches.count_documents({"_id": code}) == 1  # the submission itself was accepted
    retry = send(world, evs)
    assert retry.status_code == 201 and retry.json["duplicates"] == 2
    for accepted in (sid, retry.json["submission_id"]):
        assert db.audit_log.count_documents({"action": "ledger.submit", "target": {"submission_id": accepted}}) == 1
    assert "audit_pending" not in db.ledger_submissions.find_one({"_id": sid})
    assert audit.verify(db) == []
