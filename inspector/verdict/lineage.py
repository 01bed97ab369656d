"""Reading a batch with its ancestors and ledger entries, and the enterprises around it, in few round trips."""
MAX_DEPTH = 12  # deeper than any real chain (mine -> oxide -> metal -> magnet, recycled twice is 9)

_SCAN_SNAPSHOT_FIELDS = ("provenance", "batch", "quota", "verdict", "codes", "intake", "fingerprint")


def fetch_batch_pipeline(lookup):
    """The stages of fetch_batch, for aggregations that read more along with it."""
    return [
        {"$match": lookup},
        {"$limit": 1},
        {"$graphLookup": {"from": "batches", "startWith": "$parent_codes", "connectFromField": "parent_codes",
                          "connectToField": "_id", "as": "ancestors", "maxDepth": MAX_DEPTH, "depthField": "depth"}},
        {"$lookup": {"from": "movements", "localField": "_id", "foreignField": "batch_code", "as": "movements"}},
        # Earlier scans of this batch, for the cloned-code check, without their stored verdict snapshots.
        {"$lookup": {"from": "scans", "localField": "_id", "foreignField": "batch_code", "as": "sightings"}},
        {"$project": {f"sightings.{heavy}": 0 for heavy in _SCAN_SNAPSHOT_FIELDS}},
    ]


def fetch_batch(db, lookup):
    """One aggregation: the batch, every ancestor (bounded $graphLookup) and its movements; None if unknown."""
    found = list(db.batches.aggregate(fetch_batch_pipeline(lookup)))
    return found[0] if found else None


def fetch_descendants(db, code):
    """One aggregation: every batch made, directly or not, from this one; None if the code is unknown."""
    pipeline = [
        {"$match": {"_id": code}},
        {"$project": {"_id": 1}},
        {"$graphLookup": {"from": "batches", "startWith": "$_id", "connectFromField": "_id",
                          "connectToField": "parent_codes", "as": "descendants", "maxDepth": MAX_DEPTH,
                          "depthField": "depth"}},
    ]
    found = list(db.batches.aggregate(pipeline))
    return found[0]["descendants"] if found else None


# Every enterprise's records, each in its own collection keyed by enterprise_id. The whitelist history (approvals)
# lives in its own append-only collection; like every one of these it replaces any embedded array.
ENTERPRISE_RECORDS = ("quotas", "monthly_reports", "production_periods", "quota_usage", "approvals", "penalties")


def fetch_enterprises(db, ids):
    """One aggregation: the enterprises with approvals, quotas, quota usage, penalties, reports, production periods."""
    pipeline = [
        {"$match": {"_id": {"$in": sorted(i for i in ids if i)}}},
        *({"$lookup": {"from": c, "localField": "_id", "foreignField": "enterprise_id", "as": c}}
          for c in ENTERPRISE_RECORDS),
    ]
    return {e["_id"]: e for e in db.enterprises.aggregate(pipeline)}


def fetch_for_scan(db, lookup, holder_id=None, tasks=False):
    """One aggregation for a scan: fetch_batch's reads, the batch's open transfer claims (`claims`), every enterprise
    they name with its records (`enterprises`, as fetch_enterprises returns them) and, with tasks, the open tasks
    naming the batch (`tasks`); None if the code is unknown."""
    # Every enterprise a rule looks at: producer, holder, the holder the inspector saw (a $literal, so text from the
    # phone is never read as a field path), the ancestors' producers, both sides of each movement, each open claimant.
    # The $map makes [producer_id, holder_id]: an array literal of field paths, which mongomock leaves unevaluated.
    own = {"$map": {"input": [0, 1], "in": {"$cond": [{"$eq": ["$$this", 0]}, "$producer_id", "$holder_id"]}}}
    ids = {"$setUnion": [own, "$ancestors.producer_id", "$movements.from_id", "$movements.to_id",
                         "$claims.claimant_id", {"$literal": [holder_id] if holder_id else []}]}
    pipeline = fetch_batch_pipeline(lookup) + [
        {"$lookup": {"from": "transfer_claims", "localField": "_id", "foreignField": "batch_code", "as": "claims"}},
        {"$addFields": {"claims": {"$filter": {"input": "$claims", "cond": {"$eq": ["$$this.state", "open"]}}}}},
        {"$addFields": {"_enterprise_ids": {"$filter": {"input": ids, "cond": {"$ne": ["$$this", None]}}}}},
        {"$lookup": {"from": "enterprises", "localField": "_enterprise_ids", "foreignField": "_id",
                     "as": "enterprises"}},
        *({"$lookup": {"from": c, "localField": "_enterprise_ids", "foreignField": "enterprise_id", "as": f"_{c}"}}
          for c in ENTERPRISE_RECORDS),
    ]
    if tasks:
        pipeline += [
            {"$lookup": {"from": "tasks", "localField": "_id", "foreignField": "items.batch_code", "as": "tasks"}},
            {"$addFields": {"tasks": {"$filter": {"input": "$tasks", "cond": {"$eq": ["$$this.status", "open"]}}}}},
        ]
    found = list(db.batches.aggregate(pipeline))
    if not found:
        return None
    batch = found[0]
    enterprises = {e["_id"]: e for e in batch.pop("enterprises")}
    for e in enterprises.values():
        for c in ENTERPRISE_RECORDS:
            e[c] = []
    for c in ENTERPRISE_RECORDS:
        for record in batch.pop(f"_{c}"):
            if record["enterprise_id"] in enterprises:
                enterprises[record["enterprise_id"]][c].append(record)
    batch.pop("_enterprise_ids", None)
    batch["enterprises"] = enterprises
    return batch


def ancestor_depths(batch):
    """Map each ancestor code to its generation (1 = parent), derived from parent links.

    The depthField of $graphLookup is not relied on: the embedded store does not fill it.
    """
    by_code = {a["_id"]: a for a in batch.get("ancestors", [])}
    depths, frontier, level = {}, list(batch.get("parent_codes", [])), 1
    while frontier:
        nxt = []
        for code in frontier:
            if code in by_code and code not in depths:
                depths[code] = level
                nxt.extend(by_code[code].get("parent_codes", []))
        frontier, level = nxt, level + 1
    return depths


def mass_shares(batch):
    """Share of this batch's input mass that traces back to each ancestor (roots sum to 1)."""
    by_code = {a["_id"]: a for a in batch.get("ancestors", [])}
    shares = {}

    def spread(node, weight):
        parents = node.get("parents", [])
        total = sum(p["mass_kg"] for p in parents) or 1.0
        for p in parents:
            part = weight * p["mass_kg"] / total
            shares[p["code"]] = shares.get(p["code"], 0.0) + part
            if p["code"] in by_code:
                spread(by_code[p["code"]], part)

    spread(batch, 1.0)
    return shares
