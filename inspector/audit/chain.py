"""The append-only, hash-chained audit log: who, in which role, did what, when, from which device."""
import hashlib
import json
import threading
from datetime import datetime, timezone

from pymongo.errors import DuplicateKeyError

from inspector.store.connection import durable

GENESIS = "0" * 64
HEAD_COLLECTION = "audit_head"
HEAD_ID = "audit_log"
_lock = threading.RLock()
_heads = {}  # database name -> (seq, hash): this process's view of the chain's end, refreshed on conflict


def _canonical(entry):
    body = {k: entry[k] for k in ("_id", "at", "actor_id", "actor", "role", "device_id", "action", "target", "details",
                                  "prev_hash")}
    if "key" in entry:  # the promise an entry settles; entries written without one keep their original form
        body["key"] = entry["key"]
    return json.dumps(body, sort_keys=True, default=_iso, separators=(",", ":"))


def _iso(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return str(value)


def entry_hash(entry):
    """The SHA-256 of an entry's canonical form, which includes the previous entry's hash."""
    return hashlib.sha256(_canonical(entry).encode()).hexdigest()


def _read_head(db):
    last = db.audit_log.find_one(sort=[("_id", -1)])
    return (last["_id"], last["hash"]) if last else (0, GENESIS)


def _advance_head(db, entry):
    # The chain alone cannot show that its tail was cut off; this separate record of the newest entry can.
    # It is written after the entry, so a crash in between leaves the head one behind, never ahead.
    heads = durable(db, HEAD_COLLECTION)
    try:
        heads.update_one({"_id": HEAD_ID, "seq": {"$lt": entry["_id"]}},
                         {"$set": {"seq": entry["_id"], "hash": entry["hash"], "at": entry["at"]}}, upsert=True)
    except DuplicateKeyError:
        pass  # a newer entry already moved the head


def stored_moment(moment):
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # BSON keeps milliseconds; hash what is stored


def record(db, actor, action, target, details=None, now=None, key=None):
    """Append one entry; actor is a session-like dict (user_id, username, role, device_id) or None for the system.

    With a key (a promise's), the entry is written at most once: a second try returns the entry already written.
    """
    actor = actor or {}
    now = stored_moment(now or datetime.now(timezone.utc))
    log = durable(db, "audit_log")
    with _lock:
        head = _heads.get(db.name) or _read_head(db)
        for _ in range(20):
            seq, prev = head
            entry = {"_id": seq + 1, "at": now, "actor_id": actor.get("user_id"), "actor": actor.get("username", "system"),
                     "role": actor.get("role", "system"), "device_id": actor.get("device_id"), "action": action,
                     "target": target, "details": details or {}, "prev_hash": prev}
            if key is not None:
                entry["key"] = key
            entry["hash"] = entry_hash(entry)
            try:
                log.insert_one(entry)
            except DuplicateKeyError:
                # Either this promise's entry is already written (done), or another writer took this sequence
                # number (append after the new head); the key tells which, on MongoDB and the embedded store alike.
                written = db.audit_log.find_one({"key": key}) if key is not None else None
                if written:
                    return written
                head = _read_head(db)
                continue
            _advance_head(db, entry)
            _heads[db.name] = (entry["_id"], entry["hash"])
            return entry
    raise RuntimeError("could not append to the audit log after 20 attempts")


def entry_count(db):
    """How many entries the log holds."""
    return db.audit_log.count_documents({})


def head(db):
    """The recorded newest entry as {seq, hash, at}, or None for an empty log."""
    return db[HEAD_COLLECTION].find_one({"_id": HEAD_ID}, {"_id": 0})


def verify(db):
    """Walk the chain and check its recorded head; return a list of problems, each naming the entry."""
    problems = []
    recorded = head(db)
    expected_seq, prev, last_seq = 1, GENESIS, 0
    for entry in db.audit_log.find().sort("_id", 1):
        if entry["_id"] != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next found is {entry['_id']}): deleted or reordered")
        if entry.get("prev_hash") != prev:
            problems.append(f"entry {entry['_id']} does not follow the entry before it: deleted, inserted or reordered")
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"entry {entry['_id']} ({entry.get('action')}) was edited after it was written")
        if recorded and entry["_id"] == recorded["seq"] and entry.get("hash") != recorded["hash"]:
            problems.append(f"entry {entry['_id']} is not the entry the head record names: replaced or rewritten")
        expected_seq, prev, last_seq = entry["_id"] + 1, entry.get("hash"), entry["_id"]
    if recorded and last_seq < recorded["seq"]:
        problems.append(f"entries {last_seq + 1} to {recorded['seq']} are missing: the end of the log was cut off")
    elif not recorded and last_seq:
        problems.append("the head record is missing: the log cannot be checked for a cut-off end")
    return problems
