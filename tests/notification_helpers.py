"""One app per test module for the notification tests: the demo enterprises and users, each signed in once."""
import uuid

import pytest

from conftest import AuthActions, make_app
from inspector.accounts import users as accounts
from api.context import db as current_db
from seed import users as demo_users
from seed.enterprises import enterprise_docs

# Users beyond the demo ones: supervisors limited to one province, a clerk of a second enterprise.
EXTRA = {"sup-im": ("supervisor", {"provinces": ["Inner Mongolia"]}), "sup-jx": ("supervisor", {"provinces": ["Jiangxi"]}),
         "clerk-bps": ("enterprise", {"enterprise_id": "ENT-BPS"})}
PASSWORD = "notify-password-1"
CLEARED = ("notifications", "mail_outbox", "webhook_deliveries", "webhooks", "notification_settings", "findings",
           "tasks")


class World:
    """The module's app, client and database, and headers per username, signed in on first use."""

    def __init__(self, **config):
        self.name = f"test_{uuid.uuid4().hex}"
        self.app = make_app(self.name, **config)
        self.client = self.app.test_client()
        self._context = self.app.app_context()
        self._context.push()
        self.db = current_db()
        self.db.enterprises.insert_many(enterprise_docs())
        demo_users.ensure_demo_users(self.db)
        self._passwords = {}
        hashed = accounts.hash_password(PASSWORD)  # one argon2 hash for all of them: hashing is the slow part
        for username, (role, scope) in EXTRA.items():
            accounts.create_user(self.db, username, None, role, password_hash=hashed, **scope)
            self._passwords[username] = PASSWORD
        self._auth, self._headers = AuthActions(self.client), {}

    def __getitem__(self, username):
        if username not in self._headers:
            self._headers[username] = self._auth.headers(username, self._passwords.get(username, "demo"))
        return self._headers[username]

    def user_id(self, username):
        return self.db.users.find_one({"username": username})["_id"]

    def clear(self):
        for name in CLEARED:
            self.db[name].delete_many({})

    def close(self):
        self.db.client.drop_database(self.name)
        self._context.pop()


def world_fixture(**config):
    """A module-scoped World fixture, cleared of notifications, findings and tasks before each test."""
    @pytest.fixture(scope="module")
    def world():
        made = World(**config)
        yield made
        made.close()

    return world
