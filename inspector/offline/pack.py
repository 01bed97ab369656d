"""The offline verdict pack: for an inspector's area, every code that exists, each batch's standing problems with
their reasons, its recorded holder and remaining mass, the whitelist and the authority's public keys, dated and signed.

A standing problem is a reason that holds whatever the scan's context: the producer, quota, import, lineage,
retirement, mass balance and transfer-state reasons. The phone adds the reasons that depend on where and with
whom the batch is found (unrecorded transfer, quantity mismatch, no export record, late reporting) from the
holder, mass and reporting facts carried here, exactly as inspector/verdict/rules.py does online.
"""
import hashlib
import json

from inspector.clock import aware
from inspector.ledger import transfers
from inspector.registry.approvals import STAGE_APPROVAL, approval_on
from inspector.verdict import rules
from inspector.verdict.lineage import MAX_DEPTH, fetch_enterprises

FORMAT = "refi-offline-pack/1"
SCOPED_ROLES = ("inspector", "supervisor", "admin")
_BATCH_FIELDS = {"_id": 1, "stage": 1, "product_type": 1, "producer_id": 1, "produced_on": 1, "holder_id": 1,
                 "remaining_kg": 1, "status": 1, "status_since": 1, "gs1": 1, "parent_codes": 1, "parents": 1,
                 "quota_category": 1, "quota_used_t": 1, "import_check": 1, "in_transit": 1, "origin_country": 1,
                 "mass_kg": 1, "reo_pct": 1, "imported": 1, "repackaged": 1, "within_quota": 1}
# Reasons the server decides for the batch alone; the rest the phone decides from the scan's context.
STANDING = ("producer_not_approved", "over_quota", "unverified_import", "tainted_lineage", "retired_code",
            "mass_balance", "in_transit", "disputed_holder")


class PackScopeError(PermissionError):
    """This role gets no offline pack."""


def area(db, actor):
    """(provinces or None for the whole country, codes of the actor's tasks) the actor's pack covers.

    A supervisor's area is their provinces; an inspector's, the provinces and batches of their open tasks (theirs
    and their pool's), or the whole country for an inspector with no task (one who checks wherever they are sent).
    """
    role = actor.get("role")
    if role not in SCOPED_ROLES:
        raise PackScopeError(role)
    if role != "inspector":
        provinces = actor.get("provinces")
        return (None if provinces is None else sorted(provinces)), []
    query = {"status": "open", "$or": [{"assignees": actor.get("user_id")}, {"pool": True, "assignees": []}]}
    tasks = list(db.tasks.find(query, {"items.batch_code": 1, "province": 1}))
    if not tasks:
        return None, []
    provinces = sorted({t["province"] for t in tasks if t.get("province")})
    return provinces, sorted({i["batch_code"] for t in tasks for i in t.get("items", [])})


def _area_batches(db, provinces, task_codes):
    if provinces is None:
        return list(db.batches.find({}, _BATCH_FIELDS))
    holders = [e["_id"] for e in db.enterprises.find({"province": {"$in": provinces}}, {"_id": 1})]
    found = {b["_id"]: b for b in db.batches.find({"holder_id": {"$in": holders}}, _BATCH_FIELDS)}
    found.update({b["_id"]: b for b in db.batches.find({"in_transit.to_id": {"$in": holders}}, _BATCH_FIELDS)})
    rest = [c for c in task_codes if c not in found]
    if rest:
        found.update({b["_id"]: b for b in db.batches.find({"_id": {"$in": rest}}, _BATCH_FIELDS)})
    return list(found.values())


def _ancestors(db, batches):
    """Every ancestor of these batches, by code, read level by level on _id (bounded like the online lookup)."""
    known = {b["_id"]: b for b in batches}
    frontier = {p for b in batches for p in b.get("parent_codes", [])}
    for _ in range(MAX_DEPTH + 1):
        missing = sorted(frontier - set(known))
        if missing:
            known.update({b["_id"]: b for b in db.batches.find({"_id": {"$in": missing}}, _BATCH_FIELDS)})
        frontier = {p for c in frontier if c in known for p in known[c].get("parent_codes", [])} - set(known)
        if not frontier:
            break
    return known


def _lineage(batch, known):
    """The batch's ancestors with their generation (1 = parent), like inspector.verdict.lineage.ancestor_depths."""
    out, seen, frontier, level = [], set(), list(batch.get("parent_codes", [])), 1
    while frontier and level <= MAX_DEPTH + 1:
        nxt = []
        for code in frontier:
            if code in seen or code not in known:
                continue
            seen.add(code)
            out.append({**known[code], "generation": level})
            nxt.extend(known[code].get("parent_codes", []))
        frontier, level = nxt, level + 1
    return out


def _standing(batch, ancestors, enterprises, claims, settings, now):
    transit = batch.get("in_transit")
    found = [
        rules.producer_not_approved(batch, enterprises),
        rules.over_quota(batch, enterprises),
        rules.unverified_import(batch, enterprises),
        rules.tainted_lineage(ancestors, enterprises),
        rules.retired_code(batch, None),
        rules.mass_balance(batch, enterprises, settings),
        rules.in_transit({**batch, "in_transit": {**transit, "since": aware(transit["since"])}} if transit else batch,
                         enterprises, now),
        rules.disputed_holder(batch, [{**c, "received_on": aware(c["received_on"])} for c in claims], enterprises),
    ]
    return [r for r in found if r]


def _late(enterprise, now, settings):
    """The enterprise's entry of the late_reporting evidence, or None when it filed every month on time."""
    found = rules.late_reporting([enterprise["_id"]], {enterprise["_id"]: enterprise}, now,
                                 settings.report_deadline_day, settings.report_deadline_inclusive)
    if not found:
        return None
    return {"entry": found["evidence"]["enterprises"][0], "text": found["evidence"]["periods_text"]}


def _entry(batch, reasons, exported):
    gs1 = batch.get("gs1") or {}
    entry = {"h": batch["holder_id"], "r": batch["remaining_kg"], "st": batch["status"]}
    for short, key in (("g", "gtin"), ("l", "lot"), ("s", "serial")):
        if gs1.get(key):
            entry[short] = gs1[key]
    if batch.get("in_transit"):
        entry["t"] = batch["in_transit"]["to_id"]
    if exported:
        entry["x"] = 1
    entry["p"] = batch["producer_id"]
    if reasons:
        entry["reasons"] = reasons
    return entry


def snapshot(db, actor, settings, now):
    """The pack's content (unsigned): what the phone needs to judge any code of the actor's area."""
    provinces, task_codes = area(db, actor)
    batches = _area_batches(db, provinces, task_codes)
    known = _ancestors(db, batches)
    codes = [b["_id"] for b in batches]
    enterprises = fetch_enterprises(db, [e["_id"] for e in db.enterprises.find({}, {"_id": 1})])
    claims = {}
    for claim in transfers.open_claims_on(db, codes):
        claims.setdefault(claim["batch_code"], []).append(claim)
    exported = {m["batch_code"] for m in db.movements.find({"batch_code": {"$in": codes}, "kind": "export"},
                                                          {"batch_code": 1})}
    entries = {}
    for batch in batches:
        reasons = _standing(batch, _lineage(batch, known), enterprises, claims.get(batch["_id"], []), settings, now)
        entries[batch["_id"]] = _entry(batch, reasons, batch["_id"] in exported)
    whitelist = {}
    for eid, e in enterprises.items():
        whitelist[eid] = {"name": e["name"], "province": e.get("province"),
                          "approved": sorted(s for stage, s in STAGE_APPROVAL.items()
                                             if approval_on(e, stage, now) is True),
                          "late": _late(e, now, settings)}
    return {
        "format": FORMAT,
        "as_of": now.isoformat(),
        "scope": {"provinces": provinces, "task_batches": len(task_codes)},
        "codes": {"exact": True, "false_positive_rate": 0.0, "count": len(entries)},
        "rules": {"mass_tolerance_pct": settings.mass_tolerance_pct},
        "not_offline": ["cloned_code"],
        "batches": entries,
        "enterprises": whitelist,
    }


def canonical(content) -> bytes:
    """The exact bytes signed and served: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def version_of(content) -> str:
    """A version name that changes whenever the content does (its time aside)."""
    body = {k: v for k, v in content.items() if k not in ("as_of", "keys", "version")}
    return hashlib.sha256(canonical(body)).hexdigest()[:20]


def signed(keyring, content) -> dict:
    """The envelope the phone stores: the pack text, and the authority's signature over its UTF-8 bytes."""
    text = canonical(content)
    return {"pack": text.decode(), **keyring.sign_bytes(text)}
