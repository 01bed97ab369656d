"""Audit promises: a write stores the entry it owes on its document, and any try (or the start-up sweep) settles it.

States of a document's promise: written with the document (audit_pending set) -> entry written once under the
promise's key (a unique index) -> audit_pending cleared. A crash between the two leaves the promise for a retry of
the same request, or for the sweep at the next process start, to settle; either way exactly one entry is written.
"""
import threading
import uuid
from datetime import datetime, timedelta, timezone

from inspector.audit.chain import record, stored_moment
from inspector.store.connection import durable

STALE_AFTER = timedelta(minutes=2)  # a promise this old has no request left finishing it
SWEEP_LIMIT = 1000  # per collection and process start: the sweep must never hold up a start for long
# Re-entrant: a write that finds its own earlier try (a replay inside the insert's lock) may take its lock again.
_stripes = [threading.RLock() for _ in range(64)]


def exclusive(*key):
    """A lock this process holds while it writes one keyed thing (a document, its links, its audit entry) or finishes it.

    A retry or a concurrent copy of the same request waits for the first, then finds its work done; a real MongoDB
    shared by several processes still has the unique indexes, including the one on an entry's promise key.
    """
    return _stripes[hash(key) % len(_stripes)]


def pending(actor, action, target, details=None, now=None):
    """The audit entry a write promises, stored on the written document (audit_pending) until settle() writes it."""
    actor = actor or {}
    return {"key": uuid.uuid4().hex, "action": action, "target": target, "details": details or {},
            "at": stored_moment(now or datetime.now(timezone.utc)),
            "actor": {k: actor.get(k) for k in ("user_id", "username", "role", "device_id") if k in actor}}


def settle(db, collection, doc_id, promise):
    """Write the promised entry once (keyed by the promise, so any number of tries write one), then clear the promise."""
    if not promise:
        return
    record(db, promise["actor"] or None, promise["action"], promise["target"], promise["details"],
           now=promise["at"], key=promise["key"])
    durable(db, collection).update_one({"_id": doc_id, "audit_pending.key": promise["key"]},
                                        {"$unset": {"audit_pending": ""}})


def sweep(db, finishers, now=None, collections=()):
    """Settle the promises of writes no client came back to retry; return how many documents were finished.

    finishers maps a collection to finish(db, doc) where a document needs more than its entry written; the other
    collections named get their entry written. Promises older than STALE_AFTER have no request left settling them.
    """
    cutoff = (now or datetime.now(timezone.utc)) - STALE_AFTER
    finished = 0
    for collection in dict.fromkeys((*collections, *finishers)):
        for doc in db[collection].find({"audit_pending.at": {"$lt": cutoff}}).limit(SWEEP_LIMIT):
            finish = finishers.get(collection)
            if finish:
                finish(db, doc)
            else:
                settle(db, collection, doc["_id"], doc["audit_pending"])
            finished += 1
    return finished
