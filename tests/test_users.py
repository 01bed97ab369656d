"""User management through the HTTP API and the `users` CLI: only administrators, and never a password hash."""
import json

import pytest

from conftest import gen_enterprise, gen_user


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_error(response, status, error_code):
    assert response.status_code == status, response.json
    assert response.json["code"] == status and response.json["message"]
    assert response.json["errors"]["error_code"] == error_code


@pytest.fixture
def admin(db, auth):
    gen_user(db, "root", role="admin", password="admin password")
    return bearer(auth.login("root", "admin password"))


@pytest.fixture
def enterprise(db):
    gen_enterprise(db, "ENT-GMT", name="Ganzhou Market Traders", province="Jiangxi")


def create(client, admin, **body):
    return client.post("/api/users", headers=admin, json=body)


def test_the_wrong_role_is_403_on_every_admin_endpoint(client, db, auth):
    gen_user(db, "li.wei", password="correct horse")
    inspector = bearer(auth.login("li.wei", "correct horse"))
    for method, url in (("get", "/api/users"), ("post", "/api/users"), ("get", "/api/users/x"),
                        ("post", "/api/users/x/disable"), ("post", "/api/users/x/enable"),
                        ("post", "/api/users/x/reset-password"), ("post", "/api/users/x/revoke-sessions"),
                        ("get", "/api/users/x/sessions")):
        response = getattr(client, method)(url, headers=inspector, json={})
        assert_error(response, 403, "forbidden_role")
        assert_error(getattr(client, method)(url, json={}), 401, "not_signed_in")


def test_create_with_a_generated_one_time_password(client, admin, auth):
    response = create(client, admin, username="Zhao.Lei", role="supervisor", provinces=["Jiangxi", "Hunan"],
                      display_name="Zhao Lei")
    assert response.status_code == 201
    body = response.json
    assert body["username"] == "zhao.lei" and body["provinces"] == ["Hunan", "Jiangxi"]
    assert body["must_change_password"] is True and len(body["one_time_password"]) >= 12
    assert "password_hash" not in response.get_data(as_text=True)
    tokens = auth.login("zhao.lei", body["one_time_password"])
    assert tokens["must_change_password"] is True and tokens["provinces"] == ["Hunan", "Jiangxi"]
    # A one-time password opens only the door to choosing a new one.
    assert_error(client.get("/api/scans", headers=bearer(tokens)), 403, "password_change_required")
    assert client.get("/api/auth/me", headers=bearer(tokens)).status_code == 200
    changed = client.post("/api/auth/password", headers=bearer(tokens),
                          json={"current_password": body["one_time_password"], "new_password": "my own secret"})
    assert changed.status_code == 204
    assert client.get("/api/scans", headers=bearer(tokens)).status_code == 200
    assert auth.login("zhao.lei", "my own secret")["must_change_password"] is False


def test_create_with_a_chosen_password(client, admin, auth, enterprise):
    response = create(client, admin, username="clerk", role="enterprise", enterprise_id="ENT-GMT",
                      password="a chosen password")
    assert response.status_code == 201
    assert response.json["one_time_password"] is None and response.json["must_change_password"] is False
    assert auth.login("clerk", "a chosen password")["enterprise_id"] == "ENT-GMT"


@pytest.mark.parametrize("body,status,code", [
    ({"username": "e1", "role": "enterprise"}, 422, "enterprise_required"),
    ({"username": "e2", "role": "enterprise", "enterprise_id": "ENT-NOPE"}, 422, "unknown_enterprise"),
    ({"username": "i1", "role": "inspector", "enterprise_id": "ENT-GMT"}, 422, "enterprise_not_allowed"),
    ({"username": "i2", "role": "inspector", "provinces": ["Jiangxi"]}, 422, "provinces_not_allowed"),
    ({"username": "s1", "role": "supervisor", "provinces": ["Atlantis"]}, 422, None),
    ({"username": "x1", "role": "superuser"}, 422, None),
    ({"username": "x2", "role": "admin", "password": "short"}, 422, None),
    ({"username": "bad name!", "role": "admin"}, 422, "invalid_username"),
    ({"role": "admin"}, 422, None),
    ({"username": "root", "role": "admin"}, 409, "username_taken"),
    ({"username": "ROOT ", "role": "admin"}, 409, "username_taken"),
])
def test_create_validates_role_binding_and_provinces(client, admin, enterprise, body, status, code):
    response = create(client, admin, **body)
    assert response.status_code == status, response.json
    assert response.json["code"] == status
    if code:
        assert response.json["errors"]["error_code"] == code


def test_list_users_paginates_filters_and_hides_hashes(client, admin, db):
    for n in range(4):
        gen_user(db, f"insp{n}", password="correct horse")
    response = client.get("/api/users?role=inspector&page_size=3", headers=admin)
    assert response.status_code == 200
    assert [u["username"] for u in response.json] == ["insp0", "insp1", "insp2"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 4
    assert "password_hash" not in response.get_data(as_text=True)
    assert [u["username"] for u in client.get("/api/users?role=admin", headers=admin).json] == ["root"]
    assert client.get("/api/users?role=wizard", headers=admin).status_code == 422


def test_disable_refuses_sign_in_and_kills_tokens_then_enable_restores(client, admin, db, auth):
    user, password = gen_user(db, "li.wei", password="correct horse")
    tokens = auth.login("li.wei", password)
    response = client.post(f"/api/users/{user['_id']}/disable", headers=admin)
    assert response.status_code == 200 and response.json["disabled"] is True
    assert_error(client.get("/api/auth/me", headers=bearer(tokens)), 401, "invalid_token")
    assert_error(client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401,
                 "invalid_token")
    refused = client.post("/api/auth/login", json={"username": "li.wei", "password": password})
    assert_error(refused, 401, "bad_credentials")
    assert client.post(f"/api/users/{user['_id']}/enable", headers=admin).json["disabled"] is False
    assert auth.login("li.wei", password)["role"] == "inspector"


def test_an_admin_cannot_disable_themselves(client, admin, db):
    me = client.get("/api/auth/me", headers=admin).json
    assert_error(client.post(f"/api/users/{me['id']}/disable", headers=admin), 409, "cannot_disable_self")


def test_reset_password_returns_a_one_time_password_and_revokes_sessions(client, admin, db, auth):
    user, password = gen_user(db, "li.wei", password="correct horse")
    tokens = auth.login("li.wei", password)
    response = client.post(f"/api/users/{user['_id']}/reset-password", headers=admin, json={})
    assert response.status_code == 200
    assert response.json["revoked_sessions"] == 1 and response.json["must_change_password"] is True
    assert "password_hash" not in response.get_data(as_text=True)
    assert_error(client.get("/api/auth/me", headers=bearer(tokens)), 401, "invalid_token")
    old = client.post("/api/auth/login", json={"username": "li.wei", "password": password})
    assert_error(old, 401, "bad_credentials")
    assert auth.login("li.wei", response.json["one_time_password"])["must_change_password"] is True


def test_reset_password_to_a_chosen_one(client, admin, db, auth):
    user, _ = gen_user(db, "li.wei", password="correct horse")
    response = client.post(f"/api/users/{user['_id']}/reset-password", headers=admin,
                           json={"password": "chosen by admin"})
    assert response.status_code == 200 and response.json["one_time_password"] is None
    assert auth.login("li.wei", "chosen by admin")["must_change_password"] is False
    short = client.post(f"/api/users/{user['_id']}/reset-password", headers=admin, json={"password": "short"})
    assert short.status_code == 422


def test_revoke_sessions_signs_a_user_out_everywhere(client, admin, db, auth):
    user, password = gen_user(db, "li.wei", password="correct horse")
    phone = auth.login("li.wei", password, device_id="phone")
    tablet = auth.login("li.wei", password, device_id="tablet")
    listed = client.get(f"/api/users/{user['_id']}/sessions", headers=admin).json
    assert {s["device_id"] for s in listed} == {"phone", "tablet"}
    response = client.post(f"/api/users/{user['_id']}/revoke-sessions", headers=admin)
    assert response.json == {"revoked_sessions": 2}
    for tokens in (phone, tablet):
        assert_error(client.get("/api/auth/me", headers=bearer(tokens)), 401, "invalid_token")
    assert client.get(f"/api/users/{user['_id']}/sessions", headers=admin).json == []


def test_unknown_user_is_404(client, admin):
    for method, url in (("get", "/api/users/nope"), ("post", "/api/users/nope/disable"),
                        ("post", "/api/users/nope/enable"), ("post", "/api/users/nope/reset-password"),
                        ("post", "/api/users/nope/revoke-sessions"), ("get", "/api/users/nope/sessions")):
        assert_error(getattr(client, method)(url, headers=admin, json={}), 404, "user_not_found")


def test_openapi_documents_roles_security_and_examples(client):
    spec = client.get("/api/openapi.json").json
    create_op = spec["paths"]["/api/users"]["post"]
    assert create_op["security"] == [{"bearerAuth": []}]
    assert create_op["x-roles"] == ["admin"]
    assert create_op["requestBody"]["content"]["application/json"]["example"]["role"] == "supervisor"
    assert spec["paths"]["/api/auth/sessions/{session_id}"]["delete"]["x-roles"] == ["any signed-in user"]
    assert "429" in spec["paths"]["/api/auth/login"]["post"]["responses"]


def test_cli_creates_the_first_admin_from_stdin(runner, client, auth, db):
    result = runner.invoke(args=["users", "create", "--role", "admin", "--username", "Boss", "--password-stdin"],
                           input="first admin password\n")
    assert result.exit_code == 0, result.output
    assert "created admin boss" in result.output
    assert auth.login("boss", "first admin password")["role"] == "admin"
    assert db.audit_log.find_one({"action": "user.create"})["actor"] == "cli"


def test_cli_prompts_for_the_password_twice(runner, auth):
    result = runner.invoke(args=["users", "create", "--role", "supervisor", "--username", "sup",
                                 "--province", "Jiangxi"], input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert auth.login("sup", "a long password")["provinces"] == ["Jiangxi"]


def test_cli_signs_every_device_out_after_a_restore(runner, client, auth, db):
    """Sessions restored from a backup may include ones revoked since: one command ends them all."""
    user, password = gen_user(db, role="supervisor")
    phone = auth.headers(user["username"], password, device_id="phone")
    laptop = auth.headers(user["username"], password, device_id="laptop")
    assert client.get("/api/inspections", headers=phone).status_code == 200
    result = runner.invoke(args=["users", "sign-out-all", "--reason", "restored from backup"])
    assert result.exit_code == 0, result.output
    assert "revoked 2 live session(s)" in result.output
    for headers in (phone, laptop):
        answer = client.get("/api/inspections", headers=headers)
        assert answer.status_code == 401 and answer.json["errors"]["error_code"] == "invalid_token"
    assert db.audit_log.find_one({"action": "sessions.revoke_all"})["details"] == {"reason": "restored from backup"}
    assert auth.login(user["username"], password)["role"] == "supervisor", "signing in again works"


def test_cli_sign_out_all_needs_a_reason(runner):
    result = runner.invoke(args=["users", "sign-out-all"])
    assert result.exit_code != 0 and "--reason" in result.output


@pytest.mark.parametrize("args,stdin,needle", [
    (["--role", "admin", "--username", "a"], "short\n", "at least"),
    (["--role", "enterprise", "--username", "e"], "a long password\n", "bound to an enterprise"),
    (["--role", "wizard", "--username", "w"], "a long password\n", "wizard"),
])
def test_cli_refuses_bad_users_with_one_clear_line(runner, args, stdin, needle):
    result = runner.invoke(args=["users", "create", "--password-stdin", *args], input=stdin)
    assert result.exit_code != 0
    assert needle in result.output


def test_cli_refuses_a_taken_username(runner, db):
    gen_user(db, "boss", role="admin")
    result = runner.invoke(args=["users", "create", "--role", "admin", "--username", "boss", "--password-stdin"],
                           input="first admin password\n")
    assert result.exit_code == 1 and "taken" in result.output


@pytest.mark.parametrize("method,url,kwargs", [
    ("post", "/api/users", {"data": "{not json", "content_type": "application/json"}),
    ("post", "/api/users", {"json": ["a", "list"]}),
    ("post", "/api/users", {"json": {"username": {"$gt": ""}, "role": "admin"}}),
    ("post", "/api/users", {"json": {"username": "p", "role": "supervisor", "provinces": "Jiangxi"}}),
    ("post", "/api/users", {"json": {"username": "p", "role": "enterprise", "enterprise_id": {"$ne": None}}}),
    ("get", "/api/users?page=0", {}),
    ("get", "/api/users?page_size=100000", {}),
    ("get", "/api/users?disabled=maybe", {}),
    ("post", "/api/users/%00/disable", {}),
    ("post", "/api/users/x/reset-password", {"json": {"password": 12345678901}}),
    ("delete", "/api/auth/sessions/" + "x" * 3000, {}),
    ("post", "/api/auth/password", {"json": {"current_password": None}}),
    ("post", "/api/auth/refresh", {"json": {"refresh_token": ["x"]}}),
    ("get", "/api/auth/me", {"headers": {"Authorization": "Bearer " + "x" * 10000}}),
    ("get", "/api/auth/me", {"headers": {"Authorization": "Bearer eyJzaWQiOlsxXX0.aaaa.bbbb"}}),
])
def test_garbage_never_gives_a_500(client, admin, method, url, kwargs):
    kwargs = {"headers": admin, **kwargs}
    response = getattr(client, method)(url, **kwargs)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.json["code"] == response.status_code and "status" in response.json
