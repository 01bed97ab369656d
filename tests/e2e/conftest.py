"""End-to-end fixtures: the real app (gunicorn, embedded demo store) on a free port, and Debian's chromium.

Every test gets a fresh browser context (its own IndexedDB, service worker and caches) at phone size.
Screenshots go to artifacts/screenshots/ (git-ignored).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import sign_in

from .helpers import CHROMIUM, CHROMIUM_ARGS, GANZHOU, PHONE

ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Start the app exactly as production does (gunicorn, one worker) on the embedded demo store."""
    if not (ROOT / "mobile_web" / "vendor" / "zxing" / "zxing_reader.wasm").is_file():
        pytest.fail("the web app is not built: run `bash scripts/build_web.sh`")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "WEB_CONCURRENCY")}
    env.update(PORT=str(port), SEED_SCALE="small", PYTHONUNBUFFERED="1")
    log = tmp_path_factory.mktemp("server") / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                                 "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "8", "api:create_app()"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("the app did not start:\n" + log.read_text(errors="replace")[-4000:])
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver for the whole session (the sync API allows only one per thread)."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM} (scripts/setup.sh --with-browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's chromium, driven by Playwright."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


class Api:
    """A tiny JSON client for checking what the server holds, as a given user."""

    def __init__(self, base):
        self.base = base
        self.tokens = {}

    def login(self, username, password="demo"):
        if username not in self.tokens:
            self.tokens[username] = sign_in(self, username, password, f"e2e-api-{username}")["access_token"]
        return self.tokens[username]

    def post(self, path, json):
        """A POST in the Flask test client's shape (status_code, json), for the shared sign-in helper."""
        status, data, _ = self.raw("POST", path, json)
        return SimpleNamespace(status_code=status, json=data)

    def call(self, method, path, body=None, user=None, headers=None):
        status, data, _ = self.raw(method, path, body, user, headers)
        assert 200 <= status < 300, (status, data)
        return data

    def raw(self, method, path, body=None, user=None, headers=None):
        h = {"Content-Type": "application/json", **(headers or {})}
        if user:
            h["Authorization"] = "Bearer " + self.login(user)
        req = urllib.request.Request(self.base + path, method=method, headers=h,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None, dict(r.headers)
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None, dict(e.headers)


@pytest.fixture(scope="session")
def api(server):
    return Api(server)


@pytest.fixture(scope="session")
def demo_cases(api):
    return api.call("GET", "/api/demo/cases")


@pytest.fixture
def new_context(browser, server):
    """Make browser contexts (phone size unless told) that are closed after the test; collects page errors."""
    made = []

    def make(viewport=PHONE, **kwargs):
        options = dict(base_url=server, viewport=viewport, geolocation=GANZHOU, permissions=["geolocation"],
                       locale="en-US", service_workers="allow", device_scale_factor=1)
        options.update(kwargs)
        ctx = browser.new_context(**options)
        ctx.errors = []
        ctx.on("weberror", lambda e: ctx.errors.append(str(e.error)))
        ctx.on("console", lambda m: ctx.errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def phone(new_context):
    """A phone-sized page, not signed in yet."""
    return new_context().new_page()


