"""The append-only, hash-chained audit log: who, in which role, did what, when, from which device."""
import hashlib
import json
import threading
from datetime import datetime, timezone

from pymongo.errors import DuplicateKeyError

from .store import evidence

GENESIS = "0" * 64
_lock = threading.Lock()
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


def record(db, actor, action, target, details=None, now=None):
    """Append one entry; actor is a session-like dict (user_id, username, role, device_id) or None for the system."""
    actor = actor or {}
    now = now or datetime.now(timezone.utc)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON keeps milliseconds; hash what is stored
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
            _heads[db.name] = (entry["_id"], entry["hash"])
            return entry
    raise RuntimeError("could not append to the audit log after 20 attempts")


def verify(db):
    """Walk the chain; return a list of problems, each naming the entry (empty when intact)."""
    problems = []
    expected_seq, prev = 1, GENESIS
    for entry in db.audit_log.find().sort("_id", 1):
        if entry["_id"] != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next found is {entry['_id']}): deleted or reordered")
        if entry.get("prev_hash") != prev:
            problems.append(f"entry {entry['_id']} does not follow the entry before it: deleted, inserted or reordered")
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"entry {entry['_id']} ({entry.get('action')}) was edited after it was written")
        expected_seq, prev = entry["_id"] + 1, entry.get("hash")
    return problems
