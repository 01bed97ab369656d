"""Findings: logging them idempotently, prefilling them from scans, and reading them within the reader's scope."""
import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone

from pymongo.errors import DuplicateKeyError

from inspector.clock import as_utc
from inspector.errors import DomainError
from inspector.audit import promises
from inspector.findings import workflow
from inspector.verdict.reasons import FAIL, REASONS, WARNING
from inspector.store.connection import durable

FIELD_DISCREPANCIES = ("label_missing_or_damaged", "packaging_noncompliant", "documents_missing",
                       "unlicensed_trading", "other")
DISCREPANCIES = tuple(REASONS) + FIELD_DISCREPANCIES
SEVERITIES = ("low", "medium", "high")
SITE_TYPES = ("market", "port", "warehouse", "factory", "other")
SORTS = ("observed_at", "received_at", "deadline", "updated_at")
CLOCK_SKEW = timedelta(minutes=10)  # a device clock a little ahead is normal; a day ahead is not
LIST_PROJECTION = {"timeline": 0, "payload_hash": 0, "audit_pending": 0, "last_change": 0}


class FindingConflict(DomainError):
    """The client_id was already used by this inspector for a different finding."""

    kind, code = "conflict", "client_id_reused"


class FindingInputError(DomainError, ValueError):
    """A finding that cannot be logged as sent; code is machine-readable."""

    def __init__(self, code, message, **details):
        super().__init__(message, code=code, **details)


def fingerprint(body):
    """A digest of what the device sent, so a replay can be told from a different finding."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


def iso_week(moment):
    """The ISO week a moment falls in, as 2025-W08."""
    year, week, _ = as_utc(moment).isocalendar()
    return f"{year}-W{week:02d}"


def visible_scans(db, actor, scan_ids):
    """The scans with these ids that the actor may cite (inspectors: their own), in the order given."""
    query = {"_id": {"$in": [str(s) for s in scan_ids]}}
    if actor.get("role") != "admin":
        query["inspector_id"] = actor.get("user_id")
    found = {s["_id"]: s for s in db.scans.find(query)}
    missing = [s for s in scan_ids if s not in found]
    if missing:
        raise FindingInputError("unknown_scans", "Some scan_ids are not scans of yours.", unknown=missing)
    return [found[s] for s in dict.fromkeys(scan_ids)]


def draft_from_scans(scans):
    """The fields a finding can take from its scans: reasons, codes, holder, site, place and time."""
    draft = {"scan_ids": [s["_id"] for s in scans]}
    reasons = [r["code"] for s in scans for r in (s.get("verdict") or {}).get("reasons", []) if r["code"] in REASONS]
    codes = [s["batch_code"] for s in scans if s.get("batch_code")]
    holders = {s["holder_enterprise_id"] for s in scans if s.get("holder_enterprise_id")}
    if reasons:
        draft["discrepancies"] = list(dict.fromkeys(reasons))
    if codes:
        draft["batch_codes"] = list(dict.fromkeys(codes))
    if len(holders) == 1:
        draft["enterprise_id"] = holders.pop()
    for key in ("site", "location"):
        first = next((s[key] for s in scans if s.get(key)), None)
        if first:
            draft[key] = dict(first)
    times = [as_utc(s["scanned_at"]) for s in scans if s.get("scanned_at")]
    if times:
        draft["observed_at"] = min(times)
    if len(scans) == 1 and scans[0].get("observed_mass_kg") is not None:
        draft["observed_mass_kg"] = scans[0]["observed_mass_kg"]
    if draft.get("discrepancies"):
        draft["severity"] = default_severity(draft["discrepancies"])
    return draft


def default_severity(discrepancies):
    """High when any discrepancy is a failing verdict reason, medium otherwise."""
    severities = {REASONS[d].severity for d in discrepancies if d in REASONS}
    if FAIL in severities or "unlicensed_trading" in discrepancies:
        return "high"
    return "medium" if WARNING in severities or discrepancies else "low"


def create(db, actor, body, now=None):
    """Log a finding, idempotent per inspector and client_id; return (finding, created)."""
    now = now or datetime.now(timezone.utc)
    body = {**body, "client_id": str(body["client_id"])}
    if body.get("observed_at"):
        body["observed_at"] = as_utc(body["observed_at"])
    digest = fingerprint(body)
    key = {"inspector_id": actor["user_id"], "client_id": body["client_id"]}
    existing = db.findings.find_one(key)
    if existing:
        return _replayed(db, existing, digest), False
    doc = _new_finding(db, actor, body, digest, now)
    # The finding is the commit point; it carries its audit entry as a promise until the entry is written.
    promise = promises.pending(actor, "finding.create", f"finding:{doc['_id']}",
                            {"client_id": doc["client_id"], "enterprise_id": doc["enterprise_id"],
                             "discrepancies": doc["discrepancies"], "severity": doc["severity"]})
    with promises.exclusive("finding", actor["user_id"], body["client_id"]):
        try:
            durable(db, "findings").insert_one({**doc, "audit_pending": promise})
        except DuplicateKeyError:
            pass  # the same finding raced in on another request: answered as a replay, outside this lock
        else:
            promises.settle(db, "findings", doc["_id"], promise)
            return doc, True
    return _replayed(db, db.findings.find_one(key), digest), False


def _replayed(db, existing, digest):
    if existing["payload_hash"] != digest:
        raise FindingConflict("This client_id was already used for a different finding: make a new client_id.",
                              client_id=str(existing["client_id"]))
    promise = existing.pop("audit_pending", None)
    if promise:  # an interrupted try stored the finding but maybe not its audit entry
        promises.settle(db, "findings", existing["_id"], promise)
    return existing


def _new_finding(db, actor, body, digest, now):
    scans = visible_scans(db, actor, body["scan_ids"]) if body.get("scan_ids") else []
    fields = {**draft_from_scans(scans), **{k: v for k, v in body.items() if v is not None}} if scans else dict(body)
    missing = [k for k in ("enterprise_id", "site", "observed_at") if not fields.get(k)]
    if not fields.get("discrepancies"):
        missing.append("discrepancies")
    if missing:
        raise FindingInputError("missing_fields", f"Say {', '.join(missing)} (or cite scans that carry them).",
                                fields=missing)
    enterprise = db.enterprises.find_one({"_id": str(fields["enterprise_id"])}, {"name": 1, "province": 1})
    if not enterprise:
        raise FindingInputError("unknown_enterprise", f"No enterprise {fields['enterprise_id']} is registered.",
                                field="enterprise_id")
    observed_at = as_utc(fields["observed_at"])
    if observed_at > now + CLOCK_SKEW:
        raise FindingInputError("observed_in_future", "observed_at is in the future: check the device clock.",
                                field="observed_at")
    discrepancies = list(dict.fromkeys(fields["discrepancies"]))
    unknown = [d for d in discrepancies if d not in DISCREPANCIES]
    if unknown:
        raise FindingInputError("unknown_discrepancy", "Some discrepancies are not known types.", unknown=unknown)
    return finding_document(actor, enterprise, {**fields, "observed_at": observed_at, "discrepancies": discrepancies,
                                                "scan_ids": [s["_id"] for s in scans]}, body["client_id"], digest, now)


def finding_document(actor, enterprise, fields, client_id, digest, now):
    """A new, submitted finding as stored, from checked fields (also used to generate bulk demo and bench data)."""
    observed_at = fields["observed_at"]
    return {
        "_id": str(uuid.uuid4()),
        "client_id": client_id,
        "inspector_id": actor["user_id"],
        "inspector": actor.get("username"),
        "enterprise_id": enterprise["_id"],
        "enterprise_name": enterprise.get("name"),
        "province": enterprise.get("province"),
        "site": fields["site"],
        "location": fields.get("location"),
        "observed_at": observed_at,
        "observed_week": iso_week(observed_at),
        "received_at": now,
        "updated_at": now,
        "scan_ids": fields.get("scan_ids") or [],
        "batch_codes": list(dict.fromkeys(fields.get("batch_codes") or [])),
        "discrepancies": fields["discrepancies"],
        "observed_mass_kg": fields.get("observed_mass_kg"),
        "severity": fields.get("severity") or default_severity(fields["discrepancies"]),
        "notes": fields.get("notes"),
        "status": workflow.SUBMITTED,
        "deadline": None,
        "outcome": None,
        "attachments": [],
        "timeline": [{"at": now, "action": "submit", "from": None, "to": workflow.SUBMITTED,
                      "actor_id": actor["user_id"], "actor": actor.get("username"), "role": actor.get("role"),
                      "device_id": actor.get("device_id"), "comment": None}],
        "payload_hash": digest,
        "_etag": workflow.new_etag(),
    }


# --- reading ------------------------------------------------------------------------------------

def scope_filter(actor):
    """The findings an actor may see at all: the filter every read is ANDed with."""
    role = actor.get("role")
    if role == "admin":
        return {}
    if role == "inspector":
        return {"inspector_id": actor.get("user_id")}
    if role == "supervisor":
        provinces = actor.get("provinces")
        return {} if provinces is None else {"province": {"$in": list(provinces)}}
    if role == "enterprise" and actor.get("enterprise_id"):
        return {"enterprise_id": actor["enterprise_id"], "status": {"$in": list(workflow.SENT_STATES)}}
    return {"_id": {"$in": []}}


def find_visible(db, actor, finding_id):
    """The finding if it exists and the actor may see it, else None (so outsiders cannot tell which)."""
    return db.findings.find_one({"$and": [{"_id": str(finding_id)}, scope_filter(actor)]})


def query_filter(actor, filters, now=None):
    """The Mongo filter for a reader's list, stats or export: scope AND the requested filters (plain values only)."""
    now = now or datetime.now(timezone.utc)
    clauses = [scope_filter(actor)]
    if filters.get("status"):
        clauses.append({"status": {"$in": [str(s) for s in filters["status"]]}})
    for name, field in (("enterprise_id", "enterprise_id"), ("inspector_id", "inspector_id"),
                        ("reason", "discrepancies"), ("severity", "severity"), ("site_type", "site.type"),
                        ("province", "province")):
        if filters.get(name) is not None:
            clauses.append({field: str(filters[name])})
    observed = {}
    if filters.get("observed_from"):
        observed["$gte"] = as_utc(filters["observed_from"])
    if filters.get("observed_to"):
        observed["$lt"] = as_utc(filters["observed_to"])
    if observed:
        clauses.append({"observed_at": observed})
    if filters.get("overdue") is True:
        clauses.append(overdue_filter(now))
    elif filters.get("overdue") is False:
        clauses.append({"$or": [{"status": {"$ne": workflow.AWAITING_RESPONSE}}, {"deadline": {"$gte": now}}]})
    return {"$and": clauses}


def overdue_filter(now):
    """Findings whose response deadline has passed."""
    return {"status": workflow.AWAITING_RESPONSE, "deadline": {"$lt": now}}


def sort_spec(sort):
    """A Mongo sort from 'field' or '-field' (newest first by default), with _id to keep pages stable."""
    sort = sort or "-observed_at"
    field = sort.lstrip("-")
    if field not in SORTS:
        raise FindingInputError("unknown_sort", f"sort must be one of {', '.join(SORTS)} (prefix - for descending).")
    direction = -1 if sort.startswith("-") else 1
    return [(field, direction), ("_id", direction)]


def list_findings(db, query, sort, skip, limit):
    """One page of findings (without timelines) and the total that match.

    The page is found on ids alone, then its documents are read by _id: the sort never carries whole findings,
    which keeps deep pages cheap on MongoDB and on the embedded store alike.
    """
    # A reader whose scope and filters narrow nothing counts the whole log: from the collection's metadata, not a scan.
    unfiltered = all(not clause for clause in query.get("$and", [query]))
    total = db.findings.estimated_document_count() if unfiltered else db.findings.count_documents(query)
    spec = sort_spec(sort)
    page = [d["_id"] for d in db.findings.find(query, {"_id": 1, spec[0][0]: 1}).sort(spec).skip(skip).limit(limit)]
    docs = {d["_id"]: d for d in db.findings.find({"_id": {"$in": page}}, LIST_PROJECTION)} if page else {}
    return [docs[i] for i in page if i in docs], total


def stats(db, query, now=None):
    """Counts by status, discrepancy, province and ISO week, and how many are overdue: one aggregation."""
    now = now or datetime.now(timezone.utc)

    def count_by(field, unwind=False):
        return ([{"$unwind": f"${field}"}] if unwind else []) + [
            {"$group": {"_id": f"${field}", "count": {"$sum": 1}}}, {"$sort": {"_id": 1}}]

    pipeline = [{"$match": query},
                {"$project": {"status": 1, "discrepancies": 1, "province": 1, "observed_week": 1}},
                {"$facet": {"by_status": count_by("status"), "by_reason": count_by("discrepancies", unwind=True),
                            "by_province": count_by("province"), "by_week": count_by("observed_week")}}]
    facets = next(db.findings.aggregate(pipeline), {})
    counts = {name: {str(r["_id"]): r["count"] for r in rows if r["_id"] is not None} for name, rows in facets.items()}
    by_status = counts.get("by_status", {})
    return {
        "total": sum(by_status.values()),
        "overdue": db.findings.count_documents({"$and": [query, overdue_filter(now)]}),
        "by_status": by_status,
        "by_reason": counts.get("by_reason", {}),
        "by_province": counts.get("by_province", {}),
        "by_week": [{"week": w, "count": n} for w, n in counts.get("by_week", {}).items()],
    }


def view(doc, actor, now=None):
    """A finding as a reader sees it: ETag, overdue flag and the actions open to them."""
    now = now or datetime.now(timezone.utc)
    out = {k: v for k, v in doc.items() if k not in ("_id", "_etag", "payload_hash", "audit_pending", "last_change")}
    out.update(id=doc["_id"], etag=doc["_etag"], overdue=workflow.is_overdue(doc, now),
               allowed_actions=workflow.allowed_actions(doc, actor),
               attachment_count=len(doc.get("attachments") or []))
    if actor.get("role") == "enterprise":
        # Officials' identities stay with the authority: an enterprise sees roles, not names.
        out.pop("inspector", None)
        out.pop("inspector_id", None)
        if "timeline" in out:
            out["timeline"] = [e if e.get("role") == "enterprise" else {**e, "actor": e.get("role"), "actor_id": None}
                               for e in out["timeline"]]
    if "attachments" in out:
        out["attachments"] = [attachment_view(a, actor) for a in out["attachments"]]
    return out


def attachment_view(summary, actor):
    """An attachment's listing as a reader sees it: enterprises do not learn which official uploaded it."""
    if actor.get("role") == "enterprise" and summary.get("uploaded_role") != "enterprise":
        return {**summary, "uploader": summary.get("uploaded_role"), "uploaded_by": None}
    return summary
