"""The append-only, hash-chained audit log: who, in which role, did what, when, from which device."""
import hashlib
import json
import threading
import uuid
from datetime import datetime, timezone

from pymongo.errors import DuplicateKeyError

from .store import evidence

GENESIS = "0" * 64
HEAD_COLLECTION = "audit_head"
HEAD_ID = "audit_log"
_lock = threading.RLock()
_stripes = [threading.Lock() for _ in range(64)]
_heads = {}  # database name -> (seq, hash): this process's view of the chain's end, refreshed on conflict


def _canonical(entry):
    body = {k: entry[k] for k in ("_id", "at", "actor_id", "actor", "role", "device_id", "action", "target", "details",
                                  "prev_hash")}
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
    heads = evidence(db, HEAD_COLLECTION)
    try:
        heads.update_one({"_id": HEAD_ID, "seq": {"$lt": entry["_id"]}},
                         {"$set": {"seq": entry["_id"], "hash": entry["hash"], "at": entry["at"]}}, upsert=True)
    except DuplicateKeyError:
        pass  # a newer entry already moved the head


def _ms(moment):
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # BSON keeps milliseconds; hash what is stored


def exclusive(*key):
    """A lock this process holds while it writes one keyed thing (a document, its links, its audit entry) or finishes it.

    A retry or a concurrent copy of the same request waits for the first, then finds its work done; a real MongoDB
    shared by several processes still has the unique indexes, and settle(check=True) below.
    """
    return _stripes[hash(key) % len(_stripes)]


def pending(actor, action, target, details=None, now=None):
    """The audit entry a write promises, stored on the written document (audit_pending) until settle() writes it."""
    actor = actor or {}
    return {"key": uuid.uuid4().hex, "action": action, "target": target, "details": details or {},
            "at": _ms(now or datetime.now(timezone.utc)),
            "actor": {k: actor.get(k) for k in ("user_id", "username", "role", "device_id") if k in actor}}


def settle(db, collection, doc_id, promise, check=False):
    """Write the promised entry, then clear the promise; check=True first looks whether an interrupted try wrote it."""
    if not promise:
        return
    with _lock:
        written = check and any(_same_moment(e["at"], promise["at"]) for e in db.audit_log.find(
            {"action": promise["action"], "target": promise["target"]}, {"at": 1}))
        if not written:
            record(db, promise["actor"] or None, promise["action"], promise["target"], promise["details"],
                   now=promise["at"])
    evidence(db, collection).update_one({"_id": doc_id, "audit_pending.key": promise["key"]},
                                        {"$unset": {"audit_pending": ""}})


def _same_moment(a, b):
    return a.replace(tzinfo=a.tzinfo or timezone.utc) == b.replace(tzinfo=b.tzinfo or timezone.utc)


def record(db, actor, action, target, details=None, now=None):
    """Append one entry; actor is a session-like dict (user_id, username, role, device_id) or None for the system."""
    actor = actor or {}
    now = _ms(now or datetime.now(timezone.utc))
    log = evidence(db, "audit_log")
    with _lock:
        head = _heads.get(db.name) or _read_head(db)
        for _ in range(20):
            seq, prev = head
            entry = {"_id": seq + 1, "at": now, "actor_id": actor.get("user_id"), "actor": actor.get("username", "system"),
                     "role": actor.get("role", "system"), "device_id": actor.get("device_id"), "action": action,
                     "target": target, "details": details or {}, "prev_hash": prev}
            entry["hash"] = entry_hash(entry)
            try:
                log.insert_one(entry)
            except DuplicateKeyError:
                head = _read_head(db)  # another process appended first
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
