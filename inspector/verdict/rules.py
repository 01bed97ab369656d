"""The verdict rules: pure functions from ledger facts to the reasons that apply."""
from datetime import datetime

from inspector.registry import approvals
from inspector.periods import deadline_of, due_periods, period_of, year_of
from inspector.verdict.reasons import QUOTA_CATEGORY_NAMES, REASONS

STAGE_APPROVAL = {"ore": "mining", "compound": "separation"}
RETIRED_STATUSES = ("consumed", "retired", "transformed", "exported", "seized", "recalled")


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def approval_on(enterprise, stage, day):
    """True/False when the stage needs a whitelist approval on that day; None when it needs none.

    Decided from the enterprise's approval history (grants, suspensions, reinstatements, revocations).
    """
    needed = STAGE_APPROVAL.get(stage)
    if needed is None:
        return None
    return approvals.approved_on((enterprise or {}).get("approvals", []), needed, approvals.china_day(day))


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


def producer_not_approved(batch, enterprises):
    producer = enterprises.get(batch["producer_id"])
    if produced_here(batch) and approval_on(producer, batch["stage"], batch["produced_on"]) is False:
        stage = STAGE_APPROVAL[batch["stage"]]
        day = approvals.china_day(batch["produced_on"])
        history = approvals.ordered((producer or {}).get("approvals", []))
        state, deciding = approvals.state_on(history, stage, day)
        return REASONS["producer_not_approved"].found(
            producer_id=batch["producer_id"], producer_name=_name(producer, batch["producer_id"]),
            approval_stage=stage, produced_on=day.isoformat(), approval_state=state,
            approval_state_text=approvals.STATE_TEXT[state],
            deciding_entry=_approval_evidence(deciding) if deciding else None,
            approvals=[_approval_evidence(a) for a in history])
    return None


def _approval_evidence(entry):
    view = approvals.view(entry)
    return {**{k: view[k] for k in ("action", "stage", "reason", "decision_no")},
            "effective_from": view["effective_from"].isoformat(),
            "effective_to": view["effective_to"].isoformat() if view["effective_to"] else None,
            "recorded_at": view["recorded_at"].isoformat() if view["recorded_at"] else None}


def over_quota(batch, enterprises):
    producer = enterprises.get(batch["producer_id"])
    if within_quota(batch, producer) is False:
        year = year_of(batch["produced_on"])
        return REASONS["over_quota"].found(
            producer_id=batch["producer_id"], producer_name=_name(producer, batch["producer_id"]), year=year,
            category=batch["quota_category"], category_name=QUOTA_CATEGORY_NAMES[batch["quota_category"]],
            allocated_t=allocation_t(producer, batch["quota_category"], year),
            used_t=batch["quota_used_t"], produced_on=_day(batch["produced_on"]))
    return None


def tainted_lineage(ancestors, enterprises):
    bad = []
    for a in sorted(ancestors, key=lambda a: (a.get("generation", 0), a["_id"])):
        failed = [r["code"] for r in (producer_not_approved(a, enterprises), over_quota(a, enterprises)) if r]
        if failed:
            bad.append({"code": a["_id"], "producer_id": a["producer_id"],
                        "producer_name": _name(enterprises.get(a["producer_id"]), a["producer_id"]),
                        "stage": a["stage"], "generation": a.get("generation"), "reasons": failed})
    if not bad:
        return None
    reasons_text = ", ".join(sorted({r.replace("_", " ") for b in bad for r in b["reasons"]}))
    batches_text = "1 upstream batch" if len(bad) == 1 else f"{len(bad)} upstream batches"
    return REASONS["tainted_lineage"].found(count=len(bad), batches_text=batches_text, first_code=bad[0]["code"],
                                            first_producer=bad[0]["producer_name"], reasons_text=reasons_text,
                                            ancestors=bad)


def unrecorded_transfer(batch, found_holder_id, enterprises):
    if found_holder_id and found_holder_id != batch["holder_id"]:
        return REASONS["unrecorded_transfer"].found(
            found_holder_id=found_holder_id, found_holder_name=_name(enterprises.get(found_holder_id), found_holder_id),
            recorded_holder_id=batch["holder_id"],
            recorded_holder_name=_name(enterprises.get(batch["holder_id"]), batch["holder_id"]))
    return None


def quantity_mismatch(batch, observed_kg, tolerance_pct):
    if observed_kg is not None and observed_kg > batch["remaining_kg"] * (1 + tolerance_pct / 100):
        return REASONS["quantity_mismatch"].found(observed_kg=observed_kg, remaining_kg=batch["remaining_kg"],
                                                  tolerance_pct=tolerance_pct)
    return None


def retired_code(batch, site_type):
    status = batch["status"]
    # An exported lot seen at the port on its way out is where it should be.
    if status in RETIRED_STATUSES and not (status == "exported" and site_type == "port"):
        return REASONS["retired_code"].found(status=status, since=_day(batch["status_since"]))
    return None


def late_reporting(enterprise_ids, enterprises, now, day=10, inclusive=True):
    periods = due_periods(now, 12, day, inclusive)
    late = []
    for eid in enterprise_ids:
        e = enterprises.get(eid)
        if not e:
            continue
        filed = {r["period"]: r["submitted_at"] for r in e.get("monthly_reports", [])}
        missed = [{"period": p, "submitted_at": filed.get(p)} for p in sorted(periods)
                  if p not in filed or filed[p] > deadline_of(p, day, inclusive)]
        if missed:
            late.append({"enterprise_id": eid, "enterprise_name": e["name"], "periods": missed})
    if not late:
        return None
    periods_text = "; ".join(
        f"{x['enterprise_name']}: " + ", ".join(
            f"{m['period']} ({'never entered' if m['submitted_at'] is None else 'entered late'})" for m in x["periods"])
        for x in late)
    names = " and ".join(x["enterprise_name"] for x in late)
    return REASONS["late_reporting"].found(enterprise_name=names, periods_text=periods_text, enterprises=late)


def mass_balance(batch, enterprises, settings):
    if batch["stage"] == "ore":
        return None
    ceiling = settings.recovery_ceiling_for(batch["stage"])
    producer = enterprises.get(batch["producer_id"])
    period = period_of(batch["produced_on"])
    pp = next((p for p in (producer or {}).get("production_periods", []) if p["period"] == period), None)
    if pp and pp["output_reo_kg"] > pp["input_reo_kg"] * ceiling:
        return REASONS["mass_balance"].found(
            producer_id=batch["producer_id"], producer_name=_name(producer, batch["producer_id"]), period=period,
            output_reo_t=pp["output_reo_kg"] / 1000, input_reo_t=pp["input_reo_kg"] / 1000,
            ceiling_pct=round(ceiling * 100, 1))
    return None


def no_export_record(batch, site, movements):
    if site and site.get("type") == "port" and not any(m.get("kind") == "export" for m in movements):
        return REASONS["no_export_record"].found(site_name=site.get("name") or "port", holder_id=batch["holder_id"])
    return None


def _name(enterprise, fallback):
    return enterprise["name"] if enterprise else fallback
