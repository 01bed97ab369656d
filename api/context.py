"""Per-request access to settings and the database, for the HTTP layer."""
import logging
from datetime import datetime, timezone

from flask import current_app

from inspector.audit import chain as audit
from inspector.ledger import rollback as ledger_rollback
from inspector.store import connection as store
from inspector.store.indexes import apply_indexes

log = logging.getLogger(__name__)


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
    """Apply indexes once per process, as soon as the database is reachable; finish rollbacks an outage interrupted."""
    state = current_app.extensions["inspector"]
    resumed = ledger_rollback.resume_rollbacks(db())
    if resumed:
        log.warning("finished rolling back %d ledger submission(s) the database outage interrupted: %s",
                    len(resumed), ", ".join(resumed))
    if not state.get("indexes_applied"):
        apply_indexes(db())
        state["indexes_applied"] = True
        stalled = ledger_rollback.recover_stalled(db(), now())
        if stalled:
            log.warning("rolled back %d ledger submission(s) a stopped process left half-applied: %s",
                        len(stalled), ", ".join(stalled))
    if not state.get("promises_swept"):  # once per process, and again after an outage cut it short
        settled = audit.sweep(db(), now())
        state["promises_swept"] = True
        if settled:
            log.warning("wrote the audit entries of %d write(s) no client came back to finish", settled)
