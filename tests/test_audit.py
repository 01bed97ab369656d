"""The audit log: sign-ins and account changes are recorded, and `audit verify` catches tampering."""
import pytest

from conftest import gen_user
from inspector import audit


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
