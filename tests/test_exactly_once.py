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
from datetime import datetime, timedelta, timezone

import pytest

from api.context import db as current_db
from seed import users as demo_users
from inspector.codes import batch_code
from seed.enterprises import enterprise_docs
from tests.conftest import make_app, sign_in
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
    demo_users.ensure_demo_users(database)
    client = app.test_client()
    heads = {}
    for user in ("inspector", "supervisor"):
        tokens = sign_in(client, user, "demo", f"once-{user}")
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


def test_a_copy_that_loses_the_race_to_an_interrupted_first_try_gets_the_stored_finding(served):
    """The first try stored the finding but not its audit entry; a copy that looked before that insert must not hang."""
    import mongomock.collection

    from tests.fault_tools import StoreFaults

    app, db, server, heads = served
    client = app.test_client()
    body = finding_body()
    with StoreFaults() as faults:
        faults.fail_on("audit_log.insert_one")
        assert client.post("/api/inspections", json=body, headers=heads["inspector"]).status_code == 503
    (stored,) = db.findings.find({"client_id": body["client_id"]})
    assert stored.get("audit_pending")

    owner = mongomock.collection.Collection
    original = owner.__dict__["find_one"]
    raced = []

    def find_one(self, *args, **kwargs):
        # The copy's first look ran before the first try's insert: it finds nothing and inserts itself.
        if self.name == "findings" and not raced and args and "client_id" in (args[0] or {}):
            raced.append(args[0])
            return None
        return original(self, *args, **kwargs)

    answers = []
    owner.find_one = find_one
    try:
        copy = threading.Thread(target=lambda: answers.append(
            client.post("/api/inspections", json=body, headers=heads["inspector"])), daemon=True)
        copy.start()
        copy.join(10)
    finally:
        owner.find_one = original
    assert raced and not copy.is_alive(), "the second copy is still waiting"
    (answer,) = answers
    assert answer.status_code == 200 and answer.json["id"] == stored["_id"]
    # Every later copy still gets its answer, and the finding is in the audit log once.
    later = []
    thread = threading.Thread(target=lambda: later.append(
        client.post("/api/inspections", json=body, headers=heads["inspector"])), daemon=True)
    thread.start()
    thread.join(10)
    assert later and later[0].status_code == 200 and later[0].json["id"] == stored["_id"]
    assert db.audit_log.count_documents({"action": "finding.create", "target": f"finding:{stored['_id']}"}) == 1
    assert "audit_pending" not in db.findings.find_one({"_id": stored["_id"]})


def test_a_transition_retried_with_other_fields_and_the_old_etag_gets_412(served):
    app, db, server, heads = served
    client = app.test_client()
    finding = client.post("/api/inspections", json=finding_body(), headers=heads["inspector"]).json
    path = f"/api/inspections/{finding['id']}/transitions"
    old = {**heads["supervisor"], "If-Match": f'"{finding["etag"]}"'}
    dismiss = {"action": "dismiss", "reason": "duplicate", "comment": "same as F-1"}
    first = client.post(path, json=dismiss, headers=old)
    assert first.status_code == 200 and first.json["dismiss_reason"] == "duplicate"
    # The very same request again (its answer was lost) gets the result ...
    again = client.post(path, json=dismiss, headers=old)
    assert again.status_code == 200 and again.json["etag"] == first.json["etag"]
    # ... but a different decision made on the old read is refused, not silently dropped.
    other = client.post(path, json={"action": "dismiss", "reason": "other", "comment": "a different reason"},
                        headers=old)
    assert other.status_code == 412 and other.json["errors"]["error_code"] == "stale_etag"
    assert client.post(path, json={**dismiss, "comment": "another comment"}, headers=old).status_code == 412
    stored = db.findings.find_one({"_id": finding["id"]})
    assert stored["dismiss_reason"] == "duplicate"
    assert [e["comment"] for e in stored["timeline"] if e["action"] == "dismiss"] == ["same as F-1"]
    assert db.audit_log.count_documents({"action": "finding.dismiss", "target": f"finding:{finding['id']}"}) == 1

    # A deadline read back from JSON is the same request on a retry.
    finding = client.post("/api/inspections", json=finding_body(), headers=heads["inspector"]).json
    path = f"/api/inspections/{finding['id']}/transitions"
    confirmed = client.post(path, json={"action": "confirm"},
                            headers={**heads["supervisor"], "If-Match": f'"{finding["etag"]}"'}).json
    deadline = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    send = {"action": "send_to_enterprise", "deadline": deadline.astimezone(timezone(timedelta(hours=8))).isoformat(),
            "comment": "Explain."}
    sent_from = {**heads["supervisor"], "If-Match": f'"{confirmed["etag"]}"'}
    sent = client.post(path, json=send, headers=sent_from)
    assert sent.status_code == 200
    assert client.post(path, json=send, headers=sent_from).json["etag"] == sent.json["etag"]
    same_moment = {**send, "deadline": deadline.isoformat()}  # the same deadline written in UTC
    assert client.post(path, json=same_moment, headers=sent_from).json["etag"] == sent.json["etag"]
    assert client.post(path, json={**send, "deadline": (deadline + timedelta(days=1)).isoformat()},
                       headers=sent_from).status_code == 412


def test_an_upload_retry_keeps_a_whole_file_another_worker_stored(served):
    import hashlib

    import gridfs

    app, db, server, heads = served
    client = app.test_client()
    finding = client.post("/api/inspections", json=finding_body(), headers=heads["inspector"]).json
    data = photo(color=(7, 77, 177))
    sha256 = hashlib.sha256(data).hexdigest()
    file_id = f"{finding['id']}/{sha256}"
    # Another worker stored the whole file under its id and has not committed its attachment yet.
    files = gridfs.GridFS(db)
    files.put(data, _id=file_id, filename="theirs.jpg",
              metadata={"sha256": sha256, "content_type": "image/jpeg", "finding_id": finding["id"]})
    marked = datetime(2020, 1, 1, tzinfo=timezone.utc)
    db.fs.files.update_one({"_id": file_id}, {"$set": {"uploadDate": marked}})
    # An interrupted try left the thumbnail half-written: chunks, but no file.
    db.fs.chunks.insert_one({"files_id": f"{file_id}/thumbnail", "n": 0, "data": b"partial"})

    data_part, content_type = multipart({}, {"file": ("mine.jpg", data, "image/jpeg")})
    status, answer = exchange(server.port, "POST", f"/api/inspections/{finding['id']}/attachments", data_part,
                              heads["inspector"], content_type)
    assert status == 201, answer
    kept = db.fs.files.find_one({"_id": file_id})
    assert kept["uploadDate"].replace(tzinfo=timezone.utc) == marked  # the whole file was kept, not replaced
    assert db.fs.chunks.count_documents({"files_id": file_id}) == 1
    download = client.get(f"/api/inspections/{finding['id']}/attachments/{answer['id']}", headers=heads["inspector"])
    assert download.data == data
    thumbnail = client.get(f"/api/inspections/{finding['id']}/attachments/{answer['id']}/thumbnail",
                           headers=heads["inspector"])
    assert thumbnail.status_code == 200 and thumbnail.data[:2] == b"\xff\xd8"
    assert db.fs.chunks.count_documents({"files_id": f"{file_id}/thumbnail", "data": b"partial"}) == 0
