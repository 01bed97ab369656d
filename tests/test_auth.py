"""Sign-in through the HTTP API: tokens, devices, revocation and the brute-force limit."""
import time

import itsdangerous.timed
import pytest
from itsdangerous import URLSafeTimedSerializer

from limits.storage import MongoDBStorage

from api import create_app
from conftest import REAL_MONGO, gen_user, make_app, post_sign_in
from inspector.accounts import users as accounts
from seed import users as demo_users


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status, error_code):
    """Every failure is in flask-smorest's shape, with a machine code and a sentence."""
    assert response.status_code == status, response.json
    body = response.json
    assert body["code"] == status and body["status"] and body["message"]
    assert body["errors"]["error_code"] == error_code


@pytest.fixture
def user(db):
    return gen_user(db, "li.wei", role="inspector", password="correct horse")[0]


def login(client, username="li.wei", password="correct horse", device_id="phone-1"):
    return post_sign_in(client, username, password, device_id)


def test_login_returns_tokens_role_and_expiry(client, user):
    response = login(client)
    assert response.status_code == 200
    body = response.json
    assert {"access_token", "refresh_token", "expires_in", "role", "session_id", "device_id"} <= set(body)
    assert body["role"] == "inspector" and body["expires_in"] == 15 * 60
    me = client.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json["username"] == "li.wei" and me.json["session_id"] == body["session_id"]
    assert "password_hash" not in me.get_data(as_text=True)


def test_username_is_matched_without_case(client, user):
    assert login(client, username="  Li.Wei ").status_code == 200


def test_no_token_is_401(client):
    for response in (client.get("/api/auth/me"), client.get("/api/users"),
                     client.get("/api/auth/me", headers={"Authorization": "Basic YTpi"}),
                     client.get("/api/auth/me", headers={"Authorization": "Bearer "})):
        assert_error(response, 401, "not_signed_in")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_forged_tokens_are_401(client, user):
    real = login(client).json
    forged_with_other_key = URLSafeTimedSerializer("guessed-key", salt="access-token").dumps(
        {"sid": real["session_id"], "uid": user["_id"]})
    payload, _, signature = real["access_token"].rpartition(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    for token in ("not-a-token", forged_with_other_key, tampered, real["refresh_token"]):
        assert_error(client.get("/api/auth/me", headers=bearer(token)), 401, "invalid_token")


def test_expired_access_token_is_401_and_refresh_still_works(client, user, monkeypatch):
    # Sign in "an hour ago": the token's signed timestamp is what expires it.
    real_time = time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 3600)
    old = login(client).json
    monkeypatch.setattr(itsdangerous.timed.time, "time", real_time)
    response = client.get("/api/auth/me", headers=bearer(old["access_token"]))
    assert_error(response, 401, "invalid_token")
    assert "expired" in response.json["message"]
    fresh = client.post("/api/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert fresh.status_code == 200
    assert client.get("/api/auth/me", headers=bearer(fresh.json["access_token"])).status_code == 200


def test_access_token_lifetime_follows_the_setting():
    app = make_app(ACCESS_TOKEN_MINUTES=2)
    with app.app_context():
        from api.context import db

        gen_user(db(), "short", password="correct horse")
        response = app.test_client().post("/api/auth/login", json={"username": "short", "password": "correct horse"})
        db().client.drop_database(db().name)
    assert response.json["expires_in"] == 120


def test_refresh_rotates_and_the_old_refresh_token_is_rejected(client, user):
    first = login(client).json
    second = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    assert_error(client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]}), 401,
                 "invalid_token")
    # The replay ended the whole session, the newer refresh token with it.
    assert client.post("/api/auth/refresh", json={"refresh_token": second.json["refresh_token"]}).status_code == 401


def test_only_a_rejected_bearer_token_is_challenged(client, user):
    """A dead access token answers with WWW-Authenticate (RFC 6750); a refused refresh token sent in the body does not."""
    tokens = login(client).json
    assert client.post("/api/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    dead_access = client.get("/api/auth/me", headers=bearer(tokens["access_token"]))
    assert_error(dead_access, 401, "invalid_token")
    assert dead_access.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    dead_refresh = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_error(dead_refresh, 401, "invalid_token")
    assert "WWW-Authenticate" not in dead_refresh.headers


def test_logout_kills_the_access_and_refresh_tokens_at_once(client, user):
    tokens = login(client).json
    assert client.post("/api/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    assert_error(client.get("/api/auth/me", headers=bearer(tokens["access_token"])), 401, "invalid_token")
    assert_error(client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401,
                 "invalid_token")


def test_a_lost_phone_is_signed_out_from_another_device(client, user):
    phone = login(client, device_id="phone-1").json
    laptop = login(client, device_id="laptop").json
    devices = client.get("/api/auth/sessions", headers=bearer(laptop["access_token"])).json
    assert {d["device_id"] for d in devices} == {"phone-1", "laptop"}
    assert [d["current"] for d in devices if d["device_id"] == "laptop"] == [True]
    assert all("refresh_hash" not in d for d in devices)
    response = client.delete(f"/api/auth/sessions/{phone['session_id']}", headers=bearer(laptop["access_token"]))
    assert response.status_code == 204
    assert_error(client.get("/api/auth/me", headers=bearer(phone["access_token"])), 401, "invalid_token")
    assert_error(client.post("/api/auth/refresh", json={"refresh_token": phone["refresh_token"]}), 401,
                 "invalid_token")
    assert client.get("/api/auth/me", headers=bearer(laptop["access_token"])).status_code == 200


def test_signing_in_again_on_a_device_replaces_its_session(client, user):
    first = login(client, device_id="phone-1").json
    login(client, device_id="phone-1")
    assert_error(client.get("/api/auth/me", headers=bearer(first["access_token"])), 401, "invalid_token")


def test_another_users_session_is_404_but_an_admin_may_end_it(client, db, user):
    victim = login(client).json
    gen_user(db, "other", password="correct horse")
    gen_user(db, "boss", role="admin", password="correct horse")
    other = login(client, "other").json
    response = client.delete(f"/api/auth/sessions/{victim['session_id']}", headers=bearer(other["access_token"]))
    assert_error(response, 404, "session_not_found")
    assert_error(client.delete("/api/auth/sessions/nope", headers=bearer(other["access_token"])), 404,
                 "session_not_found")
    boss = login(client, "boss").json
    assert client.delete(f"/api/auth/sessions/{victim['session_id']}",
                         headers=bearer(boss["access_token"])).status_code == 204
    assert_error(client.get("/api/auth/me", headers=bearer(victim["access_token"])), 401, "invalid_token")


def test_ten_wrong_passwords_in_a_row_give_429_with_retry_after(client, db, user):
    for _ in range(10):
        assert_error(login(client, password="wrong"), 401, "bad_credentials")
    blocked = login(client, password="wrong")
    assert_error(blocked, 429, "too_many_attempts")
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    # Even the right password waits now: guessing the 11th time must not reveal a hit.
    assert_error(login(client), 429, "too_many_attempts")
    # The limit is per username: a colleague on the same network still signs in.
    gen_user(db, "colleague", password="correct horse")
    assert login(client, "colleague").status_code == 200


@pytest.fixture
def strict(app):
    """A second app on the same database that pauses sign-in after 3 wrong passwords (fewer slow hashes)."""
    other = make_app(app.config["SETTINGS"].mongo_db, LOGIN_FAILURE_LIMIT=3)
    return other.test_client()


def test_a_correct_password_resets_the_count_of_wrong_ones(strict, user):
    for _ in range(2):
        login(strict, password="wrong")
    assert login(strict).status_code == 200
    for _ in range(2):
        assert login(strict, password="wrong").status_code == 401
    assert login(strict).status_code == 200
    for _ in range(3):
        login(strict, password="wrong")
    assert_error(login(strict), 429, "too_many_attempts")


def test_wrong_passwords_for_unknown_users_are_limited_too(strict):
    for _ in range(3):
        assert_error(login(strict, "nobody", "guess"), 401, "bad_credentials")
    assert_error(login(strict, "nobody", "guess"), 429, "too_many_attempts")


def test_guessing_across_many_usernames_from_one_address_is_limited(app, user):
    spray = make_app(app.config["SETTINGS"].mongo_db, LOGIN_ADDRESS_FAILURE_LIMIT=4).test_client()
    for n in range(4):
        assert login(spray, f"guess{n}", "password1").status_code == 401
    assert_error(login(spray, "li.wei", "password1"), 429, "too_many_attempts")
    other_address = spray.post("/api/auth/login", json={"username": "li.wei", "password": "correct horse"},
                               environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other_address.status_code == 200


def test_each_app_has_its_own_limiter_counters(client, strict, user):
    for _ in range(3):
        login(strict, password="wrong")
    assert login(strict, password="wrong").status_code == 429
    assert login(client).status_code == 200
    assert strict.application.extensions["login_limiter"] is not client.application.extensions["login_limiter"]


def test_a_broken_limiter_store_never_turns_sign_in_into_a_500(app, client, user):
    storage = app.extensions["login_limiter"].storage

    def unreachable(*args, **kwargs):
        raise ConnectionError("limiter store down")

    for method in ("get", "incr", "clear", "get_expiry", "check"):
        setattr(storage, method, unreachable)
    assert_error(login(client, password="wrong"), 401, "bad_credentials")
    assert login(client).status_code == 200


@pytest.mark.skipif(REAL_MONGO, reason="checks the storage chosen for an unreachable server")
def test_production_limiter_counts_in_mongodb_shared_by_workers(monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:9/?directConnection=true")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("MONGO_TIMEOUT_MS", "200")
    app = create_app({"MONGO_DB": "limiter_store"})
    storage = app.extensions["login_limiter"].storage
    assert isinstance(storage, MongoDBStorage) and storage._storage_uri.startswith("mongodb://127.0.0.1:9/")
    assert storage._database_name == "limiter_store"


@pytest.mark.requires_mongo
def test_two_workers_share_one_count_of_wrong_passwords(app, client, user):
    worker2 = make_app(app.config["SETTINGS"].mongo_db).test_client()
    for n in range(10):
        login(client if n % 2 else worker2, password="wrong")
    assert_error(login(client), 429, "too_many_attempts")
    assert_error(login(worker2), 429, "too_many_attempts")


def test_a_disabled_user_cannot_sign_in_and_tokens_die(client, db, user):
    tokens = login(client).json
    accounts.set_disabled(db, None, user["_id"], True)
    assert_error(login(client), 401, "bad_credentials")
    assert_error(client.get("/api/auth/me", headers=bearer(tokens["access_token"])), 401, "invalid_token")
    assert_error(client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401,
                 "invalid_token")


def test_a_refresh_token_dies_when_its_user_is_disabled_behind_its_back(client, db, user):
    tokens = login(client).json
    # A sign-in racing the disable could leave a live session; refresh re-checks the user.
    db.users.update_one({"_id": user["_id"]}, {"$set": {"disabled": True}})
    assert_error(client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401,
                 "invalid_token")


def test_change_own_password_signs_out_other_devices(client, user):
    phone = login(client, device_id="phone-1").json
    laptop = login(client, device_id="laptop").json
    wrong = client.post("/api/auth/password", headers=bearer(laptop["access_token"]),
                        json={"current_password": "nope", "new_password": "a much longer one"})
    assert_error(wrong, 403, "bad_credentials")
    short = client.post("/api/auth/password", headers=bearer(laptop["access_token"]),
                        json={"current_password": "correct horse", "new_password": "short"})
    assert_error(short, 422, "weak_password")
    done = client.post("/api/auth/password", headers=bearer(laptop["access_token"]),
                       json={"current_password": "correct horse", "new_password": "a much longer one"})
    assert done.status_code == 204
    assert_error(client.get("/api/auth/me", headers=bearer(phone["access_token"])), 401, "invalid_token")
    assert client.get("/api/auth/me", headers=bearer(laptop["access_token"])).status_code == 200
    assert login(client, password="a much longer one").status_code == 200


@pytest.mark.parametrize("body", [None, "not json", {}, {"username": 5, "password": []},
                                  {"username": "x" * 5000, "password": "y"}, {"username": "a", "password": ""}])
def test_bad_login_bodies_are_422_never_500(client, body):
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    response = client.post("/api/auth/login", **kwargs)
    assert response.status_code in (400, 415, 422), response.json
    assert response.json["code"] == response.status_code


def test_non_demo_app_has_no_demo_users(monkeypatch):
    if not REAL_MONGO:
        # Stand in for a real server with the embedded store: what matters is that demo mode is off.
        import mongomock

        from inspector.store import connection as store

        monkeypatch.setattr(store, "_new_client", lambda settings: mongomock.MongoClient(tz_aware=True))
        monkeypatch.setenv("MONGO_URI", "mongodb://db.invalid:27017")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    # The limiter would try the fake server; it is not what this test is about.
    app = create_app({"MONGO_DB": f"test_nodemo_{time.time_ns()}", "RATELIMIT_ENABLED": REAL_MONGO})
    assert app.config["SETTINGS"].demo is False
    client = app.test_client()
    for spec in demo_users.DEMO_USERS:
        assert_error(login(client, spec["username"], demo_users.DEMO_PASSWORD), 401, "bad_credentials")
    with app.app_context():
        from api.context import db

        assert db().users.count_documents({}) == 0
        db().client.drop_database(db().name)
