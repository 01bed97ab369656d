"""Which event reaches whom (each kind's audience by role and scope), and the one call that records an event.

An event is a dict: key (unique per happening), kind, at, enterprise_id, province, link {type, id}, params (only
what every role of the kind's audience may see), and optionally inspector_ids / supervisor_ids naming people.
notify() writes, per recipient, an inbox item, a queued e-mail when their settings ask for one, and per matching
webhook a queued delivery; each under an id made from (event key, recipient), so recording an event twice (a
retried request, a second sweep) adds nothing. Nothing is sent here: a worker sends (inspector.notifications.worker).
"""
import hashlib
import logging

from pymongo.errors import DuplicateKeyError

from inspector.clock import china_date
from inspector.notifications import preferences
from inspector.notifications.audiences import AUDIENCES

log = logging.getLogger(__name__)

USER_FIELDS = {"role": 1, "enterprise_id": 1, "provinces": 1, "disabled": 1, "username": 1}


def item_id(key, recipient):
    """The id of what one event leaves for one recipient (a user or a webhook): the idempotency key."""
    return hashlib.sha256(f"{key}|{recipient}".encode()).hexdigest()[:32]


def _in_scope(user, province):
    return user.get("provinces") is None or province in user["provinces"]


def recipients(db, event):
    """The active users the event concerns, each once."""
    audience, found = AUDIENCES[event["kind"]], {}
    if "enterprise" in audience and event.get("enterprise_id"):
        for u in db.users.find({"enterprise_id": event["enterprise_id"]}, USER_FIELDS):
            if u["role"] == "enterprise":
                found[u["_id"]] = u
    if "inspector" in audience and event.get("inspector_ids"):
        for u in db.users.find({"_id": {"$in": list(event["inspector_ids"])}}, USER_FIELDS):
            if u["role"] == "inspector":
                found[u["_id"]] = u
    if "supervisor" in audience:
        named = list(event.get("supervisor_ids") or [])
        query = {"_id": {"$in": named}} if named else {"role": "supervisor"}
        supervisors = [u for u in db.users.find(query, USER_FIELDS)
                       if u["role"] == "supervisor" and _in_scope(u, event.get("province"))]
        if named and not supervisors:  # the ones who acted left, or lost the province: whoever holds it now
            supervisors = [u for u in db.users.find({"role": "supervisor"}, USER_FIELDS)
                           if _in_scope(u, event.get("province"))]
        found.update((u["_id"], u) for u in supervisors)
    return [u for u in found.values() if not u.get("disabled")]


def _item(event, user):
    return {"user_id": user["_id"], "kind": event["kind"], "key": event["key"], "link": event.get("link"),
            "params": event.get("params", {}), "created_at": event["at"], "read_at": None}


def notify(db, event):
    """Record the event for everyone it concerns (inbox, e-mail queue, webhooks); return how many users it reached."""
    users = recipients(db, event)
    if users:
        for u in users:
            _once(db.notifications, item_id(event["key"], u["_id"]), _item(event, u))
        for m in preferences.mail_items(db, event, users, item_id):
            _once(db.mail_outbox, m.pop("_id"), m)
    _queue_webhooks(db, event)
    return len(users)


def notify_quietly(db, event):
    """notify(), logging instead of raising: called after a change already committed, whose answer must not fail."""
    try:
        return notify(db, event)
    except Exception:  # noqa: BLE001 - the change stands; a retry of the same request records the event again
        log.exception("notification %s not recorded", event.get("key"))
        return 0


def _queue_webhooks(db, event):
    audience, clauses = AUDIENCES[event["kind"]], []
    if "enterprise" in audience and event.get("enterprise_id"):
        clauses.append({"enterprise_id": event["enterprise_id"]})
    if "supervisor" in audience and event.get("province"):
        clauses.append({"province": event["province"]})
    if not clauses:
        return
    hooks = [h for h in db.webhooks.find({"$or": clauses}, {"active": 1}) if h.get("active")]
    if not hooks:
        return
    payload = {"id": item_id(event["key"], "event"), "kind": event["kind"], "occurred_at": event["at"].isoformat(),
               "enterprise_id": event.get("enterprise_id"), "province": event.get("province"),
               "subject": event.get("link"), "data": event.get("params", {})}
    for h in hooks:
        _once(db.webhook_deliveries, item_id(event["key"], h["_id"]), {
            "hook_id": h["_id"], "payload": payload, "state": "pending", "attempts": 0, "next_try_at": event["at"],
            "created_at": event["at"], "log": []})


def _once(collection, _id, doc):
    """Write the document unless one with this id exists: the second recording of an event changes nothing."""
    try:
        collection.insert_one({"_id": _id, **doc})
    except DuplicateKeyError:
        pass


def short_id(finding_id):
    """A finding's id as people read it in a sentence: its first 8 characters (the link carries the whole id)."""
    return str(finding_id)[:8]


def day(moment):
    """A date as people read it in notifications: the China calendar day."""
    return china_date(moment).isoformat() if moment else None


def finding_event(finding, action, now):
    """The event a finding's transition raises, or None when the action tells nobody."""
    kind = {"send_to_enterprise": "finding_sent", "request_more": "finding_sent", "respond": "finding_responded",
            "resolve": "finding_resolved"}.get(action)
    if kind is None:
        return None
    supervisors = [e["actor_id"] for e in finding.get("timeline", []) if e.get("role") == "supervisor"]
    return {"key": f"finding:{finding['_id']}:{action}:{finding['_etag']}", "kind": kind, "at": now,
            "enterprise_id": finding["enterprise_id"], "province": finding.get("province"),
            "link": {"type": "finding", "id": finding["_id"]},
            "inspector_ids": [finding["inspector_id"]], "supervisor_ids": list(dict.fromkeys(supervisors)),
            "params": {"finding_id": short_id(finding["_id"]), "enterprise": finding.get("enterprise_name"),
                       "deadline": day(finding.get("deadline")), "outcome": finding.get("outcome")}}
