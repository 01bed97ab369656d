"""MongoDB going away in the middle of requests: clean 503s, nothing left half-written, and recovery without a restart.

The embedded store is made to fail through tests/fault_tools.StoreFaults: everything while "down", or every operation
from the k-th on. For each write, a clean run counts its operations, then the write is failed at each of them in turn.
"""
import io
import os
import random
import socket
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from api import create_app
from api.context import db as current_db
from inspector.accounts import users as accounts
from seed import users as demo_users
from inspector.audit import chain as audit
from inspector.codes import batch_code
from seed.loader import load
from tests.conftest import TEST_SECRET, make_app, sign_in
from tests.fault_tools import StoreFaults, TcpProxy
from tests.finding_helpers import finding_body, photo

GANZHOU = {"lat": 25.8412, "lon": 114.9396, "accuracy_m": 8.0}
BAOTOU = {"lat": 40.6574, "lon": 109.8403, "accuracy_m": 8.0}
CLERK_PASSWORD = "clerk-password-1"


def _sign_in(client, username, password="demo", device_id=None):
    tokens = sign_in(client, username, password, device_id or f"faults-{username}")
    return {"Authorization": f"Bearer {tokens['access_token']}"}, tokens


@pytest.fixture(scope="module")
def world():
    """One seeded app for the module (seeding and signing in per test would cost more than the tests)."""
    name = f"test_faults_{uuid.uuid4().hex}"
    app = make_app(name)
    with app.app_context():
        database = current_db()
    load(database, "small")
    demo_users.ensure_demo_users(database)
    accounts.create_user(database, "clerk-nsm", CLERK_PASSWORD, "enterprise", enterprise_id="ENT-NSM")
    client = app.test_client()
    heads = {}
    for user in ("inspector", "supervisor", "admin"):
        heads[user], tokens = _sign_in(client, user)
    heads["clerk"], _ = _sign_in(client, "clerk-nsm", CLERK_PASSWORD)
    case = next(c for c in database.demo_cases.find({}, {"_id": 0}) if c.get("expected_status") == "pass"
                or "clean" in (c.get("description") or "").lower())
    yield SimpleNamespace(app=app, db=database, client=client, heads=heads, refresh=tokens["refresh_token"],
                          code=case["code"])
    database.client.drop_database(name)


@pytest.fixture
def faults():
    with StoreFaults() as tool:
        yield tool


def assert_unavailable(response):
    """The house answer to an outage: 503, Retry-After, flask-smorest's shape, and no trace of the internals."""
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True)[:300])
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["code"] == 503 and body["status"] and body["message"]
    assert body["errors"]["error_code"] == "database_unavailable"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "fault injected" not in text


def scan_body(code, location, **extra):
    return {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Fault market"}, "location": location, **extra}


def jpeg(seed):
    rng = random.Random(seed)
    return photo(color=(rng.randrange(256), rng.randrange(256), rng.randrange(256)), size=(96, 64))


# -- every kind of request while the store is down ---------------------------------------------------------------

def test_every_kind_of_request_answers_503_while_the_store_is_down_and_200_once_it_is_back(world, faults):
    c, h = world.client, world.heads
    scan = c.post("/api/scans", json=scan_body(world.code, GANZHOU), headers=h["inspector"]).json
    finding = c.post("/api/inspections", json=finding_body(), headers=h["inspector"]).json
    attached = c.post(f"/api/inspections/{finding['id']}/attachments", headers=h["inspector"],
                      data={"file": (io.BytesIO(jpeg(1)), "p.jpg")}, content_type="multipart/form-data").json
    user_id = world.db.users.find_one({"username": "inspector"})["_id"]
    fid, code = finding["id"], world.code
    ledger_csv = ("event_id,event_type,occurred_at,enterprise_id,stage,product_type,mass_kg,reo_pct\n"
                  "CSV-DOWN-1,production,2026-11-02,ENT-NSM,ore,bastnaesite_concentrate,100,55.5\n").encode()
    epcis = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
             "schemaVersion": "2.0", "creationDate": "2026-11-05T00:00:00Z", "epcisBody": {"eventList": []}}
    requests = [
        ("post", "/api/auth/login", {"json": {"username": "inspector", "password": "demo"}}),
        ("post", "/api/auth/refresh", {"json": {"refresh_token": world.refresh}}),
        ("get", "/api/auth/me", {"headers": h["inspector"]}),
        ("post", "/api/scans", {"json": scan_body(code, GANZHOU), "headers": h["inspector"]}),
        ("post", "/api/scans", {"headers": h["inspector"], "content_type": "multipart/form-data",
                                "data": {"client_id": str(uuid.uuid4()), "code": code,
                                         "scanned_at": datetime.now(timezone.utc).isoformat(),
                                         "site": '{"type": "market", "name": "x"}',
                                         "image": (io.BytesIO(jpeg(2)), "label.jpg")}}),
        ("get", f"/api/scans/{scan['id'] if 'id' in scan else scan.get('_id', 'x')}", {"headers": h["inspector"]}),
        ("post", "/api/decode", {"headers": h["inspector"], "content_type": "multipart/form-data",
                                 "data": {"image": (io.BytesIO(jpeg(3)), "label.jpg")}}),
        ("get", f"/api/batches/{code}", {"headers": h["inspector"]}),
        ("get", f"/api/batches/{code}/provenance", {"headers": h["inspector"]}),
        ("get", f"/api/batches/{code}/descendants", {"headers": h["inspector"]}),
        ("post", "/api/inspections", {"json": finding_body(), "headers": h["inspector"]}),
        ("post", f"/api/inspections/{fid}/attachments", {"headers": h["inspector"], "content_type": "multipart/form-data",
                                                         "data": {"file": (io.BytesIO(jpeg(4)), "p.jpg")}}),
        ("get", "/api/inspections", {"headers": h["supervisor"]}),
        ("get", f"/api/inspections/{fid}", {"headers": h["supervisor"]}),
        ("get", f"/api/inspections/{fid}/attachments/{attached['id']}", {"headers": h["supervisor"]}),
        ("post", f"/api/inspections/{fid}/transitions", {"json": {"action": "confirm"},
                                                         "headers": {**h["supervisor"], "If-Match": finding["etag"]}}),
        ("get", "/api/inspections/stats", {"headers": h["supervisor"]}),
        ("get", "/api/inspections/export?format=csv", {"headers": h["supervisor"]}),
        ("get", "/api/inspections/export?format=xlsx", {"headers": h["supervisor"]}),
        ("post", "/api/ledger/submissions", {"json": {"events": [{"event_id": "DOWN-1", "type": "production",
                                                                  "occurred_at": "2026-11-02", "outputs": [
                                                                      {"stage": "ore", "mass_kg": 100, "reo_pct": 50,
                                                                       "product_type": "bastnaesite_concentrate"}]}]},
                                             "headers": h["clerk"]}),
        ("post", "/api/ledger/uploads", {"headers": h["clerk"], "content_type": "multipart/form-data",
                                         "data": {"file": (io.BytesIO(ledger_csv), "ledger.csv")}}),
        ("get", "/api/ledger/submissions", {"headers": h["clerk"]}),
        ("post", "/api/epcis/capture", {"json": epcis, "headers": h["clerk"]}),
        ("get", f"/api/epcis/batches/{code}/history", {"headers": h["supervisor"]}),
        ("get", "/api/reporting/compliance", {"headers": h["supervisor"]}),
        ("get", "/api/reporting/enterprises/ENT-NSM", {"headers": h["supervisor"]}),
        ("get", "/api/risk/enterprises", {"headers": h["supervisor"]}),
        ("get", "/api/enterprises/ENT-NSM/quota", {"headers": h["supervisor"]}),
        ("get", "/api/registry/enterprises", {"headers": h["admin"]}),
        ("post", "/api/registry/quotas", {"json": {}, "headers": h["admin"]}),
        ("get", "/api/users", {"headers": h["admin"]}),
        ("post", f"/api/users/{user_id}/revoke-sessions", {"headers": h["admin"]}),
    ]
    with faults.down():
        for method, path, kwargs in requests:
            assert_unavailable(getattr(c, method)(path, **kwargs))
        assert c.get("/healthz").status_code == 200
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
    # The same app object, with tokens issued before the outage, works again.
    assert c.get("/readyz").status_code == 200 and c.get("/healthz").status_code == 200
    assert c.get("/api/inspections", headers=h["supervisor"]).status_code == 200
    assert c.post("/api/scans", json=scan_body(code, GANZHOU), headers=h["inspector"]).status_code == 201
    assert c.get(f"/api/inspections/{fid}/attachments/{attached['id']}", headers=h["supervisor"]).data == jpeg(1)


def test_an_outage_that_starts_mid_request_is_a_503_for_that_request_and_the_next_ones(world, faults):
    c, h = world.client, world.heads
    for error in ("selection", "reconnect"):
        faults.error = error
        faults.fail_from(3)
        assert_unavailable(c.get("/api/inspections", headers=h["supervisor"]))
        assert_unavailable(c.get("/api/inspections/stats", headers=h["supervisor"]))
        assert c.get("/healthz").status_code == 200
        faults.come_back()
        assert c.get("/api/inspections/stats", headers=h["supervisor"]).status_code == 200


# -- nothing half-written ----------------------------------------------------------------------------------------

def sweep(faults, attempt, check, retry_check):
    """Fail one write at each of its database operations in turn; after each, check the data, retry, check again.

    attempt() makes a fresh request (new client_id etc.) and returns a send() callable that sends it (again).
    """
    send = attempt()
    with faults.counting():
        clean = send()
    operations = faults.ops
    assert clean.status_code < 300 and operations > 1, clean.get_json()
    retry_check(send, clean)
    for k in range(1, operations + 1):
        send = attempt()
        faults.fail_from(k)
        first = send()
        faults.come_back()
        if first.status_code >= 300:
            assert_unavailable(first)
        check(send, first, k)
        again = send()
        assert again.status_code < 300, (k, again.get_json())
        retry_check(send, again)
    return operations


def audit_entries(db, action, target):
    return list(db.audit_log.find({"action": action, "target": target}))


def assert_audit_whole(db):
    assert audit.verify(db) == []


def assert_one_entry(db, doc, action, target):
    """A stored document whose write is finished is in the audit log exactly once."""
    assert "audit_pending" not in doc, doc["_id"]
    assert len(audit_entries(db, action, target)) == 1, (action, target)


def assert_entries_so_far(db, doc, action, target):
    """After an interrupted write: no entry without a stored document, one for a finished one, and for one whose
    promise is still open only the promised entry (if the interruption came after it was written)."""
    entries = audit_entries(db, action, target)
    if doc is None:
        assert entries == []
    elif "audit_pending" not in doc:
        assert len(entries) == 1
    else:
        assert [e.get("key") for e in entries] in ([], [doc["audit_pending"]["key"]])


def test_a_scan_that_marks_a_clone_is_stored_whole_or_not_at_all(world, faults):
    c, h, db = world.client, world.heads, world.db
    current = {}

    def attempt():
        # A first sighting far away, an hour earlier: the scan under test is then a clone and links both ways.
        code = batch_code.issue(random.Random(len(current) + 7))
        earlier = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        first = c.post("/api/scans", json=scan_body(world.code, BAOTOU, scanned_at=earlier), headers=h["inspector"])
        assert first.status_code == 201
        body = scan_body(world.code, GANZHOU)
        current.update(body=body, other=first.json["id"], code=code)
        return lambda: c.post("/api/scans", json=body, headers=h["inspector"])

    def stored():
        return list(db.scans.find({"client_id": current["body"]["client_id"]}))

    def links_hold():
        """No scan names a clone that is not stored, and every finished clone is linked both ways."""
        scans = {s["_id"]: s for s in db.scans.find({"site.name": "Fault market"})}
        for scan in scans.values():
            for partner in scan["cloned_with"]:
                assert partner in scans, (scan["_id"], partner)
                if "audit_pending" not in scan and "audit_pending" not in scans[partner]:
                    assert scan["_id"] in scans[partner]["cloned_with"]

    def check(send, first, k):
        found = stored()
        assert len(found) <= 1
        links_hold()
        for scan in found:
            assert_entries_so_far(db, scan, "scan.create", {"scan_id": scan["_id"], "batch_code": scan["batch_code"]})
        assert_audit_whole(db)

    def retry_check(send, response):
        (scan,) = stored()
        assert response.json["id"] == scan["_id"] and "audit_pending" not in scan
        assert "cloned_code" in [r["code"] for r in scan["verdict"]["reasons"]]
        assert len(scan["cloned_with"]) == 1
        assert scan["_id"] in db.scans.find_one({"_id": scan["cloned_with"][0]})["cloned_with"]
        links_hold()
        target = {"scan_id": scan["_id"], "batch_code": scan["batch_code"]}
        assert_one_entry(db, scan, "scan.create", target)
        assert send().json["id"] == scan["_id"]  # and once more: still the one copy
        assert len(stored()) == 1
        assert_one_entry(db, stored()[0], "scan.create", target)
        assert_audit_whole(db)

    assert sweep(faults, attempt, check, retry_check) > 5


def test_a_photo_scan_fails_cleanly_at_every_step(world, faults):
    c, h, db = world.client, world.heads, world.db
    current = {}

    def attempt():
        current["client_id"] = str(uuid.uuid4())
        data = {"client_id": current["client_id"], "code": world.code,
                "scanned_at": datetime.now(timezone.utc).isoformat(), "site": '{"type": "market", "name": "x"}'}
        return lambda: c.post("/api/scans", headers=h["inspector"], content_type="multipart/form-data",
                              data={**data, "image": (io.BytesIO(jpeg(9)), "label.jpg")})

    def check(send, first, k):
        found = list(db.scans.find({"client_id": current["client_id"]}))
        assert len(found) <= 1
        for scan in found:
            assert_entries_so_far(db, scan, "scan.create", {"scan_id": scan["_id"], "batch_code": scan["batch_code"]})
        assert_audit_whole(db)

    def retry_check(send, response):
        (scan,) = db.scans.find({"client_id": current["client_id"]})
        assert response.json["id"] == scan["_id"] and "audit_pending" not in scan
        assert_one_entry(db, scan, "scan.create", {"scan_id": scan["_id"], "batch_code": scan["batch_code"]})
        assert_audit_whole(db)

    sweep(faults, attempt, check, retry_check)


def storage_problems(db):
    """GridFS files or chunks that no attachment owns, and attachments whose files are not whole."""
    problems = []
    files = {f["_id"]: f for f in db.fs.files.find()}
    chunk_owners = {ch["files_id"] for ch in db.fs.chunks.find({}, {"files_id": 1})}
    owned = set()
    for a in db.finding_attachments.find():
        for file_id in (a["file_id"], a.get("thumbnail_id")):
            if file_id is None:
                continue
            owned.add(file_id)
            if file_id not in files or file_id not in chunk_owners:
                problems.append(f"attachment {a['_id']} lost file {file_id}")
    problems += [f"orphan file {f}" for f in files.keys() - owned]
    problems += [f"orphan chunks of {f}" for f in chunk_owners - files.keys()]
    return problems


def test_a_finding_and_its_photos_are_stored_whole_or_not_at_all(world, faults):
    c, h, db = world.client, world.heads, world.db
    current = {}

    def create_attempt():
        current["body"] = finding_body()
        return lambda: c.post("/api/inspections", json=current["body"], headers=h["inspector"])

    def create_check(send, first, k):
        found = list(db.findings.find({"client_id": current["body"]["client_id"]}))
        assert len(found) <= 1
        for finding in found:
            assert_entries_so_far(db, finding, "finding.create", f"finding:{finding['_id']}")
        assert_audit_whole(db)

    def create_retry_check(send, response):
        (finding,) = db.findings.find({"client_id": current["body"]["client_id"]})
        assert response.json["id"] == finding["_id"]
        assert_one_entry(db, finding, "finding.create", f"finding:{finding['_id']}")
        assert_audit_whole(db)

    sweep(faults, create_attempt, create_check, create_retry_check)

    def upload_attempt():
        finding = c.post("/api/inspections", json=finding_body(), headers=h["inspector"]).json
        data = jpeg(len(current) * 1000 + random.Random(finding["id"]).randrange(10 ** 6))
        current.update(finding=finding["id"], data=data)
        return lambda: c.post(f"/api/inspections/{finding['id']}/attachments", headers=h["inspector"],
                              data={"file": (io.BytesIO(data), "evidence.jpg")}, content_type="multipart/form-data")

    def upload_check(send, first, k):
        # What a reader sees is whole: every listed attachment downloads, with its thumbnail.
        finding = c.get(f"/api/inspections/{current['finding']}", headers=h["supervisor"]).json
        for listed in finding["attachments"]:
            url = f"/api/inspections/{current['finding']}/attachments/{listed['id']}"
            assert c.get(url, headers=h["supervisor"]).data == current["data"]
            assert c.get(url + "/thumbnail", headers=h["supervisor"]).status_code == 200
        stored = list(db.finding_attachments.find({"finding_id": current["finding"]}))
        assert len(stored) <= 1
        entries = audit_entries(db, "finding.attach", f"finding:{current['finding']}")
        if not stored:
            assert entries == []
        elif "audit_pending" not in stored[0]:
            assert [e["details"]["attachment_id"] for e in entries] == [stored[0]["_id"]]
        else:
            assert [e["key"] for e in entries] in ([], [stored[0]["audit_pending"]["key"]])
        assert_audit_whole(db)

    def upload_retry_check(send, response):
        (stored,) = db.finding_attachments.find({"finding_id": current["finding"]})
        assert response.json["id"] == stored["_id"]
        assert_one_entry(db, stored, "finding.attach", f"finding:{current['finding']}")
        finding = db.findings.find_one({"_id": current["finding"]})
        assert [a["id"] for a in finding["attachments"]] == [stored["_id"]]
        assert [e["attachment_id"] for e in finding["timeline"] if e["action"] == "attach"] == [stored["_id"]]
        assert [e["details"]["attachment_id"] for e in audit_entries(db, "finding.attach",
                                                                     f"finding:{current['finding']}")] == [stored["_id"]]
        # Whatever an interrupted try left in GridFS was replaced by the retry: no orphan files or chunks anywhere.
        assert storage_problems(db) == []
        assert_audit_whole(db)

    sweep(faults, upload_attempt, upload_check, upload_retry_check)


def test_a_transition_is_taken_once_and_a_retry_gets_the_result(world, faults):
    c, h, db = world.client, world.heads, world.db
    current = {}

    def attempt():
        finding = c.post("/api/inspections", json=finding_body(), headers=h["inspector"]).json
        current["id"] = finding["id"]
        headers = {**h["supervisor"], "If-Match": finding["etag"]}
        return lambda: c.post(f"/api/inspections/{finding['id']}/transitions", json={"action": "confirm"},
                              headers=headers)

    def confirms(finding):
        return [e for e in finding["timeline"] if e["action"] == "confirm"]

    def check(send, first, k):
        finding = db.findings.find_one({"_id": current["id"]})
        confirmed = finding["status"] == "confirmed"
        assert len(confirms(finding)) == confirmed
        # Not taken: no entry. Taken and finished: exactly one. Taken, promise still open: at most the promised one.
        assert_entries_so_far(db, finding if confirmed else None, "finding.confirm", f"finding:{current['id']}")
        assert_audit_whole(db)

    def retry_check(send, response):
        assert response.json["status"] == "confirmed"
        finding = db.findings.find_one({"_id": current["id"]})
        assert len(confirms(finding)) == 1
        assert_one_entry(db, finding, "finding.confirm", f"finding:{current['id']}")
        assert send().json["etag"] == response.json["etag"]  # a late retry gets the same state, not a 412
        assert_one_entry(db, db.findings.find_one({"_id": current["id"]}), "finding.confirm", f"finding:{current['id']}")
        assert_audit_whole(db)

    sweep(faults, attempt, check, retry_check)


def test_writes_no_client_came_back_to_retry_are_finished_when_a_process_starts(world, faults):
    c, h, db = world.client, world.heads, world.db
    interrupted = datetime.now(timezone.utc)

    def cut_off(at, send):
        faults.fail_on(at)
        assert_unavailable(send())
        faults.come_back()

    # A clone scan, stored, but neither linked to its partner nor in the audit log.
    earlier = (interrupted - timedelta(hours=1)).isoformat()
    partner = c.post("/api/scans", json=scan_body(world.code, BAOTOU, scanned_at=earlier), headers=h["inspector"]).json
    scan_request = scan_body(world.code, GANZHOU)
    cut_off("scans.update_one", lambda: c.post("/api/scans", json=scan_request, headers=h["inspector"]))
    # A finding, stored without its audit entry.
    finding_request = finding_body()
    cut_off("audit_log.insert_one", lambda: c.post("/api/inspections", json=finding_request, headers=h["inspector"]))
    # A photo, stored but not yet listed on its finding.
    holder = c.post("/api/inspections", json=finding_body(), headers=h["inspector"]).json
    cut_off("findings.update_one", lambda: c.post(f"/api/inspections/{holder['id']}/attachments",
                                                  headers=h["inspector"], content_type="multipart/form-data",
                                                  data={"file": (io.BytesIO(jpeg(77)), "left.jpg")}))
    # A dismissal (a final state: no later transition would settle it), without its audit entry.
    dismissed = c.post("/api/inspections", json=finding_body(), headers=h["inspector"]).json
    cut_off("audit_log.insert_one", lambda: c.post(
        f"/api/inspections/{dismissed['id']}/transitions", json={"action": "dismiss", "reason": "duplicate"},
        headers={**h["supervisor"], "If-Match": dismissed["etag"]}))

    scan = db.scans.find_one({"client_id": scan_request["client_id"]})
    finding = db.findings.find_one({"client_id": finding_request["client_id"]})
    (attachment,) = db.finding_attachments.find({"finding_id": holder["id"]})
    left = [(db.scans, scan["_id"]), (db.findings, finding["_id"]), (db.finding_attachments, attachment["_id"]),
            (db.findings, dismissed["id"])]
    assert all(collection.find_one({"_id": i}).get("audit_pending") for collection, i in left)
    assert db.findings.find_one({"_id": dismissed["id"]})["status"] == "dismissed"
    scan_target = {"scan_id": scan["_id"], "batch_code": scan["batch_code"]}
    assert audit_entries(db, "scan.create", scan_target) == []

    # A process started at once leaves them: their requests may still be finishing them.
    make_app(db.name, CLOCK=lambda: interrupted + timedelta(seconds=30))
    assert all(collection.find_one({"_id": i}).get("audit_pending") for collection, i in left)
    # One started a few minutes later finishes each of them, once, whatever number of processes start.
    for _ in range(2):
        make_app(db.name, CLOCK=lambda: interrupted + timedelta(minutes=5))
    assert not any(collection.find_one({"_id": i}).get("audit_pending") for collection, i in left)
    assert len(audit_entries(db, "scan.create", scan_target)) == 1
    assert scan["_id"] in db.scans.find_one({"_id": partner["id"]})["cloned_with"]
    assert len(audit_entries(db, "finding.create", f"finding:{finding['_id']}")) == 1
    listed = db.findings.find_one({"_id": holder["id"]})
    assert [a["id"] for a in listed["attachments"]] == [attachment["_id"]]
    assert [e.get("attachment_id") for e in listed["timeline"] if e["action"] == "attach"] == [attachment["_id"]]
    assert len(audit_entries(db, "finding.attach", f"finding:{holder['id']}")) == 1
    assert len(audit_entries(db, "finding.dismiss", f"finding:{dismissed['id']}")) == 1
    # A client that does retry later gets the stored finding, and the log stays as it is.
    assert c.post("/api/inspections", json=finding_request, headers=h["inspector"]).json["id"] == finding["_id"]
    assert len(audit_entries(db, "finding.create", f"finding:{finding['_id']}")) == 1
    assert_audit_whole(db)


def test_a_ledger_submission_is_applied_whole_or_rolled_back(world, faults):
    c, h, db = world.client, world.heads, world.db
    rng = random.Random(42)
    current = {}
    year_usage = {"enterprise_id": "ENT-NSM", "year": 2026}

    def usage():
        return {u["category"]: u["used_t"] for u in db.quota_usage.find(year_usage)}

    def implied():
        """Quota use the stored productions of this test account for, by category."""
        out = {}
        for e in db.ledger_events.find({"enterprise_id": "ENT-NSM", "event_id": {"$regex": "^FLT-"}}):
            for category, t in ((e.get("accounting") or {}).get("quota") or {}).items():
                out[category] = out.get(category, 0.0) + t
        return out

    before = usage()

    def attempt():
        code = batch_code.issue(rng)
        n = len(current)
        current[n] = code
        current["code"] = code
        events = [{"event_id": f"FLT-{code}-P", "type": "production", "occurred_at": "2026-11-02",
                   "outputs": [{"code": code, "stage": "ore", "product_type": "bastnaesite_concentrate",
                                "mass_kg": 1000, "reo_pct": 55.5}]},
                  {"event_id": f"FLT-{code}-S", "type": "shipment", "occurred_at": "2026-11-03", "code": code,
                   "mass_kg": 1000, "to_id": "ENT-BPS", "doc_no": f"WB-{code}"}]
        return lambda: c.post("/api/ledger/submissions", json={"events": events}, headers=h["clerk"])

    def consistent():
        assert db.ledger_submissions.count_documents({"state": {"$in": ["applying", "rolling_back"]}}) == 0
        for category, used in usage().items():
            assert used == pytest.approx(before.get(category, 0.0) + implied().get(category, 0.0), abs=1e-6)
        for e in db.ledger_events.find({"event_id": {"$regex": "^FLT-"}}, {"event_id": 1, "codes": 1, "type": 1}):
            assert db.batches.find_one({"_id": e["codes"][0]}) is not None, e
        for b in db.batches.find({"_id": {"$in": [v for k, v in current.items() if k != "code"]}}):
            produced = db.ledger_events.count_documents({"event_id": f"FLT-{b['_id']}-P"})
            shipped = db.ledger_events.count_documents({"event_id": f"FLT-{b['_id']}-S"})
            assert produced == 1, b["_id"]
            # Shipped and not yet received: still the sender's, in transit to ENT-BPS.
            assert (b.get("in_transit", {}).get("to_id") == "ENT-BPS") == bool(shipped), b["_id"]
            assert b["holder_id"] == "ENT-NSM", b["_id"]
            assert db.movements.count_documents({"batch_code": b["_id"]}) == shipped
        assert_audit_whole(db)
        for s in db.ledger_submissions.find({"submitted_by": "clerk-nsm", "state": "accepted"}, {"_id": 1}):
            assert len(audit_entries(db, "ledger.submit", {"submission_id": s["_id"]})) == 1, s["_id"]

    def check(send, first, k):
        # Nothing else (no /readyz) reaches the service before the retry: the retry itself must undo the first try.
        assert_audit_whole(db)

    def retry_check(send, response):
        assert response.status_code == 201 and response.json["status"] == "accepted"
        assert response.json["accepted"] + response.json["duplicates"] == 2
        code = current["code"]
        assert db.batches.count_documents({"_id": code}) == 1
        assert db.ledger_events.count_documents({"event_id": {"$in": [f"FLT-{code}-P", f"FLT-{code}-S"]}}) == 2
        assert db.batches.find_one({"_id": code})["in_transit"]["to_id"] == "ENT-BPS"
        again = send()
        assert again.status_code == 201 and again.json["duplicates"] == 2
        consistent()

    sweep(faults, attempt, check, retry_check)


def test_a_sign_in_interrupted_at_any_step_leaves_one_live_session_after_the_retry(world, faults):
    c, db = world.client, world.db
    current = {}

    def attempt():
        current["device"] = f"phone-{uuid.uuid4().hex[:8]}"
        return lambda: c.post("/api/auth/login", json={"username": "inspector2", "password": "demo",
                                                        "device_id": current["device"]})

    def check(send, first, k):
        assert_audit_whole(db)

    def retry_check(send, response):
        live = list(db.sessions.find({"device_id": current["device"], "revoked_at": None}))
        assert [s["_id"] for s in live] == [response.json["session_id"]]
        assert len(audit_entries(db, "auth.login", {"user_id": live[0]["user_id"]})) >= 1
        assert c.get("/api/auth/me", headers={"Authorization": f"Bearer {response.json['access_token']}"}).status_code \
            == 200
        assert_audit_whole(db)

    sweep(faults, attempt, check, retry_check)


# -- a real MongoDB behind a proxy that stops ---------------------------------------------------------------------

@pytest.mark.requires_mongo
def test_a_stopped_mongodb_gives_503_and_the_same_app_recovers():
    """Not run here (no MongoDB server): the app reaches MONGO_URI through a TCP proxy that is stopped and started."""
    uri = urlsplit(os.environ["MONGO_URI"])
    host, port = uri.hostname or "127.0.0.1", uri.port or 27017
    proxy = TcpProxy(socket.gethostbyname(host), port)
    proxy.start()
    netloc = uri.netloc.rsplit("@", 1)
    auth = netloc[0] + "@" if len(netloc) == 2 else ""
    proxied = uri._replace(netloc=f"{auth}127.0.0.1:{proxy.port}").geturl()
    proxied += ("&" if "?" in proxied else "?") + "directConnection=true"
    name = f"test_faults_{uuid.uuid4().hex}"
    app = create_app({"MONGO_URI": proxied, "MONGO_DB": name, "SEED_DEMO": False, "TESTING": True,
                      "SECRET_KEY": TEST_SECRET, "SERVER_SELECTION_TIMEOUT_MS": 300})
    client = app.test_client()
    try:
        with app.app_context():
            database = current_db()
        accounts.create_user(database, "stopper", "stopper-password", "inspector")
        headers, _ = _sign_in(client, "stopper", "stopper-password")
        assert client.get("/readyz").status_code == 200
        proxy.stop()
        assert_unavailable(client.post("/api/auth/login", json={"username": "stopper", "password": "stopper-password"}))
        assert_unavailable(client.get("/api/scans", headers=headers))
        assert_unavailable(client.post("/api/inspections", json=finding_body(), headers=headers))
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        proxy.start()
        for _ in range(50):  # the driver finds the server again on its own heartbeat
            if client.get("/readyz").status_code == 200:
                break
        assert client.get("/readyz").status_code == 200
        assert client.get("/api/scans", headers=headers).status_code == 200
    finally:
        proxy.stop()
        import pymongo
        pymongo.MongoClient(os.environ["MONGO_URI"]).drop_database(name)
