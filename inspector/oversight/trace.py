"""The backward trace from a find to its source: where the problem entered, as a lineage graph a client can draw.

Two reads (the batch with its ancestors by one bounded $graphLookup, then their enterprises), and the verdict's own
rules (inspector/verdict/rules.py) run on each batch's own facts: a failing node is one whose producer was not
whitelisted, that was made over quota, or came in as an unverified import (and, for the batch found, whose code is
retired). The sources are the failing nodes none of whose ancestors fail: the earliest points the problem entered.
"""
from inspector.accounts import scope
from inspector.clock import aware
from inspector.quota.allocation import within_quota
from inspector.registry.approvals import approval_on
from inspector.verdict import rules
from inspector.verdict.lineage import MAX_DEPTH, ancestor_depths, fetch_batch, fetch_enterprises, mass_shares


def own_reasons(batch, enterprises, found=False):
    """The reasons a batch fails on its own facts (the ones tainted_lineage passes downstream)."""
    found_reasons = [rules.producer_not_approved(batch, enterprises), rules.over_quota(batch, enterprises),
                     rules.unverified_import(batch, enterprises)]
    if found:
        found_reasons.append(rules.retired_code(batch, None))
    return [r for r in found_reasons if r]


def trace(db, code):
    """The trace of the batch with this code, or None when no batch has it."""
    batch = fetch_batch(db, {"_id": code})
    if batch is None:
        return None
    depths = ancestor_depths(batch)
    ancestors = {a["_id"]: a for a in batch["ancestors"]}
    ids = {batch["producer_id"], batch["holder_id"]} | {a["producer_id"] for a in ancestors.values()}
    ids |= {a["holder_id"] for a in ancestors.values()}
    enterprises = fetch_enterprises(db, ids)
    share = mass_shares(batch)
    nodes, reasons = [], {}
    for node, generation in [(batch, 0)] + [(a, depths.get(c)) for c, a in ancestors.items()]:
        found = own_reasons(node, enterprises, found=node is batch)
        reasons[node["_id"]] = found
        producer = enterprises.get(node["producer_id"]) or {}
        nodes.append({
            "code": node["_id"], "generation": generation, "stage": node["stage"],
            "product_type": node["product_type"], "producer_id": node["producer_id"],
            "producer_name": producer.get("name"), "province": producer.get("province"),
            "produced_on": aware(node["produced_on"]), "mass_kg": node["mass_kg"],
            "remaining_kg": node["remaining_kg"], "status": node["status"], "holder_id": node["holder_id"],
            "holder_province": (enterprises.get(node["holder_id"]) or {}).get("province"),
            "approved_on_production_date": approval_on(producer or None, node["stage"], node["produced_on"]),
            "within_quota": within_quota(node, producer or None), "imported": bool(node.get("import_check")),
            "share_pct": 100.0 if node is batch else round(100 * share.get(node["_id"], 0.0), 4),
            "failing": bool(found), "reason_codes": [r["code"] for r in found],
        })
    nodes.sort(key=lambda n: (n["generation"] if n["generation"] is not None else 99, n["code"]))
    known = {n["code"] for n in nodes}
    edges = [{"from": p["code"], "to": n["_id"], "mass_kg": p["mass_kg"]}
             for n in [batch, *ancestors.values()] for p in n.get("parents", []) if p["code"] in known]
    edges.sort(key=lambda e: (e["to"], e["from"]))
    failing_upstream = _failing_upstream({n["_id"]: n for n in [batch, *ancestors.values()]}, reasons)
    sources = [{"code": n["code"], "generation": n["generation"], "stage": n["stage"],
                "producer_id": n["producer_id"], "producer_name": n["producer_name"], "province": n["province"],
                "share_pct": n["share_pct"], "reasons": reasons[n["code"]]}
               for n in nodes if n["failing"] and not failing_upstream[n["code"]]]
    return {"code": batch["_id"], "status": "fail" if any(n["failing"] for n in nodes) else "pass",
            "max_depth": MAX_DEPTH, "sources": sources,
            "failing": [n["code"] for n in nodes if n["failing"]],
            "tainted_pct": round(sum(s["share_pct"] for s in sources if s["code"] != batch["_id"]), 4)
            if not reasons[batch["_id"]] else 100.0,
            "graph": {"nodes": nodes, "edges": edges}}


def _failing_upstream(by_code, reasons):
    """{code: True when some ancestor of it (within the fetched lineage) fails on its own facts}."""
    memo = {}

    def up(code, seen=()):
        if code in memo:
            return memo[code]
        result = False
        for p in by_code[code].get("parent_codes", []):
            if p in by_code and p not in seen and (reasons.get(p) or up(p, seen + (code,))):
                result = True
                break
        memo[code] = result
        return result

    return {c: up(c) for c in by_code}


def visible(actor, result):
    """True when the actor may read this trace: unlimited supervisors and administrators always; a province-limited
    supervisor when the traced batch was produced or is held in one of their provinces."""
    provinces = scope.provinces_of(actor)
    if provinces is None:
        return actor.get("role") in ("supervisor", "admin")
    found = result["graph"]["nodes"][0]
    return found["province"] in provinces or found["holder_province"] in provinces


def batch_of_scan(db, scan_id):
    """The batch code a scan read, or None for an unknown scan (or one of no registered batch)."""
    scan = db.scans.find_one({"_id": str(scan_id)}, {"batch_code": 1})
    return (scan or {}).get("batch_code")
