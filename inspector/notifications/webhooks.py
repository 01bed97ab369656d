"""Webhooks for integrators: a URL and a secret per enterprise or province, events POSTed as signed JSON.

The signature: X-Inspector-Signature: sha256=HMAC-SHA256(secret, "<X-Inspector-Timestamp>.<body>") in hex, so a
receiver checks who sent it and that it is fresh. A delivery's states: pending --POST 2xx--> delivered;
anything else --> pending again after a backoff, failed after MAX_ATTEMPTS; each try is kept in its log.
"""
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from inspector.errors import DomainError
from inspector.notifications.mail import backoff

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
BATCH = 200
LOG_KEPT = 20
MIN_SECRET = 16


class WebhookError(DomainError):
    kind, code = "invalid", "invalid_webhook"


class WebhookNotFound(WebhookError):
    kind, code = "not_found", "webhook_not_found"

    def __init__(self):
        super().__init__("No webhook with this id.")


def signature(secret, timestamp, body):
    """The value of X-Inspector-Signature for a body sent at a timestamp."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def view(hook):
    """A webhook as an administrator reads it: never its secret."""
    return {k: hook.get(k) for k in ("enterprise_id", "province", "url", "active", "created_at", "created_by")} | {
        "id": hook["_id"]}


def register(db, actor, body, now, provinces):
    """Register a webhook for one enterprise or one province; return (hook view, secret shown once)."""
    enterprise_id, province = body.get("enterprise_id"), body.get("province")
    if bool(enterprise_id) == bool(province):
        raise WebhookError("Name either an enterprise_id or a province.", field="enterprise_id")
    if province and province not in provinces:
        raise WebhookError(f"Unknown province {province!r}.", field="province")
    if enterprise_id and db.enterprises.count_documents({"_id": enterprise_id}, limit=1) == 0:
        raise WebhookError(f"No enterprise {enterprise_id}.", code="unknown_enterprise", field="enterprise_id")
    url = (body.get("url") or "").strip()
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and parts.hostname and not parts.username and len(url) <= 2000
        parts.port  # noqa: B018 - a port that is not a number raises here, not at the first delivery
    except ValueError:
        usable = False
    if not usable or any(c.isspace() or ord(c) < 32 for c in url):
        raise WebhookError("The URL must be http:// or https:// with a host and no user name in it.", field="url")
    secret = body.get("secret") or secrets.token_urlsafe(32)
    if len(secret) < MIN_SECRET:
        raise WebhookError(f"A secret has at least {MIN_SECRET} characters.", field="secret")
    hook = {"_id": f"WH-{uuid.uuid4().hex[:12]}", "enterprise_id": enterprise_id, "province": province, "url": url,
            "secret": secret, "active": True, "created_at": now, "created_by": actor.get("username")}
    db.webhooks.insert_one(hook)
    return view(hook), secret


def hooks(db):
    """Every webhook, newest first (administrators only: few, so no index)."""
    return [view(h) for h in db.webhooks.find({}).sort("created_at", -1).limit(500)]


def deactivate(db, hook_id):
    """Stop a webhook; its delivery log stays."""
    if db.webhooks.update_one({"_id": hook_id}, {"$set": {"active": False}}).matched_count != 1:
        raise WebhookNotFound()


def deliveries(db, hook_id, limit=50):
    """A webhook's deliveries, newest first, with each try's answer (served by hook_id, created_at)."""
    if db.webhooks.count_documents({"_id": hook_id}, limit=1) == 0:
        raise WebhookNotFound()
    found = db.webhook_deliveries.find({"hook_id": hook_id}).sort("created_at", -1).limit(limit)
    return [{"id": d["_id"], "kind": d["payload"]["kind"], "state": d["state"], "attempts": d["attempts"],
             "created_at": d["created_at"], "delivered_at": d.get("delivered_at"), "log": d.get("log", [])}
            for d in found]


def _post(hook, payload, now, timeout):
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(now.timestamp()))
    request = urllib.request.Request(hook["url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "rare-earth-inspector-webhooks/1",
        "X-Inspector-Event": payload["kind"], "X-Inspector-Delivery": payload["id"],
        "X-Inspector-Timestamp": timestamp, "X-Inspector-Signature": signature(hook["secret"], timestamp, body)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s) only, checked above
            return answer.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return None, str(exc)[:200]


def deliver_due(db, now, timeout=10.0):
    """POST every delivery that is due (served by state, next_try_at); return counts delivered and failed."""
    counts = {"delivered": 0, "failed": 0}
    due = list(db.webhook_deliveries.find({"state": {"$in": ["pending", "sending"]}, "next_try_at": {"$lte": now}})
               .sort("next_try_at", 1).limit(BATCH))
    hooks_by_id = {h["_id"]: h for h in db.webhooks.find({"_id": {"$in": list({d["hook_id"] for d in due})}})}
    for delivery in due:
        claim = db.webhook_deliveries.update_one(
            {"_id": delivery["_id"], "state": delivery["state"], "next_try_at": delivery["next_try_at"]},
            {"$set": {"state": "sending", "next_try_at": now + LEASE}})
        hook = hooks_by_id.get(delivery["hook_id"])
        if claim.modified_count != 1:
            continue
        if hook is None or not hook.get("active"):
            db.webhook_deliveries.update_one({"_id": delivery["_id"]}, {"$set": {"state": "cancelled"}})
            continue
        status, error = _post(hook, delivery["payload"], now, timeout)
        attempts = delivery["attempts"] + 1
        entry = {"at": now, "status": status, "error": error}
        if status is not None and 200 <= status < 300:
            changes = {"state": "delivered", "delivered_at": now, "attempts": attempts}
            counts["delivered"] += 1
        else:
            changes = {"state": "failed" if attempts >= MAX_ATTEMPTS else "pending", "attempts": attempts,
                       "next_try_at": now + backoff(attempts)}
            counts["failed"] += 1
        db.webhook_deliveries.update_one({"_id": delivery["_id"]},
                                         {"$set": changes, "$push": {"log": {"$each": [entry], "$slice": -LOG_KEPT}}})
    return counts
