"""Each user's notification settings: the address, which kinds go by e-mail, at once or in a daily digest, language."""
import re
from datetime import datetime, time, timedelta

from inspector.clock import CST, aware
from inspector.errors import DomainError
from inspector.notifications.audiences import kinds_for
from inspector.notifications.texts import LANGUAGES

MODES = ("immediate", "digest")
DIGEST_HOUR = 8  # the daily digest leaves at 08:00 China time, before the working day
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$")


class PreferenceError(DomainError):
    kind, code = "invalid", "invalid_notification_settings"


def defaults(user):
    """The settings of a user who never chose: no address yet, so no e-mail; every kind of their role on."""
    return {"email": None, "email_kinds": kinds_for(user["role"]), "mode": "immediate", "language": "en"}


def read(db, user):
    """The user's settings, defaults filled in."""
    stored = db.notification_settings.find_one({"_id": user["_id"]}) or {}
    return {**defaults(user), **{k: v for k, v in stored.items() if k not in ("_id", "updated_at")}}


def change(db, user, body, now):
    """Store the fields given (email, email_kinds, mode, language) after checking them; return the settings."""
    changes = {}
    if "email" in body:
        email = (body["email"] or "").strip() or None
        if email is not None and not EMAIL.match(email):
            raise PreferenceError("This is not an e-mail address.", field="email")
        changes["email"] = email
    if "email_kinds" in body:
        allowed = kinds_for(user["role"])
        unknown = [k for k in body["email_kinds"] if k not in allowed]
        if unknown:
            raise PreferenceError(f"Your role receives only: {', '.join(allowed)}.", field="email_kinds",
                                  unknown=unknown)
        changes["email_kinds"] = list(dict.fromkeys(body["email_kinds"]))
    if "mode" in body:
        if body["mode"] not in MODES:
            raise PreferenceError(f"mode is one of {', '.join(MODES)}.", field="mode")
        changes["mode"] = body["mode"]
    if "language" in body:
        if body["language"] not in LANGUAGES:
            raise PreferenceError(f"language is one of {', '.join(LANGUAGES)}.", field="language")
        changes["language"] = body["language"]
    if changes:
        db.notification_settings.update_one({"_id": user["_id"]}, {"$set": {**changes, "updated_at": now}},
                                            upsert=True)
    return read(db, user)


def next_digest(moment):
    """The next 08:00 China time after the moment."""
    local = aware(moment).astimezone(CST)
    at = datetime.combine(local.date(), time(DIGEST_HOUR), CST)
    return at if at > local else at + timedelta(days=1)


def mail_items(db, event, users, item_id):
    """The e-mails the event owes these users under their settings (none for those without an address)."""
    stored = {s["_id"]: s for s in db.notification_settings.find({"_id": {"$in": [u["_id"] for u in users]}})}
    items = []
    for user in users:
        chosen = {**defaults(user), **stored.get(user["_id"], {})}
        if not chosen.get("email") or event["kind"] not in chosen["email_kinds"]:
            continue
        digest = chosen["mode"] == "digest"
        items.append({"_id": item_id(event["key"], user["_id"]), "user_id": user["_id"], "to": chosen["email"],
                      "language": chosen["language"], "kind": event["kind"], "key": event["key"],
                      "params": event.get("params", {}), "link": event.get("link"), "digest": digest,
                      "state": "pending", "attempts": 0, "created_at": event["at"],
                      "next_try_at": next_digest(event["at"]) if digest else event["at"]})
    return items
