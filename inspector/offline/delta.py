"""Serving the pack and its daily deltas: each built snapshot is kept per user, so a phone holding version V gets
only what changed since V (the batches and enterprises added, changed or gone), signed like the pack."""
from datetime import timedelta

from inspector.clock import aware
from inspector.errors import DomainError
from inspector.offline import pack as packs

KEPT_VERSIONS = 8  # about a week of daily packs, and a few rebuilt in between
# A pack is rebuilt at most this often per user: phones ask at every sign-in and sync, and the pack says its age.
REBUILD_AFTER = timedelta(minutes=15)
DELTA_FORMAT = "refi-offline-delta/1"


class UnknownPackVersion(DomainError, LookupError):
    """The phone's version is not one this service kept: it needs the whole pack again."""

    kind = "conflict"
    code = "pack_version_unknown"

    def __init__(self, version):
        super().__init__(f"Pack version {version!r} is not kept any more (or never was yours): download the whole "
                         "pack again.", since=version)


def current(db, actor, settings, keyring, now):
    """The actor's pack now (or built in the last REBUILD_AFTER): content, version and public keys, kept for deltas."""
    recent = db.offline_packs.find_one({"user_id": actor["user_id"]}, sort=[("built_at", -1)])
    if recent and "content" in recent and aware(recent["built_at"]) > now - REBUILD_AFTER:
        return {**recent["content"], "keys": keyring.public_keys()}
    content = packs.snapshot(db, actor, settings, now)
    content["version"] = packs.version_of(content)
    content["keys"] = keyring.public_keys()
    _keep(db, actor, content, now)
    return content


def _keep(db, actor, content, now):
    uid = actor["user_id"]
    db.offline_packs.update_one(
        {"_id": f"{uid}:{content['version']}"},
        {"$setOnInsert": {"user_id": uid, "version": content["version"], "batches": content["batches"],
                          "enterprises": content["enterprises"]},
         "$set": {"built_at": now, "content": {k: v for k, v in content.items() if k != "keys"}}},
        upsert=True)
    # Only the newest keeps its whole content (for reuse); older versions keep what a delta is computed from.
    db.offline_packs.update_many({"user_id": uid, "_id": {"$ne": f"{uid}:{content['version']}"},
                                  "content": {"$exists": True}}, {"$unset": {"content": ""}})
    old = list(db.offline_packs.find({"user_id": uid}, {"_id": 1}).sort("built_at", -1).skip(KEPT_VERSIONS))
    if old:
        db.offline_packs.delete_many({"_id": {"$in": [o["_id"] for o in old]}})


def _diff(before, after):
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    changed.update({k: None for k in before if k not in after})
    return changed


def delta(db, actor, content, since):
    """What changed between the actor's kept version `since` and the current content (unsigned)."""
    old = db.offline_packs.find_one({"_id": f"{actor['user_id']}:{since}"})
    if old is None:
        raise UnknownPackVersion(since)
    return {
        "format": DELTA_FORMAT,
        "from": since,
        "version": content["version"],
        "as_of": content["as_of"],
        "scope": content["scope"],
        "codes": content["codes"],
        "rules": content["rules"],
        "not_offline": content["not_offline"],
        "keys": content["keys"],
        "batches": _diff(old["batches"], content["batches"]),
        "enterprises": _diff(old["enterprises"], content["enterprises"]),
    }
