"""Attacks on sign-in throttling: locking the owner out, and a shared proxy address."""
from conftest import gen_user, make_app

STRANGER = {"REMOTE_ADDR": "203.0.113.9"}
OWNER = {"REMOTE_ADDR": "198.51.100.4"}
PROXY = "10.0.0.2"


def login(client, password, environ, username="li.wei", headers=None):
    return client.post("/api/auth/login", json={"username": username, "password": password, "device_id": "phone-1"},
                       environ_base=environ, headers=headers or {})


def test_a_stranger_guessing_cannot_lock_the_owner_out(app, db):
    gen_user(db, "li.wei", password="correct horse")
    client = make_app(app.config["SETTINGS"].mongo_db, LOGIN_FAILURE_LIMIT=3).test_client()
    for _ in range(3):
        assert login(client, "guess", STRANGER).status_code == 401
    blocked = login(client, "guess", STRANGER)
    assert blocked.status_code == 429 and blocked.json["errors"]["error_code"] == "too_many_attempts"
    # The stranger's pause does not reach the owner's right password from the owner's own address.
    assert login(client, "correct horse", OWNER).status_code == 200


def test_an_administrators_password_reset_lifts_the_pause(app, db):
    user = gen_user(db, "li.wei", password="correct horse")[0]
    gen_user(db, "boss", role="admin", password="boss password")
    client = make_app(app.config["SETTINGS"].mongo_db, LOGIN_FAILURE_LIMIT=3).test_client()
    for _ in range(4):
        login(client, "guess", OWNER)
    assert login(client, "correct horse", OWNER).status_code == 429
    admin = client.post("/api/auth/login", json={"username": "boss", "password": "boss password"}).json
    reset = client.post(f"/api/users/{user['_id']}/reset-password", json={"password": "a new long password"},
                        headers={"Authorization": f"Bearer {admin['access_token']}"})
    assert reset.status_code == 200, reset.json
    assert login(client, "a new long password", OWNER).status_code == 200


def test_retry_after_never_exceeds_the_window(app, db):
    gen_user(db, "li.wei", password="correct horse")
    client = make_app(app.config["SETTINGS"].mongo_db, LOGIN_FAILURE_LIMIT=1, LOGIN_FAILURE_MINUTES=1).test_client()
    for _ in range(6):
        response = login(client, "guess", OWNER)
        if response.status_code == 429:
            assert 1 <= int(response.headers["Retry-After"]) <= 60
            assert response.json["errors"]["retry_after_seconds"] == int(response.headers["Retry-After"])
    assert response.status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_address(app, db, monkeypatch):
    gen_user(db, "li.wei", password="correct horse")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", f"{PROXY},10.9.0.0/16")
    client = make_app(app.config["SETTINGS"].mongo_db, LOGIN_FAILURE_LIMIT=3).test_client()
    via_proxy = {"REMOTE_ADDR": PROXY}
    for _ in range(4):
        login(client, "guess", via_proxy, headers={"X-Forwarded-For": "203.0.113.9"})
    assert login(client, "correct horse", via_proxy, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    # Another phone behind the same proxy is another address.
    assert login(client, "correct horse", via_proxy, headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 200


def test_an_untrusted_client_cannot_pick_its_address_with_x_forwarded_for(app, db):
    gen_user(db, "li.wei", password="correct horse")
    client = make_app(app.config["SETTINGS"].mongo_db, LOGIN_FAILURE_LIMIT=3).test_client()
    for n in range(4):
        login(client, "guess", STRANGER, headers={"X-Forwarded-For": f"192.0.2.{n}"})
    assert login(client, "correct horse", STRANGER, headers={"X-Forwarded-For": "192.0.2.200"}).status_code == 429
