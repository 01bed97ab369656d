"""Fixtures in the flaskr style: every test gets its own database named by a uuid.

The suite runs on the embedded store by default, and unchanged against a real MongoDB when MONGO_URI is set.
"""
import os
import uuid

import pytest

from api import create_app
from api.context import db as current_db
from inspector.accounts import users as accounts
from seed import users as demo_users

REAL_MONGO = bool(os.environ.get("MONGO_URI"))
TEST_SECRET = "test-secret-key-not-for-production"


def pytest_configure(config):
    config.addinivalue_line("markers", "requires_mongo: needs a real MongoDB server (set MONGO_URI)")
    config.addinivalue_line("markers", "browser: drives Debian's chromium through Playwright")


def pytest_collection_modifyitems(config, items):
    if REAL_MONGO:
        return
    skip = pytest.mark.skip(reason="needs a real MongoDB: set MONGO_URI to run it")
    for item in items:
        if "requires_mongo" in item.keywords:
            item.add_marker(skip)


def make_app(db_name=None, **config):
    """An app for tests on the named database (a fresh uuid-named one by default), without the demo data."""
    return create_app({"MONGO_DB": db_name or f"test_{uuid.uuid4().hex}", "SEED_DEMO": False, "TESTING": True,
                       "SECRET_KEY": TEST_SECRET, **config})


@pytest.fixture
def app():
    """An app on a fresh, empty database (indexes applied, no demo data)."""
    name = f"test_{uuid.uuid4().hex}"
    app = make_app(name)
    yield app
    with app.app_context():
        database = current_db()
        database.client.drop_database(name)


@pytest.fixture
def db(app):
    """The test's database."""
    with app.app_context():
        yield current_db()


@pytest.fixture
def client(app):
    """A real HTTP client against the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """The app's CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def seeded(db):
    """The test database loaded with the small demo dataset and the demo users; returns the planted cases."""
    from seed.loader import load

    load(db, "small")
    demo_users.ensure_demo_users(db)
    return list(db.demo_cases.find({}, {"_id": 0}).sort("order", 1))


def gen_user(db, username=None, role="inspector", password="pw-" + uuid.uuid4().hex[:8], **kwargs):
    """Create a user and return (user, password)."""
    username = username or f"{role}-{uuid.uuid4().hex[:6]}"
    return accounts.create_user(db, username, password, role, **kwargs), password


class AuthActions:
    """Sign in through the real login endpoint and build Authorization headers."""

    def __init__(self, client):
        self._client = client

    def login(self, username, password="demo", device_id=None):
        response = self._client.post("/api/auth/login", json={"username": username, "password": password,
                                                              "device_id": device_id or f"dev-{username}"})
        assert response.status_code == 200, response.json
        return response.json

    def headers(self, username, password="demo", device_id=None):
        token = self.login(username, password, device_id)["access_token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(client):
    """Sign-in helper."""
    return AuthActions(client)


CLERK_PASSWORD = "clerk-password-1"
_clerk_hash = []


class Clerks(dict):
    """Sign-in headers by enterprise id (a clerk of it) or demo staff name, signing in on first use."""

    def __init__(self, db, auth):
        super().__init__()
        self.db, self.auth = db, auth

    def __missing__(self, key):
        if key in ("admin", "inspector", "supervisor"):
            self[key] = self.auth.headers(key)
        else:
            if not _clerk_hash:
                _clerk_hash.append(accounts.hash_password(CLERK_PASSWORD))
            user = accounts.create_user(self.db, f"clerk-{key.lower()}", "unused", "enterprise", enterprise_id=key,
                                        password_hash=_clerk_hash[0])
            self[key] = self.auth.headers(user["username"], CLERK_PASSWORD)
        return self[key]


@pytest.fixture
def clerks(seeded, db, auth):
    """Sign-in headers for clerks of the demo enterprises and for the demo staff, on the seeded database."""
    return Clerks(db, auth)
