"""The forward trace for a recall: every batch made from a batch, at any depth, with its generation."""
from inspector.clock import china_date
from inspector.verdict.lineage import fetch_descendants


def descendants(db, label):
    """The batch a read label names with every batch made from it, or None when the ledger has no such batch."""
    found = db.batches.find_one(label.lookup(), {"_id": 1})  # by _id, or by the GS1 key's unique index
    if not found:
        return None
    reached = fetch_descendants(db, found["_id"]) or []
    generation = _generations(found["_id"], reached)
    rows = [{"code": d["_id"], "generation": generation.get(d["_id"]), "stage": d["stage"],
             "product_type": d["product_type"], "producer_id": d["producer_id"], "holder_id": d["holder_id"],
             "status": d["status"], "mass_kg": d["mass_kg"], "remaining_kg": d["remaining_kg"],
             "produced_on": china_date(d["produced_on"])} for d in reached]
    rows.sort(key=lambda r: (r["generation"] or 99, r["code"]))
    return {"code": found["_id"], "count": len(rows), "active": sum(r["status"] == "active" for r in rows),
            "descendants": rows}


def _generations(root, descendants):
    children = {}
    for d in descendants:
        for p in d.get("parent_codes", []):
            children.setdefault(p, []).append(d["_id"])
    depth, frontier, level = {}, [root], 1
    while frontier:
        nxt = []
        for code in frontier:
            for child in children.get(code, []):
                if child not in depth:
                    depth[child] = level
                    nxt.append(child)
        frontier, level = nxt, level + 1
    return depth
