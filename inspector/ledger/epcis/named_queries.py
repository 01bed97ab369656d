"""Named queries and their subscriptions (the EPCIS 2.0 REST bindings' /queries resources).

A named query is a SimpleEventQuery (the /events filters) saved under a name by its owner: an enterprise's clerks
share their enterprise's queries, a member of staff owns theirs alone. Nobody sees, runs or deletes another owner's
query; its results are always cut to what the one running it may see (query.py's viewers). A subscription pushes a
query's new results to a partner's HTTPS webhook (delivery.py): on every capture (`stream: true`) or on a schedule
(cron-like fields in UTC), each message an EPCISQueryDocument signed with the subscriber's `signatureToken`.
"""
import re
import uuid
from urllib.parse import urlsplit

from inspector.ledger.epcis import query as repo_query
from inspector.ledger.epcis.delivery import QUERIES, SCHEDULE_FIELDS, SUBSCRIPTIONS, read_schedule, refused_host

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
MAX_QUERIES = 100
MAX_SUBSCRIPTIONS = 20
MAX_DEST = 2000
MAX_TOKEN = 256


class NameTaken(ValueError):
    """The owner already has a named query of this name (the bindings' 409)."""


def owner_of(actor):
    """Whose queries these are: the clerk's enterprise, or the member of staff."""
    if actor.get("role") == "enterprise":
        return f"enterprise:{actor.get('enterprise_id') or '-'}"
    return f"user:{actor.get('username')}"


def _problem(field, message):
    return repo_query.QueryProblem(field, message)


def _as_lists(definition):
    """The query's parameters as the lists of text a query string would carry; QueryProblem for any other shape."""
    if not isinstance(definition, dict) or not definition:
        raise _problem("query", "query must be an object of SimpleEventQuery parameters, such as "
                                '{"eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping"]}.')
    out = {}
    for name, value in definition.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values):
            raise _problem(f"query.{name}"[:80], f"query.{str(name)[:40]} must be a text or a list of texts.")
        out[str(name)] = [str(v) for v in values]
    for paging in repo_query.PAGING:
        if paging in out:
            raise _problem(f"query.{paging}", f"{paging} belongs to a request, not to a named query.")
    return out


def filters_of(stored):
    """The MongoDB filter a stored named query runs (times read again each run)."""
    return repo_query.parse_filters(stored["query"])


def create(db, actor, body, now):
    """Save a named query from {"name", "query"}; NameTaken or QueryProblem when it cannot be."""
    if not isinstance(body, dict):
        raise _problem("name", "Send {\"name\": ..., \"query\": {...}} as JSON.")
    name = body.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise _problem("name", "name must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or "
                               "digit.")
    unknown = sorted(set(body) - {"name", "query"})
    if unknown:
        raise _problem(unknown[0][:40], f"{unknown[0][:40]} is not part of a named query (name and query only).")
    query = _as_lists(body.get("query"))
    repo_query.parse_filters(query)  # every bad parameter named, before anything is saved
    owner = owner_of(actor)
    if db[QUERIES].count_documents({"owner": owner}) >= MAX_QUERIES:
        raise _problem("name", f"You have {MAX_QUERIES} named queries already; delete one first.")
    if db[QUERIES].find_one({"owner": owner, "name": name}, {"_id": 1}):
        raise NameTaken(f"A named query {name} exists already; delete it first or choose another name.")
    doc = {"_id": uuid.uuid4().hex, "owner": owner, "name": name, "query": query, "created_at": now,
           "created_by": actor.get("username")}
    db[QUERIES].insert_one(doc)
    return doc


def listed(db, actor, limit):
    """The owner's named queries, by name."""
    return list(db[QUERIES].find({"owner": owner_of(actor)}).sort("name", 1).limit(limit))


def get(db, actor, name):
    """The owner's named query of this name, or None."""
    return db[QUERIES].find_one({"owner": owner_of(actor), "name": name})


def delete(db, actor, name):
    """Remove the owner's named query and every subscription to it; False when there is none."""
    found = get(db, actor, name)
    if found is None:
        return False
    db[SUBSCRIPTIONS].delete_many({"query_id": found["_id"]})
    db[QUERIES].delete_one({"_id": found["_id"]})
    return True


# -- subscriptions ---------------------------------------------------------------------------------------------------
def _dest(raw):
    if not isinstance(raw, str) or not raw or len(raw) > MAX_DEST:
        raise _problem("dest", f"dest must be the https URL of your webhook (at most {MAX_DEST} characters).")
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - a port that is not a number raises here, not at delivery
    except ValueError:
        raise _problem("dest", "dest is not a URL this service can read.") from None
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise _problem("dest", "dest must be an https:// URL without a user name or password in it.")
    if refused_host(parts.hostname):
        raise _problem("dest", "dest must be a public address: not localhost, nor a private, loopback or "
                               "link-local one.")
    return raw


def subscribe(db, actor, stored, body, now):
    """A subscription to a named query from the bindings' body; QueryProblem names what is wrong."""
    if not isinstance(body, dict):
        raise _problem("dest", "Send {\"dest\": ..., \"stream\": true} or a schedule as JSON.")
    known = {"dest", "signatureToken", "reportIfEmpty", "stream", "schedule", "initialRecordTime"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise _problem(unknown[0][:40], f"{unknown[0][:40]} is not a subscription field: use "
                                        f"{', '.join(sorted(known))}.")
    dest = _dest(body.get("dest"))
    token = body.get("signatureToken")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN):
        raise _problem("signatureToken", f"signatureToken must be a text of 1 to {MAX_TOKEN} characters.")
    stream, schedule = body.get("stream"), body.get("schedule")
    if stream not in (None, True, False) or (stream is True) == (schedule is not None):
        raise _problem("stream", "Give either stream: true (every new matching event) or a schedule "
                                 f"({', '.join(SCHEDULE_FIELDS)}), not both and not neither.")
    if schedule is not None:
        read_schedule(schedule)  # QueryProblem for a field it cannot read
    report = body.get("reportIfEmpty", False)
    if not isinstance(report, bool):
        raise _problem("reportIfEmpty", "reportIfEmpty must be true or false.")
    initial = body.get("initialRecordTime")
    if initial is not None and not isinstance(initial, str):
        raise _problem("initialRecordTime", "initialRecordTime must be an RFC 3339 date-time text.")
    start = repo_query.parse_filters({"GE_recordTime": [initial]})["record_time"]["$gte"] if initial else now
    if db[SUBSCRIPTIONS].count_documents({"owner": stored["owner"]}) >= MAX_SUBSCRIPTIONS:
        raise _problem("dest", f"You have {MAX_SUBSCRIPTIONS} subscriptions already; delete one first.")
    doc = {"_id": str(uuid.uuid4()), "query_id": stored["_id"], "query_name": stored["name"], "owner": stored["owner"],
           "username": actor.get("username"), "dest": dest, "signature_token": token, "report_if_empty": report,
           "stream": stream is True, "schedule": schedule, "initial_record_time": start, "created_at": now,
           "cursor": [start, ""], "last_notified_at": None, "failures": 0, "last_error": None}
    db[SUBSCRIPTIONS].insert_one(doc)
    return doc


def subscriptions(db, stored, limit=MAX_SUBSCRIPTIONS):
    """The subscriptions to a named query, oldest first."""
    return list(db[SUBSCRIPTIONS].find({"query_id": stored["_id"]}).sort("created_at", 1).limit(limit))


def subscription(db, stored, subscription_id):
    """One subscription to this named query, or None."""
    return db[SUBSCRIPTIONS].find_one({"_id": subscription_id, "query_id": stored["_id"]})


def unsubscribe(db, stored, subscription_id):
    """Delete a subscription to this named query; False when there is none."""
    return db[SUBSCRIPTIONS].delete_one({"_id": subscription_id, "query_id": stored["_id"]}).deleted_count == 1


def subscription_view(doc):
    """A subscription as the bindings show it (never its signatureToken)."""
    out = {"subscriptionID": doc["_id"], "queryName": doc["query_name"], "dest": doc["dest"],
           "reportIfEmpty": doc["report_if_empty"], "createdAt": repo_query.utc_text(doc["created_at"]),
           "initialRecordTime": repo_query.utc_text(doc["initial_record_time"]),
           "signed": doc.get("signature_token") is not None}
    if doc["stream"]:
        out["stream"] = True
    else:
        out["schedule"] = doc["schedule"]
    if doc.get("last_notified_at"):
        out["lastNotifiedAt"] = repo_query.utc_text(doc["last_notified_at"])
    if doc.get("failures"):
        out.update(failures=doc["failures"], lastError=doc.get("last_error"))
    return out
