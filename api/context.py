"""Per-request access to settings and the database, for the HTTP layer."""
from datetime import datetime, timezone

from flask import current_app

from inspector import recovery
from inspector.store import connection as store


def settings():
    """The validated settings of this app."""
    return current_app.config["SETTINGS"]


def now():
    """The current UTC time; tests may set app.config["CLOCK"] to a callable to stand at a chosen moment."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else datetime.now(timezone.utc)


def db():
    """This process's database handle for the app's settings."""
    return store.database(settings())


def ensure_ready():
    """Finish what this process owes before serving (inspector.recovery), as soon as the database is reachable."""
    recovery.at_start(db(), now(), current_app.extensions["inspector"])
