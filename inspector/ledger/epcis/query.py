"""Queries of the EPCIS repository (the REST bindings' /events and its sub-resources), scoped to the caller.

`events(db, viewers, filters, per_page, after)` answers a page of stored events in eventID order, and the id to
continue after; filters are the SimpleEventQuery parameters the bindings name (`parse_filters` reads them from a
query string and says what is wrong in EPCIS terms). `viewers` is None for all, else the enterprises whose events
the caller sees (an event lists in `viewers` the enterprises it names and the holders of the batches it names).
"""
import base64
import binascii
import json
from datetime import datetime

from inspector.clock import as_utc
from inspector.ledger.epcis.identifiers import EPCIS_CONTEXT, vocab
from inspector.ledger.epcis.repository import EVENTS

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "AssociationEvent", "TransactionEvent", "TransformationEvent")
LIST_FILTERS = {"eventType": "type", "EQ_action": "action", "EQ_bizStep": "biz_step",
                "EQ_disposition": "disposition", "EQ_readPoint": "read_point", "EQ_bizLocation": "biz_location",
                "MATCH_epc": "epc_list", "MATCH_anyEPC": "epcs", "MATCH_epcClass": "epc_classes",
                "MATCH_parentID": "parent_id", "MATCH_inputEPC": "input_epcs", "MATCH_outputEPC": "output_epcs"}
TIME_FILTERS = {"GE_eventTime": ("event_time", "$gte"), "LT_eventTime": ("event_time", "$lt"),
                "GE_recordTime": ("record_time", "$gte"), "LT_recordTime": ("record_time", "$lt")}
PAGING = ("perPage", "nextPageToken")
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 30


class QueryProblem(ValueError):
    """A query parameter the repository cannot answer (the bindings' QueryParameterException)."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field, self.message = field, message


def _time(name, text):
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in text:
        raise QueryProblem(name, f"{name} must be an RFC 3339 date-time with an offset, such as "
                                 "2026-10-05T14:30:00+08:00; got {!r}.".format(text[:40]))
    return moment


def _values(name, raw):
    values = [v.strip() for item in raw for v in item.split("|")]
    values = [v for v in values if v]
    if not values:
        raise QueryProblem(name, f"{name} needs a value.")
    if name == "EQ_bizStep":
        return [vocab(v, "bizstep") for v in values]
    if name == "EQ_disposition":
        return [vocab(v, "disp") for v in values]
    return values


def parse_filters(args):
    """A MongoDB filter from the query string (a dict of lists); QueryProblem names every bad parameter."""
    query, problems = {}, []
    for name, raw in args.items():
        if name in PAGING:
            continue
        try:
            if name in LIST_FILTERS:
                field = LIST_FILTERS[name]
                values = _values(name, raw)
                query.setdefault("$and", []).append({field: {"$in": values}})
            elif name in TIME_FILTERS:
                field, op = TIME_FILTERS[name]
                query.setdefault(field, {})[op] = _time(name, raw[-1])
            else:
                raise QueryProblem(name, f"{name} is not a query parameter this repository answers: use eventType, "
                                         "GE_/LT_eventTime, GE_/LT_recordTime, EQ_action, EQ_bizStep, "
                                         "EQ_disposition, EQ_readPoint, EQ_bizLocation, MATCH_epc, MATCH_anyEPC, "
                                         "MATCH_epcClass, perPage and nextPageToken.")
        except QueryProblem as exc:
            problems.append({"field": exc.field, "message": exc.message})
    if problems:
        error = QueryProblem(problems[0]["field"], " ".join(p["message"] for p in problems))
        error.problems = problems
        raise error
    return query


def per_page(raw):
    """perPage as a number of events (1 to MAX_PER_PAGE)."""
    if raw is None:
        return DEFAULT_PER_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PER_PAGE:
        raise QueryProblem("perPage", f"perPage must be a whole number from 1 to {MAX_PER_PAGE}.")
    return int(raw)


def token_of(last_id, query_key):
    """An opaque nextPageToken: where the next page starts, for this query only."""
    raw = json.dumps([last_id, query_key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after_of(token, query_key):
    """The eventID a nextPageToken continues after; QueryProblem for a token of another query or none of ours."""
    try:
        last_id, key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, TypeError):
        raise QueryProblem("nextPageToken", "nextPageToken is not one this repository gave.") from None
    if key != query_key or not isinstance(last_id, str):
        raise QueryProblem("nextPageToken", "nextPageToken belongs to another query; repeat that query's "
                                            "parameters with it.")
    return last_id


def _scoped(query, viewers):
    if viewers is None:
        return query
    return {"$and": [query, {"viewers": {"$in": list(viewers)}}]} if query else {"viewers": {"$in": list(viewers)}}


def events(db, viewers, query, limit, after=None):
    """A page of stored events (their documents) and whether more follow."""
    if after is not None:
        query = {"$and": [query, {"_id": {"$gt": after}}]} if query else {"_id": {"$gt": after}}
    found = list(db[EVENTS].find(_scoped(query, viewers)).sort("_id", 1).limit(limit + 1))
    return found[:limit], len(found) > limit


def one(db, viewers, event_id):
    """One stored event the caller may see, or None."""
    return db[EVENTS].find_one(_scoped({"_id": event_id}, viewers))


def values_of(db, viewers, field):
    """The distinct values of a field over the events the caller may see (for /eventTypes, /bizSteps...)."""
    return sorted(v for v in db[EVENTS].distinct(field, _scoped({}, viewers)) if v)


# -- answers ---------------------------------------------------------------------------------------------------------
def _utc(moment):
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def as_event(doc):
    """A stored event as it was captured, with the eventID the repository gave it and its recordTime."""
    event = json.loads(doc["json"])
    if "eventID" not in event:
        event = {"type": event.get("type"), "eventID": doc["_id"], **event}
    if "recordTime" not in event and doc.get("record_time") is not None:
        event["recordTime"] = _utc(doc["record_time"])
    return event


def merged_context(docs, base=None):
    """One @context for stored events (the GS1 context, then every capture's own entries), and per-event overrides
    for the events whose prefixes clash with an earlier one's."""
    merged, urls, own = {}, [], {}
    for entry in base or []:
        if isinstance(entry, str):
            urls.append(entry)
        elif isinstance(entry, dict):
            merged.update(entry)
    for doc in docs:
        context = json.loads(doc.get("context") or "null")
        entries = context if isinstance(context, list) else [context] if context else []
        clash = False
        for entry in entries:
            if isinstance(entry, str) and entry not in urls:
                urls.append(entry)
            elif isinstance(entry, dict):
                clash = clash or any(merged.get(k, v) != v for k, v in entry.items())
        if clash:
            own[doc["_id"]] = context
            continue
        for entry in entries:
            if isinstance(entry, dict):
                merged.update(entry)
    if EPCIS_CONTEXT not in urls:
        urls.insert(0, EPCIS_CONTEXT)
    return urls + ([merged] if merged else []), own


def query_document(docs, created, query_name="SimpleEventQuery"):
    """Stored events as an EPCISQueryDocument (SimpleEventQuery results)."""
    context, own = merged_context(docs)
    listed = []
    for doc in docs:
        event = as_event(doc)
        if doc["_id"] in own:
            event = {"@context": own[doc["_id"]], **event}
        listed.append(event)
    return {"@context": context, "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": _utc(created),
            "epcisBody": {"queryResults": {"queryName": query_name, "resultsBody": {"eventList": listed}}}}


def utc_text(moment):
    """A moment as strict RFC 3339 UTC text with milliseconds."""
    return _utc(moment)


def query_key(path, args):
    """What a nextPageToken is bound to: the path and the filters, without the paging parameters."""
    kept = sorted((k, v) for k, vs in args.items() if k not in PAGING for v in vs)
    return json.dumps([path, kept], separators=(",", ":"))


def normalised(name, value):
    """A path segment's value as the stored field holds it (CBV words bare)."""
    return _values(name, [value])[0]
