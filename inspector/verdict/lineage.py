"""Reading a batch with its ancestors and ledger entries, and the enterprises around it, in few round trips."""
MAX_DEPTH = 12  # deeper than any real chain (mine -> oxide -> metal -> magnet, recycled twice is 9)

_SCAN_SNAPSHOT_FIELDS = ("provenance", "batch", "quota", "verdict", "codes", "intake", "fingerprint")


def fetch_batch(db, lookup):
    """One aggregation: the batch, every ancestor (bounded $graphLookup) and its movements; None if unknown."""
    pipeline = [
        {"$match": lookup},
        {"$limit": 1},
        {"$graphLookup": {"from": "batches", "startWith": "$parent_codes", "connectFromField": "parent_codes",
                          "connectToField": "_id", "as": "ancestors", "maxDepth": MAX_DEPTH, "depthField": "depth"}},
        {"$lookup": {"from": "movements", "localField": "_id", "foreignField": "batch_code", "as": "movements"}},
        # Earlier scans of this batch, for the cloned-code check, without their stored verdict snapshots.
        {"$lookup": {"from": "scans", "localField": "_id", "foreignField": "batch_code", "as": "sightings"}},
        {"$project": {f"sightings.{heavy}": 0 for heavy in _SCAN_SNAPSHOT_FIELDS}},
    ]
    found = list(db.batches.aggregate(pipeline))
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


def fetch_enterprises(db, ids):
    """One aggregation: the enterprises with approvals, quotas, quota usage, penalties, reports, production periods."""
    pipeline = [
        {"$match": {"_id": {"$in": sorted(i for i in ids if i)}}},
        {"$lookup": {"from": "quotas", "localField": "_id", "foreignField": "enterprise_id", "as": "quotas"}},
        {"$lookup": {"from": "monthly_reports", "localField": "_id", "foreignField": "enterprise_id",
                     "as": "monthly_reports"}},
        {"$lookup": {"from": "production_periods", "localField": "_id", "foreignField": "enterprise_id",
                     "as": "production_periods"}},
        {"$lookup": {"from": "quota_usage", "localField": "_id", "foreignField": "enterprise_id",
                     "as": "quota_usage"}},
        # The whitelist history lives in its own append-only collection; it replaces any embedded array.
        {"$lookup": {"from": "approvals", "localField": "_id", "foreignField": "enterprise_id", "as": "approvals"}},
        {"$lookup": {"from": "penalties", "localField": "_id", "foreignField": "enterprise_id", "as": "penalties"}},
    ]
    return {e["_id"]: e for e in db.enterprises.aggregate(pipeline)}


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
