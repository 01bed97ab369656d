"""Quota status: allocated, used and remaining tonnes REO for a producer's categories and year."""
from .rules import allocation_t, within_quota


def used_t(enterprise, category, year):
    """The tonnes REO the producer's recorded production has used of the year's quota in a category."""
    return next((u["used_t"] for u in enterprise.get("quota_usage", [])
                 if u["year"] == year and u["category"] == category), 0.0)


def quota_status(enterprise, year):
    """Allocated, used and remaining (t REO) for each of the enterprise's quota categories in a year."""
    categories = []
    for category in enterprise.get("quota_categories", []):
        allocated = allocation_t(enterprise, category, year)
        used = used_t(enterprise, category, year)
        issues = sorted((q for q in enterprise.get("quotas", []) if q["year"] == year and q["category"] == category),
                        key=lambda q: q["issue_batch"])
        categories.append({
            "category": category, "allocated_t": allocated, "used_t": round(used, 1),
            "remaining_t": round(allocated - used, 1),
            "used_pct": round(100 * used / allocated, 1) if allocated else None,
            "issue_batches": [{"issue_batch": q["issue_batch"], "tonnes_reo": q["tonnes_reo"],
                               "issued_on": q["issued_on"].date().isoformat()} for q in issues],
        })
    return {"enterprise_id": enterprise["_id"], "enterprise_name": enterprise["name"], "year": year,
            "categories": categories}


def batch_quota(batch, producer):
    """The producer's quota for the batch's production year, and whether the batch was within it."""
    year = batch["produced_on"].year
    if not producer:
        return {"applies": False, "year": year, "categories": []}
    status = quota_status(producer, year)
    return {**status, "applies": bool(batch.get("quota_category")), "batch_category": batch.get("quota_category"),
            "used_at_production_t": batch.get("quota_used_t"), "batch_within_quota": within_quota(batch, producer)}
