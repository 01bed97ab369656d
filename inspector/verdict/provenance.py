"""Provenance for people: the ancestors back to the mine(s) and the chain of holders."""
from inspector.clock import china_date
from inspector.verdict.lineage import mass_shares
from inspector.quota.allocation import within_quota
from inspector.registry.approvals import approval_on


def _day(moment):
    return china_date(moment).isoformat() if moment else None


def describe_ancestors(batch, enterprises):
    """Each ancestor with its producer, stage, approval on its production date and mass share (generation set by judge)."""
    shares = mass_shares(batch)
    out = []
    for a in batch.get("ancestors", []):
        producer = enterprises.get(a["producer_id"])
        out.append({
            "code": a["_id"],
            "generation": a.get("generation"),
            "stage": a["stage"],
            "product_type": a["product_type"],
            "producer_id": a["producer_id"],
            "producer_name": producer["name"] if producer else a["producer_id"],
            "province": producer["province"] if producer else None,
            "produced_on": _day(a["produced_on"]),
            "approved_on_production_date": approval_on(producer, a["stage"], a["produced_on"]),
            "within_quota": within_quota(a, producer),
            "mass_share_pct": round(100 * shares.get(a["_id"], 0.0), 2),
            "parent_codes": a.get("parent_codes", []),
        })
    out.sort(key=lambda x: (x["generation"] or 99, x["code"]))
    return out


def holder_chain(batch, enterprises):
    """The producer, then every recorded movement in date order, with document numbers."""
    def name(eid):
        if eid == "FOREIGN":
            return "Foreign buyer (exported)"
        return enterprises[eid]["name"] if eid in enterprises else eid

    chain = [{"date": _day(batch["produced_on"]), "event": "produced", "to_id": batch["producer_id"],
              "to_name": name(batch["producer_id"]), "mass_kg": batch["mass_kg"], "doc_no": None}]
    for m in sorted(batch.get("movements", []), key=lambda m: (m["date"], m["_id"])):
        chain.append({"date": _day(m["date"]), "event": m.get("kind", "transfer"), "from_id": m["from_id"],
                      "from_name": name(m["from_id"]), "to_id": m["to_id"], "to_name": name(m["to_id"]),
                      "mass_kg": m["mass_kg"], "doc_no": m["doc_no"], "period": m["period"]})
    return chain


def provenance(batch, enterprises):
    """The provenance block of a scan: ancestors, mines reached and holders."""
    ancestors = describe_ancestors(batch, enterprises)
    return {
        "ancestors": ancestors,
        "depth": max((a["generation"] or 0 for a in ancestors), default=0),
        "mines": sorted({a["producer_name"] for a in ancestors if a["stage"] == "ore"}),
        "holders": holder_chain(batch, enterprises),
    }
