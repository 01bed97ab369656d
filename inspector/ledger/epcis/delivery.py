"""Pushing named queries' new results to subscribers' webhooks (`flask --app api epcis deliver`, once a minute).

Each run, every subscription that is due (a stream subscription always; a scheduled one when its fields match the
minute, in UTC, once per minute) gets the events recorded since its cursor that its query matches and its
subscriber may see now (their account and scope read again: a disabled clerk's subscription sends nothing), at most
MAX_PER_MESSAGE, oldest first, as one EPCISQueryDocument POSTed to `dest`. The body is signed when the subscriber
gave a signatureToken: `GS1-Signature: sha256=<hex HMAC-SHA256 of the body>`. Only a 2xx answer moves the cursor,
so a partner that was down gets the same events again on the next run. A webhook must be https and public: its
name is resolved before sending and a private, loopback or link-local address is refused; redirects are not
followed (either could point the service at its own network).
"""
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from inspector.accounts import scope
from inspector.ledger.epcis import query as repo_query
from inspector.ledger.epcis.repository import EVENTS

QUERIES, SUBSCRIPTIONS = "epcis_queries", "epcis_subscriptions"  # named_queries.py keeps them
SCHEDULE_FIELDS = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "dayOfMonth": (1, 31), "month": (1, 12),
                   "dayOfWeek": (1, 7)}
MAX_PER_MESSAGE = 1000
TIMEOUT_S = 10
_PART = re.compile(r"^(\*|\d{1,2}(?:-\d{1,2})?)(?:/(\d{1,2}))?$")


def _values(name, text):
    low, high = SCHEDULE_FIELDS[name]
    out = set()
    for part in str(text).split(","):
        match = _PART.match(part.strip())
        if not match:
            raise repo_query.QueryProblem(f"schedule.{name}", f"schedule.{name} {str(text)[:20]!r} is not a value, "
                                                              "range (1-5), list (1,5) or step (0/30).")
        base, step = match.group(1), int(match.group(2) or 1)
        start, _, end = base.partition("-")
        first = low if base == "*" else int(start)
        last = high if base == "*" else int(end) if end else (high if match.group(2) else first)
        if not low <= first <= last <= high or step < 1:
            raise repo_query.QueryProblem(f"schedule.{name}", f"schedule.{name} must lie within {low}-{high}.")
        out.update(range(first, last + 1, step))
    return out


def read_schedule(schedule):
    """The minute-level sets a schedule matches (every value where a field is absent); QueryProblem when unreadable."""
    if not isinstance(schedule, dict) or not schedule or set(schedule) - set(SCHEDULE_FIELDS):
        raise repo_query.QueryProblem("schedule", "schedule is an object of "
                                                  f"{', '.join(SCHEDULE_FIELDS)} (texts such as \"5\" or \"0/30\").")
    return {name: _values(name, schedule[name]) if name in schedule else None for name in SCHEDULE_FIELDS}


def is_due(schedule, moment):
    """True when a schedule names this minute (UTC; dayOfWeek 1 is Monday)."""
    sets = read_schedule(schedule)
    now = {"minute": moment.minute, "hour": moment.hour, "dayOfMonth": moment.day, "month": moment.month,
           "dayOfWeek": moment.isoweekday()}
    return all(sets[name] is None or value in sets[name] for name, value in now.items())


def refused_host(host):
    """True for a webhook host the service must not call: localhost, or an address that is not public."""
    name = (host or "").strip("[]").lower().rstrip(".")
    if not name or name == "localhost" or name.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        return not ipaddress.ip_address(name).is_global
    except ValueError:
        return False  # a name: its addresses are checked when it is called


def _addresses(host):
    return {info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post(dest, body, headers):
    request = urllib.request.Request(dest, data=body, headers=headers, method="POST")
    try:
        with urllib.request.build_opener(_NoRedirects).open(request, timeout=TIMEOUT_S) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:  # a 3xx not followed, a 4xx or 5xx: the partner's answer
        return exc.code


def _viewers(db, sub):
    user = db.users.find_one({"username": sub["username"]}, {"role": 1, "enterprise_id": 1, "provinces": 1,
                                                              "disabled": 1, "username": 1})
    if user is None or user.get("disabled"):
        return False
    if user.get("role") == "enterprise":
        return [user.get("enterprise_id") or "-"]
    return scope.visible_ids(db, user)


def message(sub, docs, now):
    """The EPCISQueryDocument a subscriber receives, and its headers (signed when it gave a token)."""
    body = repo_query.query_document(docs, now)
    results = body["epcisBody"]["queryResults"]
    results.update(queryName=sub["query_name"], subscriptionID=sub["_id"])
    data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    headers = {"Content-Type": "application/ld+json", "GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
    if sub.get("signature_token"):
        digest = hmac.new(sub["signature_token"].encode("utf-8"), data, hashlib.sha256).hexdigest()
        headers["GS1-Signature"] = f"sha256={digest}"
    return data, headers


def _new_events(db, sub, stored, viewers):
    after, last_id = sub["cursor"]
    since = {"$or": [{"record_time": {"$gt": after}}, {"record_time": after, "_id": {"$gt": last_id}}]}
    filters = repo_query.parse_filters(stored["query"])
    wanted = {"$and": [filters, since]} if filters else since
    if viewers is not None:
        wanted = {"$and": [wanted, {"viewers": {"$in": list(viewers)}}]}
    return list(db[EVENTS].find(wanted).sort([("record_time", 1), ("_id", 1)]).limit(MAX_PER_MESSAGE))


def deliver(db, now, post=None, resolve=None):
    """Send every due subscription its new events; return what happened to each ({subscriptionID, sent, status})."""
    post, resolve = post or _post, resolve or _addresses
    minute = now.strftime("%Y-%m-%dT%H:%M")
    report = []
    for sub in list(db[SUBSCRIPTIONS].find({}).sort("_id", 1)):
        if not sub["stream"] and (sub.get("last_run") == minute or not is_due(sub["schedule"], now)):
            continue
        stored = db[QUERIES].find_one({"_id": sub["query_id"]})
        viewers = _viewers(db, sub)
        if stored is None or viewers is False:
            report.append({"subscriptionID": sub["_id"], "sent": 0, "status": "subscriber_gone"})
            continue
        docs = _new_events(db, sub, stored, viewers)
        update = {"last_run": minute}
        if docs or (not sub["stream"] and sub["report_if_empty"]):
            status = _send(sub, docs, now, post, resolve)
            if isinstance(status, int) and 200 <= status < 300:
                update.update(last_notified_at=now, failures=0, last_error=None)
                if docs:
                    update["cursor"] = [docs[-1]["record_time"], docs[-1]["_id"]]
            else:
                update.update(failures=sub.get("failures", 0) + 1, last_error=str(status)[:200])
            report.append({"subscriptionID": sub["_id"], "sent": len(docs), "status": status})
        db[SUBSCRIPTIONS].update_one({"_id": sub["_id"]}, {"$set": update})
    return report


def _send(sub, docs, now, post, resolve):
    host = urlsplit(sub["dest"]).hostname
    try:
        if refused_host(host) or any(refused_host(address) for address in resolve(host)):
            return "refused: dest resolves to an address that is not public"
        data, headers = message(sub, docs, now)
        return post(sub["dest"], data, headers)
    except OSError as exc:  # unreachable, timed out, refused, TLS: tried again on the next run
        return f"unreachable: {type(exc).__name__}"
