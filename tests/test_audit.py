"""The audit log: sign-ins and account changes are recorded, and `audit verify` catches tampering."""
from datetime import datetime, timezone

import pytest

from conftest import gen_user
from inspector import recovery
from inspector.audit import chain as audit
from inspector.audit import promises


@pytest.fixture
def logged(client, db, auth):
    """A log with a few entries written through the API: sign-ins, an account created, a sign-out."""
    gen_user(db, "root", role="admin", password="admin password")
    admin = auth.headers("root", "admin password", device_id="admin-laptop")
    assert client.post("/api/users", headers=admin, json={"username": "li.wei", "role": "inspector"}).status_code == 201
    assert client.post("/api/auth/logout", headers=admin).status_code == 204
    auth.login("root", "admin password", device_id="admin-phone")
    assert audit.verify(db) == []
    return list(db.audit_log.find().sort("_id", 1))


def verify(runner):
    return runner.invoke(args=["audit", "verify"])


def test_sign_ins_and_account_changes_record_who_role_what_and_device(logged):
    assert [e["action"] for e in logged] == ["auth.login", "user.create", "auth.logout", "auth.login"]
    create = logged[1]
    assert (create["actor"], create["role"], create["device_id"]) == ("root", "admin", "admin-laptop")
    assert create["details"]["username"] == "li.wei" and "password" not in str(create)
    assert logged[0]["details"]["ip"] == "127.0.0.1"


def test_failed_sign_ins_are_not_written_to_the_chain(client, db):
    # Anyone can send wrong passwords; the tamper-evident log is for what signed-in people did.
    client.post("/api/auth/login", json={"username": "nobody", "password": "x"})
    assert audit.entry_count(db) == 0


def test_verify_prints_ok_with_the_entry_count(runner, logged):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 4 entries")


def test_verify_on_an_empty_log(runner):
    result = verify(runner)
    assert result.exit_code == 0 and "OK: 0 entries" in result.output


def test_editing_one_entry_fails_verify_and_names_it(runner, db, logged):
    db.audit_log.update_one({"_id": 2}, {"$set": {"details.role": "admin"}})
    result = verify(runner)
    assert result.exit_code == 1
    assert "entry 2 (user.create) was edited" in result.output
    assert "entry 1 " not in result.output and "entry 3 " not in result.output


def test_an_edit_that_recomputes_the_hash_is_caught_by_the_next_entry(runner, db, logged):
    forged = {**logged[1], "actor": "someone else"}
    forged["hash"] = audit.entry_hash(forged)
    db.audit_log.replace_one({"_id": 2}, forged)
    result = verify(runner)
    assert result.exit_code == 1
    assert "entry 3 does not follow" in result.output


def test_deleting_an_entry_fails_verify_and_names_it(runner, db, logged):
    db.audit_log.delete_one({"_id": 2})
    result = verify(runner)
    assert result.exit_code == 1
    assert "entry 2 is missing" in result.output


def test_reordering_entries_fails_verify(runner, db, logged):
    second, third = logged[1], logged[2]
    db.audit_log.replace_one({"_id": 2}, {**third, "_id": 2})
    db.audit_log.replace_one({"_id": 3}, {**second, "_id": 3})
    result = verify(runner)
    assert result.exit_code == 1
    assert "entry 2 (auth.logout) was edited" in result.output
    assert "entry 3 (user.create) was edited" in result.output


def test_cutting_off_the_tail_fails_verify(runner, db, logged):
    db.audit_log.delete_many({"_id": {"$gte": 3}})
    result = verify(runner)
    assert result.exit_code == 1
    assert "entries 3 to 4 are missing" in result.output


def test_deleting_the_head_record_fails_verify(runner, db, logged):
    db.audit_head.delete_many({})
    result = verify(runner)
    assert result.exit_code == 1 and "head record is missing" in result.output


def test_every_problem_is_listed(runner, db, logged):
    db.audit_log.update_one({"_id": 1}, {"$set": {"action": "auth.logout"}})
    db.audit_log.delete_one({"_id": 3})
    output = verify(runner).output
    assert "entry 1 (auth.logout) was edited" in output and "entry 3 is missing" in output


def test_a_head_one_behind_after_a_crash_is_not_a_problem(db, logged):
    # The head is written after its entry; a crash between the two must not look like tampering.
    db.audit_head.update_one({}, {"$set": {"seq": 3, "hash": logged[2]["hash"]}})
    assert audit.verify(db) == []


def test_admin_actions_and_revocations_are_recorded(client, db, auth):
    gen_user(db, "root", role="admin", password="admin password")
    user, password = gen_user(db, "li.wei", password="correct horse")
    admin = auth.headers("root", "admin password")
    phone = auth.login("li.wei", password, device_id="phone")
    client.delete(f"/api/auth/sessions/{phone['session_id']}", headers=admin)
    for path in ("disable", "enable", "reset-password", "revoke-sessions"):
        assert client.post(f"/api/users/{user['_id']}/{path}", headers=admin, json={}).status_code == 200
    actions = [e["action"] for e in db.audit_log.find().sort("_id", 1)]
    assert actions == ["auth.login", "auth.login", "auth.session_revoke", "user.disable", "user.enable",
                       "user.password_reset", "user.sessions_revoke"]
    assert audit.verify(db) == []


# -- promises: an entry a write promised is written once, however many tries settle it --------------------------------

def _promised(db, collection, details, at=None):
    """A document carrying an audit promise, as a write stores it at its commit point."""
    actor = {"user_id": "u-1", "username": "li.wei", "role": "inspector", "device_id": "phone"}
    promise = promises.pending(actor, "finding.attach", "finding:F-1", details, now=at)
    doc_id = db[collection].insert_one({"finding_id": "F-1", "sha256": details["attachment_id"],
                                        "audit_pending": promise}).inserted_id
    return doc_id, promise


def test_a_promise_settled_by_several_tries_at_once_is_written_once(db):
    import threading

    doc_id, promise = _promised(db, "finding_attachments", {"attachment_id": "A-1"})
    barrier = threading.Barrier(4)

    def settle():
        barrier.wait()
        promises.settle(db, "finding_attachments", doc_id, dict(promise))  # first tries never look before writing

    threads = [threading.Thread(target=settle) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    promises.settle(db, "finding_attachments", doc_id, dict(promise))  # and a late retry
    assert db.audit_log.count_documents({"action": "finding.attach"}) == 1
    assert "audit_pending" not in db.finding_attachments.find_one({"_id": doc_id})
    assert audit.verify(db) == []


def test_a_promise_another_process_already_wrote_is_not_written_again(db):
    doc_id, promise = _promised(db, "finding_attachments", {"attachment_id": "A-1"})
    stale = audit._heads.get(db.name)
    promises.settle(db, "finding_attachments", doc_id, promise)
    # Another process, whose view of the chain's end is older, settles the same promise: the key stops it.
    audit._heads[db.name] = stale or (0, audit.GENESIS)
    promises.settle(db, "finding_attachments", doc_id, promise)
    assert db.audit_log.count_documents({"key": promise["key"]}) == 1
    # The same stale view writing a different entry takes the next free sequence number instead.
    audit._heads[db.name] = stale or (0, audit.GENESIS)
    audit.record(db, None, "user.create", {"user_id": "u-2"}, key="another-promise")
    assert [e["action"] for e in db.audit_log.find().sort("_id", 1)] == ["finding.attach", "user.create"]
    assert audit.verify(db) == []


def test_two_promises_stamped_in_the_same_millisecond_on_one_target_are_both_written(db):
    at = datetime.now(timezone.utc)
    first_id, first = _promised(db, "finding_attachments", {"attachment_id": "A-1"}, at)
    second_id, second = _promised(db, "finding_attachments", {"attachment_id": "A-2"}, at)
    promises.settle(db, "finding_attachments", first_id, first)
    promises.settle(db, "finding_attachments", second_id, second)  # as a retry settles it
    written = [e["details"]["attachment_id"] for e in db.audit_log.find({"target": "finding:F-1"}).sort("_id", 1)]
    assert written == ["A-1", "A-2"]
    assert audit.verify(db) == []


def test_an_entry_s_promise_key_is_covered_by_the_chain(db, logged):
    doc_id, promise = _promised(db, "finding_attachments", {"attachment_id": "A-1"})
    promises.settle(db, "finding_attachments", doc_id, promise)
    assert audit.verify(db) == []  # entries written before keys existed and keyed ones verify together
    seq = db.audit_log.find_one({"key": promise["key"]})["_id"]
    db.audit_log.update_one({"_id": seq}, {"$set": {"key": "forged"}})
    assert f"entry {seq} (finding.attach) was edited" in " ".join(audit.verify(db))


def test_the_sweep_writes_stale_promises_once_and_leaves_fresh_ones(db):
    from datetime import timedelta

    now = datetime.now(timezone.utc)
    stale_id, stale = _promised(db, "ledger_submissions", {"attachment_id": "S-1"}, now - timedelta(minutes=5))
    fresh_id, fresh = _promised(db, "ledger_submissions", {"attachment_id": "S-2"}, now - timedelta(seconds=20))
    assert recovery.sweep_promises(db, now) == 1
    assert recovery.sweep_promises(db, now) == 0
    assert [e["key"] for e in db.audit_log.find()] == [stale["key"]]
    assert "audit_pending" not in db.ledger_submissions.find_one({"_id": stale_id})
    assert db.ledger_submissions.find_one({"_id": fresh_id})["audit_pending"]["key"] == fresh["key"]
    assert audit.verify(db) == []


def test_db_recover_finishes_what_a_stopped_process_left_without_a_request(db, runner):
    from datetime import timedelta

    _, stale = _promised(db, "ledger_submissions", {"attachment_id": "S-9"},
                         datetime.now(timezone.utc) - timedelta(minutes=5))
    result = runner.invoke(args=["db", "recover"])
    assert result.exit_code == 0, result.output
    assert "audit entries written: 1" in result.output
    assert [e["key"] for e in db.audit_log.find({"key": stale["key"]})] == [stale["key"]]
    assert "audit entries written: 0" in runner.invoke(args=["db", "recover"]).output

