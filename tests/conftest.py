"""Fixtures in the flaskr style: every test gets its own database named by a uuid.

The suite runs on the embedded store by default, and unchanged against a real MongoDB when MONGO_URI is set.
"""
import hashlib
import itertools
import os
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from api import create_app
from api.context import db as current_db
from inspector.accounts import users as accounts
from inspector.codes import batch_code
from seed import users as demo_users
from seed.enterprises import fictional_uscc
from seed.ledger import ITEM_REFS, PRODUCTS, gs1_check_digit

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


def gen_user(db, username=None, role="inspector", password=None, **kwargs):
    """Create a user and return (user, password); a fresh password is made for each call unless one is given."""
    username = username or f"{role}-{uuid.uuid4().hex[:6]}"
    password = password or "pw-" + uuid.uuid4().hex[:8]
    return accounts.create_user(db, username, password, role, **kwargs), password


_serial = itertools.count(5000)  # fictional USCCs, GS1 prefixes and serials clear of the seed's (which count from 0)
STAGE_ROLES = {"ore": "mine", "compound": "separator", "metal": "metal_smelter", "magnet": "magnet_maker"}
STAGE_PRODUCTS = {"ore": ("bastnaesite_concentrate", 50.0, 62.0), "compound": PRODUCTS["compound"][0],
                  "metal": PRODUCTS["metal"][0], "magnet": PRODUCTS["magnet"][0]}
STAGE_QUOTA = {"ore": "mining_light", "compound": "separation"}


def gen_enterprise(db, enterprise_id=None, name=None, roles=("trader",), province="Jiangxi", **fields):
    """Insert an enterprise shaped like the seed's (seed/enterprises.py) and return it; fields override or add keys."""
    n = next(_serial)
    enterprise_id = enterprise_id or f"ENT-T{n}"
    doc = {"_id": enterprise_id, "name": name or f"Test Enterprise {n}", "uscc": fictional_uscc(n, province),
           "roles": list(roles), "province": province, "city": None, "location": None, "quota_categories": [],
           "gs1_prefix": f"695{900000 + n:06d}",
           "_etag": hashlib.sha256(f"test:{enterprise_id}".encode()).hexdigest()[:32]}
    doc.update(fields)
    db.enterprises.insert_one(doc)
    return doc


def gen_batch(db, code=None, stage="compound", producer_id=None, mass_kg=1000.0, produced_on=None, parents=(),
              **fields):
    """Insert an active batch shaped like the seed's (seed/ledger.py) and return it; fields override or add keys.

    The producer is a new enterprise of the stage's role unless one is named (it must exist); no whitelist approval
    is granted. Parents are [(code, kg)]: recorded on the batch, not drawn from (their remaining_kg stays as it is).
    """
    producer = db.enterprises.find_one({"_id": producer_id}) if producer_id else gen_enterprise(
        db, roles=[STAGE_ROLES[stage]], quota_categories=[STAGE_QUOTA[stage]] if stage in STAGE_QUOTA else [])
    assert producer, f"no enterprise {producer_id}"
    code = code or batch_code.issue(random.Random())
    produced_on = produced_on or datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    product_type, low, high = STAGE_PRODUCTS[stage]
    doc = {"_id": code, "code": code, "stage": stage, "product_type": product_type, "mass_kg": mass_kg,
           "remaining_kg": mass_kg, "reo_pct": round((low + high) / 2, 2), "producer_id": producer["_id"],
           "producer_province": producer.get("province"), "produced_on": produced_on,
           "parents": [{"code": c, "mass_kg": kg} for c, kg in parents], "parent_codes": [c for c, _ in parents],
           "holder_id": producer["_id"], "status": "active", "status_since": produced_on, "gs1": {"lot": code}}
    if producer.get("gs1_prefix"):
        body = "0" + producer["gs1_prefix"] + f"{ITEM_REFS[product_type]:03d}"
        doc["gs1"]["gtin"] = body + gs1_check_digit(body)
    if stage in STAGE_QUOTA:
        doc.update(quota_category=STAGE_QUOTA[stage], quota_used_t=0.0)
    if stage == "magnet":
        doc["gs1"]["serial"] = str(next(_serial))
    doc.update(fields)
    db.batches.insert_one(doc)
    return doc


def post_sign_in(client, username, password="demo", device_id=None):
    """POST the sign-in request and return the response as it came (the one place that knows the request's shape).

    client is a Flask test client or anything with its post(path, json=...) returning .status_code and .json.
    """
    return client.post("/api/auth/login", json={"username": username, "password": password,
                                                "device_id": device_id or f"dev-{username}"})


def sign_in(client, username, password="demo", device_id=None):
    """Sign in through the real login endpoint and return the token response JSON (asserting a 200)."""
    response = post_sign_in(client, username, password, device_id)
    assert response.status_code == 200, response.json
    return response.json


class AuthActions:
    """Sign in through the real login endpoint and build Authorization headers."""

    def __init__(self, client):
        self._client = client

    def login(self, username, password="demo", device_id=None):
        return sign_in(self._client, username, password, device_id)

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
