"""Quota status: allocated, used and remaining tonnes REO for a producer's categories and year."""
from inspector.clock import china_date
from inspector.quota import allocation
from inspector.quota.allocation import used_t, within_quota
from inspector.periods import year_of
from inspector.verdict.reasons import QUOTA_CATEGORY_NAMES


def quota_status(enterprise, year):
    """Per category for a year: issued, penalty cut, effective, used, remaining and over (t REO), per issue batch too.

    allocated_t stays the issued total; remaining_t and used_pct are measured against the effective allocation.
    """
    categories = []
    for category in _categories(enterprise, year):
        issued, required, applied, effective = allocation.effective_t(enterprise, category, year)
        used = used_t(enterprise, category, year)
        issues = sorted((q for q in enterprise.get("quotas", []) if q["year"] == year and q["category"] == category),
                        key=lambda q: (q["issued_on"], q["issue_batch"]))
        categories.append({
            "category": category, "category_name": QUOTA_CATEGORY_NAMES.get(category, category),
            "allocated_t": issued, "penalty_cut_t": round(applied, 1), "cut_pending_t": round(required - applied, 1),
            "penalties": allocation.cuts(enterprise, category, year),
            "effective_t": round(effective, 1), "used_t": round(used, 1),
            "imported_t": round(allocation.imported_t(enterprise, category, year), 1),
            "remaining_t": round(max(0.0, effective - used), 1), "over_t": round(max(0.0, used - effective), 1),
            "used_pct": round(100 * used / effective, 1) if effective else None,
            "issue_batches": _fill(issues, applied, used),
        })
    return {"enterprise_id": enterprise["_id"], "enterprise_name": enterprise["name"], "year": year,
            "categories": categories}


def _categories(enterprise, year):
    """The categories the enterprise holds, and any it was issued, used or penalised in that year."""
    seen = set(enterprise.get("quota_categories", []))
    seen |= {q["category"] for q in enterprise.get("quotas", []) if q["year"] == year}
    seen |= {u["category"] for u in enterprise.get("quota_usage", []) if u["year"] == year and u.get("used_t")}
    seen |= {p["category"] for p in enterprise.get("penalties", [])
             if p.get("category") and p["year"] + allocation.RULES[p["kind"]].years_later == year}
    return [c for c in allocation.CATEGORIES if c in seen]


def _fill(issues, cut, used):
    """Each issue batch with the cut taken from it and the use it carries, filled in issue order."""
    rows = []
    for q in issues:
        taken = min(cut, q["tonnes_reo"])
        cut -= taken
        capacity = q["tonnes_reo"] - taken
        carried = min(used, capacity)
        used -= carried
        rows.append({"issue_batch": q["issue_batch"], "tonnes_reo": q["tonnes_reo"],
                     "issued_on": china_date(q["issued_on"]).isoformat(), "cut_t": round(taken, 1),
                     "effective_t": round(capacity, 1), "used_t": round(carried, 1),
                     "remaining_t": round(capacity - carried, 1)})
    return rows


def batch_quota(batch, producer):
    """The producer's quota for the batch's production year, and whether the batch was within it."""
    year = year_of(batch["produced_on"])
    if not producer:
        return {"applies": False, "year": year, "categories": []}
    status = quota_status(producer, year)
    return {**status, "applies": bool(batch.get("quota_category")), "batch_category": batch.get("quota_category"),
            "used_at_production_t": batch.get("quota_used_t"), "batch_within_quota": within_quota(batch, producer)}
