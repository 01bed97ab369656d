"""Hardening seen from outside: security headers, closed CORS, no cookies, no traces, body limits, clean JSON logs."""
import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import session
from pymongo.errors import ServerSelectionTimeoutError

from api.context import db as current_db
from inspector.store import connection as store
from inspector.settings import SettingsError, load_settings
from tests.conftest import TEST_SECRET, gen_user
from tests.conftest import make_app as new_app

ROOT = Path(__file__).resolve().parent.parent
EVIL = "https://evil.example"
CHUNKED = {"environ_overrides": {"wsgi.input_terminated": True}}  # what gunicorn says of a chunked body


@pytest.fixture
def make_app():
    """Build extra apps with their own settings; their databases are dropped afterwards."""
    made = []

    def make(**config):
        name = f"test_{uuid.uuid4().hex}"
        app = new_app(name, **config)
        made.append((app, name))
        return app
    yield make
    for app, name in made:
        if app.config["SETTINGS"].demo:
            with app.app_context():
                current_db().client.drop_database(name)


@pytest.fixture
def admin(db, auth):
    gen_user(db, "admin-h", role="admin", password="admin-password-1")
    return auth.headers("admin-h", "admin-password-1")


def boom_app(make_app):
    """An app with one route that fails in a way no handler expects, not propagated as TESTING would."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("kaboom with secret detail /srv/inspector/internal.py")
    return app


def chunked_post(client, path, body, headers=None, content_type="application/json"):
    """POST a body with Transfer-Encoding: chunked and no Content-Length, as a phone or proxy may."""
    return client.post(path, data=body, content_type=content_type, **CHUNKED,
                       headers={"Transfer-Encoding": "chunked", **(headers or {})})


def assert_locked_down(response, https=False):
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, (response.request.path, response.status_code)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert ("Strict-Transport-Security" in response.headers) is https
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", response.headers.get("X-Request-ID", ""))
    assert not any(h.lower().startswith("access-control-") for h in response.headers.keys())
    assert "Set-Cookie" not in response.headers


# --- Security headers -------------------------------------------------------------------------------------------


def every_kind(client, make_app, admin, monkeypatch, base_url):
    """One response of every kind the service gives, over the given scheme."""
    kw = {"base_url": base_url}
    shell, _ = __import__("api.web", fromlist=["shell_files"]).shell_files()
    asset = next(u for u in shell if u.startswith("/app/"))
    answers = {
        "shell": client.get("/", **kw),
        "static": client.get(asset, **kw),
        "manifest": client.get("/manifest.webmanifest", **kw),
        "api json": client.get("/api/meta", **kw),
        "health": client.get("/healthz", **kw),
        "docs": client.get("/api/docs", **kw),
        "openapi": client.get("/api/openapi.json", **kw),
        "download": client.get("/api/ledger/template.csv", headers=admin, **kw),
        "401": client.get("/api/auth/me", **kw),
        "404 api": client.get("/api/no-such-thing", **kw),
        "404 app": client.get("/app/no-such-file.js", **kw),
        "405": client.delete("/api/meta", **kw),
        "413": client.post("/api/auth/login", data=b"x" * (2 * 1024 * 1024), content_type="application/json", **kw),
        "422": client.post("/api/auth/login", json={}, **kw),
    }
    with monkeypatch.context() as m:
        m.setattr("inspector.accounts.users.find_user", _unreachable)
        answers["503"] = client.post("/api/auth/login", json={"username": "x", "password": "y"}, **kw)
    answers["500"] = boom_app(make_app).test_client().get("/api/boom", **kw)
    return answers


def _unreachable(*args, **kwargs):
    raise ServerSelectionTimeoutError("no server")


@pytest.mark.parametrize("base_url,https", [("http://localhost", False), ("https://localhost", True)])
def test_every_kind_of_response_carries_the_security_headers(client, make_app, admin, monkeypatch, base_url, https):
    answers = every_kind(client, make_app, admin, monkeypatch, base_url)
    expected = {"shell": 200, "static": 200, "manifest": 200, "api json": 200, "health": 200, "docs": 200,
                "openapi": 200, "download": 200, "401": 401, "404 api": 404, "404 app": 404, "405": 405, "413": 413,
                "422": 422, "503": 503, "500": 500}
    assert {kind: r.status_code for kind, r in answers.items()} == expected
    for response in answers.values():
        assert_locked_down(response, https=https)
    if https:
        assert answers["shell"].headers["Strict-Transport-Security"].startswith("max-age=")


def test_hsts_follows_the_scheme_the_server_saw(client):
    def over(scheme):
        return client.get("/api/meta", environ_overrides={"wsgi.url_scheme": scheme}).headers
    assert "Strict-Transport-Security" in over("https")
    assert "Strict-Transport-Security" not in over("http")


# --- CORS -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path,method", [("/api/auth/login", "POST"), ("/api/scans", "POST"), ("/api/meta", "GET"),
                                         ("/api/inspections", "GET")])
def test_cors_is_closed_to_other_origins(client, path, method):
    preflight = client.options(path, headers={"Origin": EVIL, "Access-Control-Request-Method": method,
                                              "Access-Control-Request-Headers": "authorization, content-type"})
    actual = client.open(path, method=method, headers={"Origin": EVIL},
                         **({"json": {"username": "inspector", "password": "demo"}} if method == "POST" else {}))
    for response in (preflight, actual):
        assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-allow")]


def test_a_signed_in_cross_origin_read_gets_no_cors_grant(client, admin):
    response = client.get("/api/users", headers={**admin, "Origin": EVIL})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


# --- Cookies ----------------------------------------------------------------------------------------------------


def test_no_api_answer_sets_a_cookie(client, db, auth):
    user, password = gen_user(db, "cookie-check", password="cookie-password-1")
    tokens = auth.login("cookie-check", password)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    answers = [
        client.post("/api/auth/login", json={"username": "cookie-check", "password": "wrong-password"}),
        client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        client.get("/api/auth/me", headers=bearer),
        client.get("/api/auth/sessions", headers=bearer),
        client.get("/"), client.get("/api/docs"), client.get("/api/openapi.json"), client.get("/api/nothing"),
    ]
    assert all("Set-Cookie" not in r.headers for r in answers)
    assert not client._cookies, "the client holds no cookie at all"


def test_a_cookie_set_by_the_app_would_be_secure_httponly_and_same_site(make_app):
    app = make_app()

    @app.get("/api/cookie-probe")
    def probe():
        session["seen"] = True
        return {"ok": True}
    cookie = app.test_client().get("/api/cookie-probe", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


# --- No stack traces --------------------------------------------------------------------------------------------


def test_an_unexpected_failure_answers_500_without_a_trace_and_logs_it(make_app, caplog):
    client = boom_app(make_app).test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/boom", headers={"X-Request-ID": "trace-me-1"})
    assert response.status_code == 500
    body = response.json
    assert body["code"] == 500 and body["status"] == "Internal Server Error" and body["message"]
    assert body["errors"] == {"error_code": "internal_error", "request_id": "trace-me-1"}
    assert response.headers["X-Request-ID"] == "trace-me-1"
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "kaboom", "internal.py", 'File "'):
        assert leak not in text
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is RuntimeError]
    assert logged, "the traceback is logged on the server side"


def test_http_errors_keep_their_own_status_with_a_catch_all_in_place(make_app):
    client = boom_app(make_app).test_client()
    assert client.get("/api/nothing-here").status_code == 404
    assert client.delete("/api/meta").status_code == 405


# --- Body size limits -------------------------------------------------------------------------------------------


@pytest.fixture
def small(make_app, db):
    """An app that takes JSON bodies of 4 KB and uploads of 2 KB (plus the multipart framing allowance)."""
    app = make_app(MAX_JSON_BYTES=4096, MAX_UPLOAD_BYTES=2048, MAX_FORM_MEMORY_BYTES=2048, MAX_FORM_PARTS=10)
    client = app.test_client()
    with app.app_context():
        gen_user(current_db(), "admin-s", role="admin", password="admin-password-1")
        gen_user(current_db(), "insp-s", role="inspector", password="insp-password-1")
    token = {}
    for name, password in (("admin-s", "admin-password-1"), ("insp-s", "insp-password-1")):
        r = client.post("/api/auth/login", json={"username": name, "password": password})
        token[name] = {"Authorization": f"Bearer {r.json['access_token']}"}
    return client, token


def padded_login(size):
    """A wrong-password sign-in padded with JSON whitespace to size bytes."""
    raw = json.dumps({"username": "nobody", "password": "x"}).encode()
    return raw + b" " * (size - len(raw))


def assert_413(response, error_code, **limits):
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    body = response.json
    assert body["code"] == 413 and body["errors"]["error_code"] == error_code
    for key, value in limits.items():
        assert body["errors"][key] == value
    assert response.headers["X-Request-ID"]


def test_a_json_body_over_max_json_bytes_is_413_naming_the_limit(small):
    client, _ = small
    assert client.post("/api/auth/login", data=padded_login(4000), content_type="application/json").status_code == 401
    response = client.post("/api/auth/login", data=padded_login(5000), content_type="application/json")
    assert_413(response, "request_too_large", limit_bytes=4096)
    assert "4 KB" in response.json["message"]


def test_a_chunked_json_body_without_content_length_is_limited_too(small):
    client, _ = small
    assert chunked_post(client, "/api/auth/login", padded_login(4000)).status_code == 401
    assert_413(chunked_post(client, "/api/auth/login", padded_login(6000)), "request_too_large", limit_bytes=4096)


def test_ledger_json_and_epcis_captures_take_bodies_up_to_the_upload_limit(small):
    client, token = small
    events = [{"event_id": f"E{i}", "type": "production", "enterprise_id": "ENT-NONE", "occurred_at": "2026-10-03",
               "outputs": [{"stage": "ore", "product_type": "bastnaesite_concentrate", "mass_kg": 1}]}
              for i in range(60)]
    body = json.dumps({"events": events}).encode()
    assert 4096 < len(body) < 2048 + 256 * 1024
    plain = client.post("/api/ledger/submissions", data=body, content_type="application/json", headers=token["admin-s"])
    chunked = chunked_post(client, "/api/ledger/submissions", body, token["admin-s"])
    for response in (plain, chunked):
        assert response.status_code == 422, "read and judged line by line, not refused for its size"
        assert response.json["errors"]["error_code"] != "request_too_large"
    capture = {"@context": [], "type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": []},
               "padding": "p" * 8000}
    response = client.post("/api/epcis/capture", json=capture, headers=token["admin-s"])
    assert response.status_code != 413
    huge = b'{"events": [' + b" " * (300 * 1024) + b"]}"
    assert_413(chunked_post(client, "/api/ledger/submissions", huge, token["admin-s"]), "request_too_large",
               limit_bytes=2048 + 256 * 1024)
    assert_413(client.post("/api/ledger/submissions", data=huge, content_type="application/json",
                           headers=token["admin-s"]), "request_too_large", limit_bytes=2048 + 256 * 1024)


def test_a_large_body_to_an_endpoint_that_takes_only_json_is_refused_whatever_its_type(small):
    client, token = small
    response = client.post("/api/inspections", data=b"a" * 5000, content_type="text/plain", headers=token["insp-s"])
    assert_413(response, "request_too_large", limit_bytes=4096)


def test_multipart_forms_are_held_to_field_size_and_part_count(small):
    client, token = small
    many = {f"f{i}": "x" for i in range(20)}
    response = client.post("/api/scans", data=many, content_type="multipart/form-data", headers=token["insp-s"])
    assert_413(response, "form_too_large", limit_parts=10, limit_field_bytes=2048)
    long_field = {"code": "x" * 4000, "image": (io.BytesIO(b"not a photo"), "p.jpg")}
    response = client.post("/api/scans", data=long_field, content_type="multipart/form-data", headers=token["insp-s"])
    assert_413(response, "form_too_large")
    photo = {"image": (io.BytesIO(b"\xff" * (300 * 1024)), "p.jpg")}
    response = client.post("/api/decode", data=photo, content_type="multipart/form-data", headers=token["insp-s"])
    assert response.status_code == 413 and response.json["code"] == 413


def test_body_limit_settings_come_from_the_environment():
    settings = load_settings({"MAX_JSON_BYTES": "2048", "MAX_FORM_MEMORY_BYTES": "4096", "MAX_FORM_PARTS": "20"})
    assert (settings.max_json_bytes, settings.max_form_memory_bytes, settings.max_form_parts) == (2048, 4096, 20)
    assert load_settings({}).max_json_bytes == 1024 * 1024
    with pytest.raises(SettingsError, match="MAX_JSON_BYTES"):
        load_settings({"MAX_JSON_BYTES": "lots"})


# --- Logs: JSON, request ids, no secrets ------------------------------------------------------------------------


def json_lines(text):
    """Every JSON log line printed; anything else printed fails the test."""
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def test_every_log_line_is_json_with_the_request_id_and_an_access_line(client, db, auth, capsys):
    capsys.readouterr()
    gen_user(db, "logger-1", role="supervisor", password="logger-password-1")
    headers = auth.headers("logger-1", "logger-password-1")
    response = client.get("/api/inspections?status=new&token=should-not-show",
                          headers={**headers, "X-Request-ID": "abc.DEF-42_x"})
    assert response.headers["X-Request-ID"] == "abc.DEF-42_x"
    lines = json_lines(capsys.readouterr().out)
    access = [e for e in lines if e["logger"] == "api.access" and e["request_id"] == "abc.DEF-42_x"]
    assert len(access) == 1
    line = access[0]
    assert {"time", "level", "logger", "message", "request_id"} <= set(line)
    assert line["method"] == "GET" and line["path"] == "/api/inspections" and line["status"] == response.status_code
    assert line["role"] == "supervisor" and line["user_id"] and line["remote_addr"]
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert "should-not-show" not in json.dumps(lines)


@pytest.mark.parametrize("sent", ["has space", "x" * 65, "semi;colon", "", "ünïcode"])
def test_an_insane_request_id_is_replaced_by_a_new_one(client, sent):
    response = client.get("/api/nothing", headers={"X-Request-ID": sent})
    assert response.status_code == 404
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_secrets_never_reach_the_logs(client, db, auth, caplog, capsys, monkeypatch):
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()
    admin_user, admin_password = gen_user(db, "sec-admin", role="admin", password="Admin-Secret-Pass-9")
    admin_tokens = auth.login("sec-admin", admin_password)
    admin = {"Authorization": f"Bearer {admin_tokens['access_token']}"}
    secrets = {admin_password, admin_tokens["access_token"], admin_tokens["refresh_token"], TEST_SECRET}

    client.post("/api/auth/login", json={"username": "sec-admin", "password": "Wrong-Guess-Pass-7"})
    secrets.add("Wrong-Guess-Pass-7")
    refreshed = client.post("/api/auth/refresh", json={"refresh_token": admin_tokens["refresh_token"]}).json
    secrets |= {refreshed["access_token"], refreshed["refresh_token"]}
    client.post("/api/auth/refresh", json={"refresh_token": admin_tokens["refresh_token"]})  # reused: 401
    # The reuse ended the session, so the administrator signs in again.
    again = auth.login("sec-admin", admin_password)
    secrets |= {again["access_token"], again["refresh_token"]}
    admin = {"Authorization": f"Bearer {again['access_token']}"}

    created = client.post("/api/users", json={"username": "sec-insp", "role": "inspector",
                                              "password": "Chosen-Pass-One-1"}, headers=admin)
    assert created.status_code == 201, created.json
    secrets.add("Chosen-Pass-One-1")
    reset = client.post(f"/api/users/{created.json['id']}/reset-password", json={}, headers=admin)
    assert reset.status_code == 200, reset.json
    one_time = reset.json["one_time_password"]
    secrets.add(one_time)
    insp_tokens = auth.login("sec-insp", one_time)
    secrets |= {insp_tokens["access_token"], insp_tokens["refresh_token"]}
    insp = {"Authorization": f"Bearer {insp_tokens['access_token']}"}
    changed = client.post("/api/auth/password", json={"current_password": one_time,
                                                      "new_password": "Brand-New-Pass-22"}, headers=insp)
    assert changed.status_code == 204, changed.json
    secrets.add("Brand-New-Pass-22")
    client.post("/api/auth/password", json={"current_password": "Not-It-Pass-33", "new_password": "Another-Pass-44"},
                headers=insp)
    secrets |= {"Not-It-Pass-33", "Another-Pass-44"}
    insp_tokens = auth.login("sec-insp", "Brand-New-Pass-22")
    insp = {"Authorization": f"Bearer {insp_tokens['access_token']}"}
    secrets.add(insp_tokens["access_token"])
    scan = client.post("/api/scans", json={"code": "RE6LWUT4A5U", "client_id": str(uuid.uuid4()),
                                           "scanned_at": datetime.now(timezone.utc).isoformat(),
                                           "site": {"type": "market", "name": "Test"}}, headers=insp)
    assert scan.status_code == 201, scan.json
    client.get("/api/auth/me", headers={"Authorization": "Bearer forged.token.value-Forged-Secret-55"})
    secrets.add("forged.token.value-Forged-Secret-55")
    with monkeypatch.context() as m:
        m.setattr("inspector.accounts.users.find_user", _unreachable)
        assert client.post("/api/auth/login", json={"username": "sec-admin", "password": admin_password}
                           ).status_code == 503

    captured = capsys.readouterr()
    records = "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records)
    everything = "\n".join([caplog.text, records, captured.out, captured.err])
    assert "api.access" in everything, "the capture saw the request log"
    for secret in secrets:
        assert secret not in everything, f"a secret ({secret[:4]}...) reached the logs"


def test_database_credentials_never_reach_the_logs(make_app, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()
    uri = "mongodb://svc-user:Db-Pass-Word-77@127.0.0.1:9/inspector?authSource=admin"
    app = make_app(MONGO_URI=uri, SERVER_SELECTION_TIMEOUT_MS=100)
    client = app.test_client()
    try:
        assert client.get("/readyz").status_code == 503
        assert client.post("/api/auth/login", json={"username": "a", "password": "b"}).status_code == 503
    finally:
        store._clients.pop((os.getpid(), uri)).close()  # stop its monitor threads retrying for the whole session
    captured = capsys.readouterr()
    everything = "\n".join([caplog.text, captured.out, captured.err,
                            "\n".join(str(r.__dict__) for r in caplog.records)])
    assert "database unreachable" in everything or "unavailable" in everything
    assert "Db-Pass-Word-77" not in everything


def test_the_redaction_filter_catches_what_code_logs_by_mistake(client, capsys):
    capsys.readouterr()
    token = "QWERTYuiop1234567890asdfghjklZXCVBNM-_qwert"
    logging.getLogger("inspector.careless").warning(
        "debugging %s", {"password": "Hunter2-Pass", "Authorization": "Bearer abc.def.ghi", "refresh_token": token,
                         "uri": "mongodb+srv://u:Pw-In-Uri-1@cluster/x", "secret": TEST_SECRET})
    logging.getLogger("inspector.careless").warning("loose token %s", token)
    out = capsys.readouterr().out
    lines = [e for e in json_lines(out) if e["logger"] == "inspector.careless"]
    assert len(lines) == 2
    for secret in ("Hunter2-Pass", "abc.def.ghi", token, "Pw-In-Uri-1", TEST_SECRET):
        assert secret not in out
    assert "[redacted]" in lines[0]["message"] and "debugging" in lines[0]["message"]


def test_demo_mode_warning_stays_a_readable_json_message(capsys):
    capsys.readouterr()
    logging.getLogger("api").warning("DEMO MODE: %s. Data lives in memory and is lost when the process stops.",
                                     "6 enterprises, 40 batches")
    line = json_lines(capsys.readouterr().out)[-1]
    assert line["level"] == "WARNING" and line["message"].startswith("DEMO MODE: 6 enterprises, 40 batches.")


def test_gunicorn_log_config_makes_its_own_lines_json():
    script = (
        "import logging, logging.config\n"
        "from gunicorn.glogging import CONFIG_DEFAULTS\n"
        "from api.logs import GUNICORN_LOGCONFIG\n"
        "logging.config.dictConfig({**CONFIG_DEFAULTS, **GUNICORN_LOGCONFIG})\n"
        "logging.getLogger('gunicorn.error').info('Booting worker with pid: %s', 42)\n"
        "logging.getLogger('api').warning('password=%s', 'Gun-Pass-1')\n"
        "logging.getLogger('gunicorn.access').info('GET /api/meta?x=1 200')\n"
        "from api import logs\n"
        "logs.configure_logging()\n"
        "logging.getLogger('inspector').info('after the app configured logging')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    assert [e["message"] for e in lines][0] == "Booting worker with pid: 42"
    assert lines[0]["logger"] == "gunicorn.error"
    assert "Gun-Pass-1" not in done.stdout + done.stderr
    assert len(lines) == 3, "gunicorn's access line is dropped, and the app adds no second handler under gunicorn's"


# --- Dependency audit -------------------------------------------------------------------------------------------


def run_audit(tmp_path, **env):
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AUDIT_PROBE_TIMEOUT": "3",
            "AUDIT_PYPI_URL": "http://127.0.0.1:9/pypi", "AUDIT_OSV_URL": "http://127.0.0.1:9/v1/query"}
    return subprocess.run(["bash", "scripts/audit.sh"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**base, **env})


def test_an_unreachable_vulnerability_service_is_reported_as_not_audited_never_clean(tmp_path):
    done = run_audit(tmp_path)
    assert done.returncode == 0
    assert "NOT AUDITED: the vulnerability service is unreachable from this machine" in done.stderr
    assert "connection refused" in done.stderr.lower()
    assert "no known vulnerabilities" not in (done.stdout + done.stderr).lower()
    required = run_audit(tmp_path, AUDIT_REQUIRED="1")
    assert required.returncode == 1 and "NOT AUDITED" in required.stderr


def test_a_mirror_without_vulnerability_data_does_not_count_as_a_service(tmp_path):
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from threading import Thread

    class Mirror(BaseHTTPRequestHandler):
        def do_GET(self):  # a package page, as a mirror serves it: no vulnerabilities key
            body = json.dumps({"info": {"name": "flask", "version": "0"}, "urls": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    server = HTTPServer(("127.0.0.1", 0), Mirror)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = run_audit(tmp_path, AUDIT_PYPI_URL=f"http://127.0.0.1:{server.server_port}/pypi")
    finally:
        server.shutdown()
    assert done.returncode == 0 and "NOT AUDITED" in done.stderr
    assert "without vulnerability data" in done.stderr


def test_an_accepted_vulnerability_needs_a_reason(tmp_path):
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("# comment\nGHSA-aaaa-bbbb-cccc  not reachable from the service: only the CLI uses it\n"
                      "PYSEC-2099-1\n")
    done = run_audit(tmp_path, AUDIT_IGNORE_FILE=str(ignore))
    assert done.returncode == 1 and "PYSEC-2099-1 has no reason" in done.stderr
