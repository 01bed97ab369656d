"""Quota arithmetic: what a year's allocation is once penalties cut it, what productions used, and what is over."""
from dataclasses import dataclass

from inspector.periods import year_of
from inspector.registry.approvals import approval_on, as_day

CATEGORIES = ("mining_light", "mining_medium_heavy", "separation")


@dataclass(frozen=True)
class CutRule:
    """How a kind of penalty cuts a later year's allocation."""

    kind: str
    years_later: int
    basis: str


RULES = {
    "over_quota": CutRule("over_quota", 1, "the tonnes produced over the offence year's allocation, same category"),
    "other": CutRule("other", 1, "cut_pct % of each category's issued allocation"),
}


def used_t(enterprise, category, year):
    """Tonnes REO used of a year's quota in a category, from the quota_usage records."""
    return next((u["used_t"] for u in enterprise.get("quota_usage", [])
                 if u["year"] == year and u["category"] == category), 0.0)


def imported_t(enterprise, category, year):
    """Of used_t, the tonnes REO of imported feed counted on the quota when it came in (Order No. 71)."""
    return next((u.get("imported_t", 0.0) for u in enterprise.get("quota_usage", [])
                 if u["year"] == year and u["category"] == category), 0.0)


def _applies(penalty, category, year):
    rule = RULES[penalty["kind"]]
    return penalty["year"] + rule.years_later == year and penalty.get("category") in (None, category)


def cuts(enterprise, category, year):
    """Each penalty that cuts this year's allocation in a category, with the tonnes it requires."""
    out = []
    for p in sorted(enterprise.get("penalties", []), key=lambda p: (p["decided_on"], p["_id"])):
        if not _applies(p, category, year):
            continue
        if p["kind"] == "over_quota":
            over = over_t(enterprise, category, p["year"])
            cut = over
        else:
            over = None
            cut = allocation_t(enterprise, category, year) * p["cut_pct"] / 100
        out.append({"penalty_id": p["_id"], "kind": p["kind"], "year": p["year"], "decided_on": as_day(p["decided_on"]),
                    "decision_no": p.get("decision_no"), "reason": p.get("reason"), "cut_pct": p.get("cut_pct"),
                    "over_t": None if over is None else round(over, 1), "cut_t": round(cut, 1)})
    return out


def effective_t(enterprise, category, year):
    """(issued, cut required, cut applied, effective) tonnes REO for a year and category."""
    issued = allocation_t(enterprise, category, year)
    required = sum(c["cut_t"] for c in cuts(enterprise, category, year))
    applied = min(required, issued)
    return issued, required, applied, issued - applied


def over_t(enterprise, category, year):
    """Tonnes REO used beyond the year's effective allocation in a category (0 when within it)."""
    return max(0.0, used_t(enterprise, category, year) - effective_t(enterprise, category, year)[3])


def allocation_t(enterprise, category, year):
    """The enterprise's allocated tonnes REO for a year and category, over all issue batches."""
    return sum(q["tonnes_reo"] for q in (enterprise or {}).get("quotas", [])
               if q["year"] == year and q["category"] == category)


def within_quota(batch, producer):
    """True/False for a quota-bound batch that was produced within/over its producer's quota; None if not bound."""
    category = batch.get("quota_category")
    if "within_quota" in batch:  # decided atomically when the ledger recorded the production
        return batch["within_quota"]
    if not category or not produced_here(batch) \
            or approval_on(producer, batch["stage"], batch["produced_on"]) is False:
        return None
    allocated = allocation_t(producer, category, year_of(batch["produced_on"]))
    return allocated > 0 and batch["quota_used_t"] <= allocated


def produced_here(batch):
    """False for imported batches and merged lots: no Chinese producer's whitelist or quota speaks for them."""
    return not (batch.get("imported") or batch.get("repackaged"))
