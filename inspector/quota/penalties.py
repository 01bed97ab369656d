"""Penalties against an enterprise, and the cut they make in a later year's quota.

The only rule text we have is "an enterprise that is penalised has its next year's quota cut". This is our reading
of it, and RULES below is the one place it lives:

- a penalty counts against the year after the year of the offence (``year``), whenever it was decided;
- ``over_quota``: the cut, per category, is the tonnes REO the enterprise produced beyond its effective allocation
  in the offence year (used from quota_usage, less the allocation after any cut that year itself carried), in the
  same category; with a ``category`` only that one, otherwise every category that was over;
- ``other``: the cut is ``cut_pct`` % of each category's issued allocation (or of one ``category``'s);
- cuts add up and never take an allocation below zero; a cut larger than what has been issued so far comes off
  the issue batches still to come (``cut_pending_t``);
- within a year, a cut comes off the issue batches in issue order, the first batch first.
"""
import uuid
from dataclasses import dataclass

from inspector.errors import DomainError
from inspector.registry.approvals import as_day, stored_day
from inspector.verdict.rules import allocation_t

KINDS = ("over_quota", "other")
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


class PenaltyError(DomainError):
    """A penalty that cannot be recorded as given."""

    def __init__(self, message, code, field=None):
        super().__init__(message, code=code, **({"field": field} if field else {}))


def used_t(enterprise, category, year):
    """Tonnes REO used of a year's quota in a category, from the quota_usage records."""
    return next((u["used_t"] for u in enterprise.get("quota_usage", [])
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


def new_penalty(enterprise, body, actor, now):
    """A penalty document from a validated request body, or PenaltyError."""
    kind = body["kind"]
    if kind not in KINDS:
        raise PenaltyError(f"kind must be one of {', '.join(KINDS)}.", "bad_kind", "kind")
    if kind == "other" and body.get("cut_pct") is None:
        raise PenaltyError("A penalty of kind 'other' needs cut_pct: the percentage cut from next year's quota.",
                           "cut_pct_required", "cut_pct")
    if kind == "over_quota" and body.get("cut_pct") is not None:
        raise PenaltyError("An over_quota penalty cuts the tonnes produced over quota; it takes no cut_pct.",
                           "bad_field", "cut_pct")
    if body["decided_on"].year < body["year"]:
        raise PenaltyError(f"decided_on ({body['decided_on']}) is before the offence year {body['year']}.",
                           "bad_dates", "decided_on")
    return {
        "_id": f"PEN-{uuid.uuid4().hex[:12]}", "enterprise_id": enterprise["_id"], "kind": kind, "year": body["year"],
        "category": body.get("category"), "cut_pct": body.get("cut_pct"), "decided_on": stored_day(body["decided_on"]),
        "decision_no": body["decision_no"].strip(), "reason": body["reason"].strip(), "recorded_at": now,
        "recorded_by": (actor or {}).get("username", "system"),
    }


def effect(enterprise, penalty):
    """What a penalty cuts, per category, from the year it counts against (as the ledger stands now)."""
    year = penalty["year"] + RULES[penalty["kind"]].years_later
    others = [p for p in enterprise.get("penalties", []) if p["_id"] != penalty["_id"]]
    found = {**enterprise, "penalties": others + [penalty]}
    categories = [penalty["category"]] if penalty.get("category") else _categories(enterprise)
    rows = []
    for category in categories:
        cut = next((c for c in cuts(found, category, year) if c["penalty_id"] == penalty["_id"]), None)
        if cut:
            rows.append({"category": category, "over_t": cut["over_t"], "cut_t": cut["cut_t"]})
    return {"year": year, "categories": rows}


def _categories(enterprise):
    seen = set(enterprise.get("quota_categories", []))
    seen |= {q["category"] for q in enterprise.get("quotas", [])}
    seen |= {u["category"] for u in enterprise.get("quota_usage", [])}
    return [c for c in CATEGORIES if c in seen]
