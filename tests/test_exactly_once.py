"""Exactly once under client retries: the real app in a real server, behind a proxy that drops connections.

The proxy (seeded) drops some exchanges before the request reaches the server, some after the server has done the
work but before the client hears anything, and cuts some responses in the middle. The client retries every write up
to 3 times with the same client_id; the database must hold each write once, and a retry of a write that landed must
get the stored object back.
"""
import http.client
import json
import threading
import uuid
from datetime import datetime, timezone

import pytest

from api.context import db as current_db
from inspector import accounts, batch_code
from seed.enterprises import enterprise_docs
from tests.conftest import make_app
from tests.fault_tools import DROP_AFTER_REQUEST, DROP_MID_RESPONSE, PASS, AppServer, TcpProxy, multipart
from tests.finding_helpers import finding_body, photo

SEED = 11
DROP_RATE = 0.3
RETRIES = 3
N = 8


@pytest.fixture(scope="module")
def served():
    """The app on a fresh database with the demo enterprises and users, served on loopback."""
    name = f"test_once_{uuid.uuid4().hex}"
    app = make_app(name)
    with app.app_context():
        database = current_db()
    database.enterprises.insert_many(enterprise_docs())
    accounts.ensure_demo_users(database)
    client = app.test_client()
    heads = {}
    for user in ("inspector", "supervisor"):
        tokens = client.post("/api/auth/login", json={"username": user, "password": "demo",
                                                      "device_id": f"once-{user}"}).json
        heads[user] = {"Authorization": f"Bearer {tokens['access_token']}"}
    with AppServer(app) as server:
        yield app, database, server, heads
    database.client.drop_database(name)


def exchange(port, method, path, body=None, headers=None, content_type="application/json"):
    """One request on its own connection; return (status, json) or raise on any connection trouble."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        data = json.dumps(body).encode() if content_type == "application/json" and body is not None else body
        sent = {"Connection": "close", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = content_type
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


class RetryingClient:
    """Sends each write, retrying up to RETRIES times on a connection error; records what happened."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.writes = []

    def write(self, method, path, body=None, headers=None, content_type="application/json"):
        before = len(self.proxy.fates)
        for attempt in range(1 + RETRIES):
            try:
                status, answer = exchange(self.proxy.port, method, path, body, headers, content_type)
            except (OSError, http.client.HTTPException, ValueError):
                continue
            fates = self.proxy.fates[before:]
            self.writes.append({"path": path, "status": status, "answer": answer, "fates": fates})
            return status, answer, fates
        raise AssertionError(f"{method} {path}: no answer after {RETRIES} retries ({self.proxy.fates[before:]})")


def landed_before_the_answer(fates):
    """True when an earlier attempt reached the server (its answer was lost) before the one that was heard."""
    return any(f in (DROP_AFTER_REQUEST, DROP_MID_RESPONSE) for f in fates[:-1])


def scan_json(code):
    return {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Retry market"}, "location": {"lat": 25.84, "lon": 114.94}}


def test_scans_and_findings_with_photos_are_stored_exactly_once_through_a_dropping_proxy(served):
    app, db, server, heads = served
    with TcpProxy("127.0.0.1", server.port, drop_rate=DROP_RATE, seed=SEED) as proxy:
        client = RetryingClient(proxy)
        scans, findings, photos = [], [], []
        for i in range(N):
            body = scan_json(batch_code.issue(__import__("random").Random(SEED + i)))
            status, answer, fates = client.write("POST", "/api/scans", body, heads["inspector"])
            assert status == (200 if landed_before_the_answer(fates) else 201), (status, fates, answer)
            scans.append((body["client_id"], answer["id"]))

            body = finding_body()
            status, answer, fates = client.write("POST", "/api/inspections", body, heads["inspector"])
            assert status == (200 if landed_before_the_answer(fates) else 201), (status, fates, answer)
            findings.append((body["client_id"], answer["id"]))

            image = photo(color=(i * 20 % 256, 90, 200 - i * 10), size=(120, 90))
            data, content_type = multipart({}, {"file": (f"evidence-{i}.jpg", image, "image/jpeg")})
            status, answer, fates = client.write("POST", f"/api/inspections/{answer['id']}/attachments", data,
                                                 heads["inspector"], content_type)
            assert status == (200 if landed_before_the_answer(fates) else 201), (status, fates, answer)
            photos.append((findings[-1][1], answer["id"]))
        seen = {f for w in client.writes for f in w["fates"]}
    # The seed gives every kind of drop, so each path was exercised.
    assert {DROP_AFTER_REQUEST, DROP_MID_RESPONSE, PASS} <= seen and len(seen) == 4
    assert sum(len(w["fates"]) > 1 for w in client.writes) >= N // 2

    for client_id, scan_id in scans:
        assert [s["_id"] for s in db.scans.find({"client_id": client_id})] == [scan_id]
        assert db.audit_log.count_documents({"action": "scan.create", "target.scan_id": scan_id}) == 1
    for client_id, finding_id in findings:
        assert [f["_id"] for f in db.findings.find({"client_id": client_id})] == [finding_id]
        assert db.audit_log.count_documents({"action": "finding.create", "target": f"finding:{finding_id}"}) == 1
    for finding_id, attachment_id in photos:
        assert [a["_id"] for a in db.finding_attachments.find({"finding_id": finding_id})] == [attachment_id]
        finding = db.findings.find_one({"_id": finding_id})
        assert [a["id"] for a in finding["attachments"]] == [attachment_id]
        stored = db.finding_attachments.find_one({"_id": attachment_id})
        assert db.fs.files.count_documents({"metadata.finding_id": finding_id}) == 2  # the photo and its thumbnail
        assert db.fs.chunks.count_documents({"files_id": {"$in": [stored["file_id"], stored["thumbnail_id"]]}}) == 2
    assert db.scans.count_documents({"audit_pending": {"$exists": True}}) == 0
    assert db.findings.count_documents({"audit_pending": {"$exists": True}}) == 0


def concurrently(count, send):
    """Run send() from count threads released at the same moment; return their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = send()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_a_retry_that_arrives_while_the_first_try_is_still_running_gets_the_same_object(served):
    app, db, server, heads = served
    port = server.port
    scan = scan_json(batch_code.issue(__import__("random").Random(SEED)))
    answers = concurrently(6, lambda: exchange(port, "POST", "/api/scans", scan, heads["inspector"]))
    assert sorted(s for s, _ in answers) == [200] * 5 + [201]
    assert {a["id"] for _, a in answers} == {db.scans.find_one({"client_id": scan["client_id"]})["_id"]}
    assert db.scans.count_documents({"client_id": scan["client_id"]}) == 1

    body = finding_body()
    answers = concurrently(6, lambda: exchange(port, "POST", "/api/inspections", body, heads["inspector"]))
    assert sorted(s for s, _ in answers) == [200] * 5 + [201]
    (finding,) = db.findings.find({"client_id": body["client_id"]})
    assert {a["id"] for _, a in answers} == {finding["_id"]}
    assert db.audit_log.count_documents({"action": "finding.create", "target": f"finding:{finding['_id']}"}) == 1

    data, content_type = multipart({}, {"file": ("same.jpg", photo(color=(1, 2, 3)), "image/jpeg")})
    path = f"/api/inspections/{finding['_id']}/attachments"
    answers = concurrently(6, lambda: exchange(port, "POST", path, data, heads["inspector"], content_type))
    assert sorted(s for s, _ in answers) == [200] * 5 + [201], answers
    (stored,) = db.finding_attachments.find({"finding_id": finding["_id"]})
    assert {a["id"] for _, a in answers} == {stored["_id"]}
    assert len(db.findings.find_one({"_id": finding["_id"]})["attachments"]) == 1
    assert db.fs.files.count_documents({"metadata.finding_id": finding["_id"]}) == 2
    assert db.audit_log.count_documents({"action": "finding.attach", "target": f"finding:{finding['_id']}"}) == 1

    etag = finding["_etag"]
    confirm = {**heads["supervisor"], "If-Match": f'"{etag}"'}
    answers = concurrently(6, lambda: exchange(port, "POST", f"/api/inspections/{finding['_id']}/transitions",
                                               {"action": "confirm"}, confirm))
    assert [s for s, _ in answers] == [200] * 6, answers
    assert len({a["etag"] for _, a in answers}) == 1
    timeline = db.findings.find_one({"_id": finding["_id"]})["timeline"]
    assert [e["action"] for e in timeline].count("confirm") == 1
    assert db.audit_log.count_documents({"action": "finding.confirm", "target": f"finding:{finding['_id']}"}) == 1
