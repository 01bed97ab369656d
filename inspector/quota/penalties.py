"""Penalties against an enterprise, and the cut they make in a later year's quota.

The only rule text we have is "an enterprise that is penalised has its next year's quota cut". This is our reading
of it, and RULES in allocation.py is the one place it lives:

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

from inspector.errors import DomainError
from inspector.registry.approvals import stored_day
from inspector.quota.allocation import CATEGORIES, RULES, cuts

KINDS = ("over_quota", "other")


class PenaltyError(DomainError):
    """A penalty that cannot be recorded as given."""

    def __init__(self, message, code, field=None):
        super().__init__(message, code=code, **({"field": field} if field else {}))


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
