"""The registry an administrator keeps: enterprises, whitelist approvals, yearly quota issues and penalties.

Every change is audited. Enterprise edits carry the ETag the administrator read in the update filter (Eve's
pattern), so two administrators editing the same enterprise cannot both win. The ETag versions the fields an
administrator edits here (name, province, roles, city, location), not the approvals or quotas kept beside them.
"""
import uuid
from datetime import date, datetime

from pymongo.errors import DuplicateKeyError

from inspector.errors import DomainError

from inspector.registry import approvals
from inspector.audit import chain as audit
from inspector.quota import penalties
from inspector.codes import uscc
from inspector.accounts.users import PROVINCES
from inspector.verdict.lineage import fetch_enterprises

ROLES = ("mine", "separator", "metal_smelter", "magnet_maker", "recycler", "trader", "exporter", "importer")
EDITABLE = ("name", "province", "roles", "city", "location")
# The role, or the whitelist stage, that makes an enterprise eligible for a quota category.
CATEGORY_FIT = {"mining_light": ("mine", "mining"), "mining_medium_heavy": ("mine", "mining"),
                "separation": ("separator", "separation")}
LEGACY_ETAG = "0"  # documents written before enterprises carried an ETag


class RegistryError(DomainError):
    """A registry change refused; kind is invalid, conflict, not_found or stale; code is machine-readable."""

    def __init__(self, kind, code, message, **details):
        super().__init__(message, code=code, kind=kind, **details)


def etag_of(enterprise):
    """The enterprise's current entity tag."""
    return enterprise.get("_etag") or LEGACY_ETAG


def _stored(details):
    # BSON has no plain date: audit details keep dates as ISO text.
    return {k: v.isoformat() if isinstance(v, date) and not isinstance(v, datetime) else v for k, v in details.items()}


def _new_etag():
    return uuid.uuid4().hex


# -- enterprises -----------------------------------------------------------------------------------------------------
def view(enterprise, day):
    """An enterprise as the registry shows it, with its whitelist state on a China day."""
    code = enterprise.get("uscc")
    return {
        "_id": enterprise["_id"], "name": enterprise["name"], "uscc": code,
        "uscc_parts": uscc.parts(code) if code and uscc.is_valid(code) else None,
        "province": enterprise.get("province"), "city": enterprise.get("city"), "location": enterprise.get("location"),
        "roles": enterprise.get("roles", []), "quota_categories": enterprise.get("quota_categories", []),
        "gs1_prefix": enterprise.get("gs1_prefix"), "glns": enterprise.get("glns", []),
        "whitelist": approvals.today(enterprise.get("approvals", []), day),
        "created_at": enterprise.get("created_at"), "updated_at": enterprise.get("updated_at"),
    }


def _valid_uscc(text):
    try:
        return uscc.validate(text)
    except uscc.UsccError as exc:
        raise RegistryError("invalid", exc.code, str(exc), field="uscc", typo=exc.typo, **exc.details) from None


def _roles(roles):
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise RegistryError("invalid", "bad_roles", f"roles must be one or more of {', '.join(ROLES)}.", field="roles")
    return roles


def _text(value, field):
    value = (value or "").strip()
    if not value:
        raise RegistryError("invalid", "bad_field", f"{field} must not be blank.", field=field)
    return value


def create_enterprise(db, body, actor, now):
    """Register an enterprise; its id defaults to ENT- and the USCC's organisation code."""
    code = _valid_uscc(body["uscc"])
    if body["province"] not in PROVINCES:
        raise RegistryError("invalid", "unknown_province", f"Unknown province {body['province']!r}.", field="province")
    taken = db.enterprises.find_one({"uscc": code}, {"_id": 1, "name": 1})
    if taken:
        raise RegistryError("conflict", "uscc_taken", f"{taken['name']} ({taken['_id']}) already has the USCC {code}.",
                            enterprise_id=taken["_id"])
    doc = {
        "_id": body.get("id") or f"ENT-{code[8:17]}", "name": _text(body["name"], "name"), "uscc": code,
        "roles": _roles(body["roles"]), "province": body["province"], "city": (body.get("city") or "").strip() or None,
        "location": body.get("location"), "quota_categories": [], "_etag": _new_etag(), "created_at": now,
        "updated_at": now,
    }
    try:
        db.enterprises.insert_one(doc)
    except DuplicateKeyError:
        raise RegistryError("conflict", "enterprise_taken", f"An enterprise with the id {doc['_id']} or the USCC "
                                                            f"{code} is already registered.",
                            enterprise_id=doc["_id"]) from None
    audit.record(db, actor, "registry.enterprise.create", f"enterprise:{doc['_id']}",
                 {k: doc[k] for k in ("name", "uscc", "roles", "province", "city")}, now=now)
    return doc


def find_enterprise(db, enterprise_id):
    """The enterprise with its approvals, quotas, usage and penalties, or RegistryError not_found."""
    found = fetch_enterprises(db, {enterprise_id}).get(enterprise_id)
    if not found:
        raise RegistryError("not_found", "enterprise_not_found", "No such enterprise among the ones you may see.")
    return found


def update_enterprise(db, enterprise_id, changes, if_match, actor, now):
    """Change name, province, roles, city or location if an ETag in if_match is current; return the enterprise."""
    current = find_enterprise(db, enterprise_id)
    if etag_of(current) not in if_match:
        raise RegistryError("stale", "stale_etag", "This enterprise changed since you read it: reload it, check what "
                                                   "changed, and try again.")
    wanted = {}
    for field in EDITABLE:
        if field not in changes:
            continue
        value = changes[field]
        if field == "name":
            value = _text(value, "name")
        elif field == "roles":
            value = _roles(value)
        elif field == "city":
            value = (value or "").strip() or None
        if value != current.get(field):
            wanted[field] = value
    if "roles" in wanted:
        _check_roles_kept(current, wanted["roles"], now)
    if not wanted:
        return current
    the_tag = {"_etag": current["_etag"]} if current.get("_etag") else {"_etag": {"$exists": False}}
    result = db.enterprises.update_one({"_id": enterprise_id, **the_tag},
                                       {"$set": {**wanted, "_etag": _new_etag(), "updated_at": now}})
    if result.matched_count != 1:
        raise RegistryError("stale", "stale_etag", "This enterprise changed while you were saving: reload it and try "
                                                   "again.")
    audit.record(db, actor, "registry.enterprise.update", f"enterprise:{enterprise_id}",
                 {"changes": {f: {"from": current.get(f), "to": v} for f, v in wanted.items()}}, now=now)
    return find_enterprise(db, enterprise_id)


def _check_roles_kept(enterprise, roles, now):
    day = approvals.china_day(now)
    for stage, role in approvals.STAGE_ROLES.items():
        if role in roles:
            continue
        state, _ = approvals.state_on(enterprise.get("approvals", []), stage, day)
        if state in ("granted", "suspended"):
            raise RegistryError("conflict", "approval_in_force", f"{enterprise['name']} holds a {stage} approval "
                                f"({approvals.STATE_TEXT[state]}) today: revoke it before removing the {role} role.",
                                field="roles")


def list_enterprises(db, filters, first, limit, scope=None):
    """A page of enterprises matching the filters within a scope filter, with their approval histories; (docs, total)."""
    query = {}
    if filters.get("province"):
        query["province"] = filters["province"]
    if filters.get("role"):
        query["roles"] = filters["role"]
    if filters.get("uscc"):
        query["uscc"] = uscc.compact(filters["uscc"])
    if filters.get("enterprise_id"):
        query["_id"] = filters["enterprise_id"]
    if scope:
        query = {"$and": [query, scope]}
    total = db.enterprises.count_documents(query)
    pipeline = [{"$match": query}, {"$sort": {"_id": 1}}, {"$skip": first}, {"$limit": limit},
                {"$lookup": {"from": "approvals", "localField": "_id", "foreignField": "enterprise_id",
                             "as": "approvals"}}]
    return list(db.enterprises.aggregate(pipeline)), total


def directory(db, scope, first, limit):
    """A page of (id, name, province, city) of the enterprises in a scope, by id, for pickers kept offline; (docs, total)."""
    query = scope or {}
    cursor = db.enterprises.find(query, {"name": 1, "province": 1, "city": 1}).sort("_id", 1).skip(first).limit(limit)
    return list(cursor), db.enterprises.count_documents(query)


# -- approvals -------------------------------------------------------------------------------------------------------
def record_approval(db, enterprise_id, action, actor, now):
    """Append a grant, suspension, reinstatement or revocation to the enterprise's whitelist history."""
    enterprise = db.enterprises.find_one({"_id": enterprise_id})
    if not enterprise:
        raise RegistryError("not_found", "enterprise_not_found", "No such enterprise among the ones you may see.")
    try:
        entry = approvals.record(db, enterprise, action, actor, now)
    except approvals.ApprovalError as exc:
        raise RegistryError(exc.kind, exc.code, str(exc), **exc.details) from None
    audit.record(db, actor, f"registry.approval.{entry['action']}", f"enterprise:{enterprise_id}",
                 _stored({k: v for k, v in approvals.view(entry).items() if k not in ("recorded_at", "recorded_by")}),
                 now=now)
    return entry


# -- quotas ----------------------------------------------------------------------------------------------------------
def quota_view(q):
    """A quota issue as clients see it."""
    return {"id": q["_id"], "enterprise_id": q["enterprise_id"], "year": q["year"], "issue_batch": q["issue_batch"],
            "category": q["category"], "tonnes_reo": q["tonnes_reo"], "issued_on": approvals.as_day(q["issued_on"]),
            "recorded_at": q.get("recorded_at"), "recorded_by": q.get("recorded_by")}


def issue_quota(db, body, actor, now):
    """Record one issue batch of a year's quota for an enterprise and category."""
    eid, year, category, batch = body["enterprise_id"], body["year"], body["category"], body["issue_batch"]
    enterprise = db.enterprises.find_one({"_id": eid})
    if not enterprise:
        raise RegistryError("invalid", "unknown_enterprise", f"No enterprise {eid} is registered.",
                            field="enterprise_id")
    role, stage = CATEGORY_FIT[category]
    history = approvals.history_of(db, eid)
    granted = any(e["stage"] == stage and e.get("action", "grant") == "grant" for e in history)
    if role not in enterprise.get("roles", []) and not granted:
        raise RegistryError("invalid", "category_not_fit", f"A {category} quota needs a {role} (or a {stage} "
                            f"approval); {enterprise['name']} is registered as {', '.join(enterprise.get('roles', []))}.",
                            field="category")
    if body["issued_on"].year not in (year - 1, year):
        raise RegistryError("invalid", "bad_dates", f"A {year} quota is issued in {year - 1} or {year}, not on "
                            f"{body['issued_on']}.", field="issued_on")
    key = {"enterprise_id": eid, "year": year, "category": category, "issue_batch": batch}
    if db.quotas.find_one(key, {"_id": 1}):
        raise RegistryError("conflict", "quota_batch_taken", f"Issue batch {batch} of {enterprise['name']}'s {year} "
                            f"{category} quota is already recorded; issue the next batch number.", **key)
    doc = {"_id": f"Q-{year}-{batch}-{eid}-{category}", **key, "tonnes_reo": float(body["tonnes_reo"]),
           "issued_on": approvals.stored_day(body["issued_on"]), "recorded_at": now,
           "recorded_by": (actor or {}).get("username", "system")}
    try:
        db.quotas.insert_one(doc)
    except DuplicateKeyError:
        raise RegistryError("conflict", "quota_batch_taken", f"Issue batch {batch} of {enterprise['name']}'s {year} "
                            f"{category} quota is already recorded.", **key) from None
    db.enterprises.update_one({"_id": eid}, {"$addToSet": {"quota_categories": category}})
    audit.record(db, actor, "registry.quota.issue", f"enterprise:{eid}",
                 {**key, "tonnes_reo": doc["tonnes_reo"], "issued_on": body["issued_on"].isoformat()}, now=now)
    return doc


def list_quotas(db, filters, first, limit, enterprise_ids=None):
    """A page of quota issues matching the filters, of the given enterprises only (None: all); returns (docs, total)."""
    query = {k: filters[k] for k in ("enterprise_id", "year", "category") if filters.get(k) is not None}
    if enterprise_ids is not None and "enterprise_id" not in query:
        query["enterprise_id"] = {"$in": enterprise_ids}
    total = db.quotas.count_documents(query)
    cursor = db.quotas.find(query).sort([("enterprise_id", 1), ("year", 1), ("category", 1), ("issue_batch", 1)])
    return list(cursor.skip(first).limit(limit)), total


# -- penalties -------------------------------------------------------------------------------------------------------
def penalty_view(p, enterprise=None):
    """A penalty as clients see it, with its cut when the enterprise is given."""
    out = {"id": p["_id"], "enterprise_id": p["enterprise_id"], "kind": p["kind"], "year": p["year"],
           "category": p.get("category"), "cut_pct": p.get("cut_pct"), "decided_on": approvals.as_day(p["decided_on"]),
           "decision_no": p.get("decision_no"), "reason": p.get("reason"), "recorded_at": p.get("recorded_at"),
           "recorded_by": p.get("recorded_by")}
    if enterprise is not None:
        out["effect"] = penalties.effect(enterprise, p)
    return out


def record_penalty(db, enterprise_id, body, actor, now):
    """Record a penalty; return (penalty, the enterprise with it) so the caller can show its cut."""
    enterprise = find_enterprise(db, enterprise_id)
    try:
        doc = penalties.new_penalty(enterprise, body, actor, now)
    except penalties.PenaltyError as exc:
        raise RegistryError("invalid", exc.code, str(exc), **exc.details) from None
    db.penalties.insert_one(doc)
    enterprise = {**enterprise, "penalties": enterprise.get("penalties", []) + [doc]}
    audit.record(db, actor, "registry.penalty.record", f"enterprise:{enterprise_id}",
                 _stored({k: v for k, v in penalty_view(doc).items() if k not in ("recorded_at", "recorded_by")}),
                 now=now)
    return doc, enterprise
