"""The forward trace for a recall: every batch made from a batch, at any depth, with the source's share in it.

Separators blend feed, so taint is proportional: a batch made 10% from the source is 10% tainted, and the share
multiplies along mass-weighted edges (each child's `parents: [{code, mass_kg}]` is the mass it drew from each parent)
through splits and merges. A recall costs four reads whatever the depth and breadth: the source, one bounded
$graphLookup over the `parent_codes` index, the holders (`$in`), and the last scan of each reached batch.
"""
from inspector.accounts import scope
from inspector.clock import aware, china_date
from inspector.verdict.lineage import MAX_DEPTH, fetch_descendants

SORTS = {"share": lambda r: (-r["taint_pct"], r["code"]), "source_share": lambda r: (-r["source_share_pct"], r["code"]),
         "generation": lambda r: (r["generation"] or 99, r["code"]), "code": lambda r: r["code"],
         "status": lambda r: (r["status"], r["code"]), "province": lambda r: (r["province"] or "~", r["code"]),
         "holder": lambda r: (r["holder_id"], r["code"]),
         "last_scanned": lambda r: (-(r["last_scan"]["received_at"].timestamp() if r["last_scan"] else 0), r["code"])}
ENTERPRISE_FIELDS = {"name": 1, "province": 1, "city": 1, "location": 1}


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


def shares(source, reached):
    """{code: (taint, drawn_kg)} for every reached batch.

    taint: the fraction of the batch's input mass that traces back to the source (as lineage.mass_shares reads it
    backwards); drawn_kg: how many kg of the source's own mass went into it. A child's taint is the mass-weighted
    mean of its parents' taints (parents outside the source's reach count as clean); a parent passes on the part of
    its drawn kg that the child took of its mass. Batches are visited parents first (Kahn's order), so a merge of two
    branches of the same source adds both.
    """
    by_code = {d["_id"]: d for d in reached}
    by_code[source["_id"]] = source
    pending = {c: sum(1 for p in d.get("parents", []) if p["code"] in by_code) for c, d in by_code.items()
               if c != source["_id"]}
    children = {}
    for d in reached:
        for p in d.get("parents", []):
            if p["code"] in by_code:
                children.setdefault(p["code"], []).append(d["_id"])
    taint, drawn = {source["_id"]: 1.0}, {source["_id"]: float(source["mass_kg"])}
    frontier = [source["_id"]]
    while frontier:
        nxt = []
        for code in frontier:
            for child in dict.fromkeys(children.get(code, [])):
                pending[child] -= sum(1 for p in by_code[child]["parents"] if p["code"] == code)
                if pending[child] == 0:
                    taint[child], drawn[child] = _mix(by_code[child], by_code, taint, drawn)
                    nxt.append(child)
        frontier = nxt
    return {c: (taint[c], drawn[c]) for c in taint if c != source["_id"]}


def _mix(child, by_code, taint, drawn):
    parents = child.get("parents", [])
    fed = sum(p["mass_kg"] for p in parents)
    if not fed:
        return 0.0, 0.0
    t = sum(p["mass_kg"] * taint.get(p["code"], 0.0) for p in parents) / fed
    kg = sum(drawn.get(p["code"], 0.0) * p["mass_kg"] / by_code[p["code"]]["mass_kg"]
             for p in parents if p["code"] in drawn and by_code[p["code"]]["mass_kg"])
    return min(t, 1.0), kg


def reach(db, code):
    """The recall of a source batch: the source and every reached batch with its share, holder and last scan.

    None when no batch has the code. Four reads, whatever the lineage's shape.
    """
    source = db.batches.find_one({"_id": code}, {"parents": 1, "parent_codes": 1, "mass_kg": 1, "remaining_kg": 1,
                                                 "stage": 1, "producer_id": 1, "holder_id": 1, "status": 1,
                                                 "produced_on": 1, "product_type": 1})
    if source is None:
        return None
    reached = fetch_descendants(db, code) or []
    generation = _generations(code, reached)
    share = shares(source, reached)
    ids = {d["holder_id"] for d in reached} | {d["producer_id"] for d in reached} | {source["producer_id"],
                                                                                      source["holder_id"]}
    enterprises = {e["_id"]: e for e in db.enterprises.find({"_id": {"$in": sorted(ids)}}, ENTERPRISE_FIELDS)}
    scans = last_scans(db, [d["_id"] for d in reached])
    rows = []
    for d in reached:
        taint, kg = share.get(d["_id"], (0.0, 0.0))
        holder = enterprises.get(d["holder_id"]) or {}
        rows.append({
            "code": d["_id"], "generation": generation.get(d["_id"]), "stage": d["stage"],
            "product_type": d["product_type"], "producer_id": d["producer_id"],
            "producer_name": (enterprises.get(d["producer_id"]) or {}).get("name"), "status": d["status"],
            "mass_kg": d["mass_kg"], "remaining_kg": d["remaining_kg"], "produced_on": aware(d["produced_on"]),
            "taint_pct": round(100 * taint, 4), "source_kg": round(kg, 3),
            "source_share_pct": round(100 * kg / source["mass_kg"], 4) if source["mass_kg"] else 0.0,
            "tainted_remaining_kg": round(taint * d["remaining_kg"], 3),
            "holder_id": d["holder_id"], "holder_name": holder.get("name"), "province": holder.get("province"),
            "city": holder.get("city"), "location": holder.get("location"), "in_transit": bool(d.get("in_transit")),
            "parent_codes": d.get("parent_codes", []), "last_scan": scans.get(d["_id"]),
        })
    producer = enterprises.get(source["producer_id"]) or {}
    return {"source": {"code": source["_id"], "stage": source["stage"], "product_type": source["product_type"],
                       "producer_id": source["producer_id"], "producer_name": producer.get("name"),
                       "province": producer.get("province"), "holder_id": source["holder_id"],
                       "status": source["status"], "mass_kg": source["mass_kg"],
                       "remaining_kg": source["remaining_kg"], "produced_on": aware(source["produced_on"])},
            "max_depth": MAX_DEPTH, "rows": rows}


def last_scans(db, codes):
    """{batch code: its newest scan's where and when}, in one aggregation over the (batch_code, received_at) index."""
    if not codes:
        return {}
    out = {}
    for row in db.scans.aggregate([
        {"$match": {"batch_code": {"$in": sorted(codes)}}},
        {"$sort": {"batch_code": 1, "received_at": -1}},
        {"$group": {"_id": "$batch_code", "scan_id": {"$first": "$_id"}, "received_at": {"$first": "$received_at"},
                    "scanned_at": {"$first": "$scanned_at"}, "site": {"$first": "$site"},
                    "location": {"$first": "$location"}, "province": {"$first": "$province"},
                    "status": {"$first": "$verdict.status"}}},
    ]):
        out[row["_id"]] = {"scan_id": row["scan_id"], "received_at": aware(row["received_at"]),
                           "scanned_at": aware(row["scanned_at"]), "site": row.get("site"),
                           "location": row.get("location"), "province": row.get("province"),
                           "verdict": row.get("status")}
    return out


def select(rows, status=None, province=None, holder_id=None, min_taint_pct=None, sort="share"):
    """The rows a reader asked for, filtered and sorted (in memory: a recall's reach is bounded by its lineage)."""
    out = [r for r in rows
           if (not status or r["status"] in status) and (not province or r["province"] in province)
           and (not holder_id or r["holder_id"] == holder_id)
           and (min_taint_pct is None or r["taint_pct"] >= min_taint_pct)]
    out.sort(key=SORTS[sort])
    return out


def summary(rows):
    """Counts a reader sees above the list: batches, active ones, holders, provinces, tainted kg still out there."""
    active = [r for r in rows if r["status"] == "active"]
    return {"batches": len(rows), "active": len(active), "holders": len({r["holder_id"] for r in rows}),
            "provinces": sorted({r["province"] for r in rows if r["province"]}),
            "tainted_remaining_kg": round(sum(r["tainted_remaining_kg"] for r in active), 3)}


def scoped(db, actor, result):
    """The recall as this actor may read it, or None when the source is outside their scope (answered as unknown).

    Unlimited supervisors and administrators read it all. A province-limited supervisor reads the recall of a source
    produced or held in their provinces, and the reached batches held there (`hidden` counts the others). An
    enterprise reads the recall of a source it produced or holds, and only the reached batches it holds.
    """
    source = result["source"]
    parties = {source["producer_id"], source["holder_id"]}
    if actor.get("role") == "enterprise":
        mine = actor.get("enterprise_id")
        if mine not in parties:
            return None
        keep = [r for r in result["rows"] if r["holder_id"] == mine]
    else:
        provinces = scope.provinces_of(actor)
        if provinces is None:
            return {**result, "hidden": 0}
        seen = {e["_id"] for e in db.enterprises.find({"_id": {"$in": sorted(parties)}, "province": {"$in": provinces}},
                                                     {"_id": 1})}
        if not seen:
            return None
        keep = [r for r in result["rows"] if r["province"] in provinces]
    return {**result, "rows": keep, "hidden": len(result["rows"]) - len(keep)}
