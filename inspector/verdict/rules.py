"""Every verdict reason's detection, one pure function per reason named after it, from ledger facts to the reason.

The reasons themselves (severity, title, message) are data in reasons.py; judge.py calls these in order. Ledger
flags raised at submission are not reasons: they live in inspector/ledger/flags.py.
"""
from datetime import datetime, timedelta

from inspector.clock import china_date
from inspector.geo import distance_km
from inspector.quota.allocation import allocation_t, produced_here, within_quota
from inspector.registry import approvals, customs
from inspector.registry.approvals import STAGE_APPROVAL, approval_on
from inspector.periods import deadline_of, due_periods, period_of, year_of
from inspector.verdict.reasons import QUOTA_CATEGORY_NAMES, REASONS

RETIRED_STATUSES = ("consumed", "retired", "transformed", "exported", "seized", "recalled")
CLONE_WINDOW = timedelta(hours=48)  # no two places in the field are more than ~7,000 km apart at 150 km/h
CLONE_MIN_KM = 1.0


def _day(moment: datetime) -> str:
    return china_date(moment).isoformat()


def producer_not_approved(batch, enterprises):
    """producer_not_approved: the producer had no whitelist approval for the batch's stage on the day it was made."""
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
    """over_quota: the production that made the batch took its producer past the year's quota."""
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
    """tainted_lineage: an ancestor was made by an unapproved producer or over quota, or is an unverified import."""
    bad = []
    for a in sorted(ancestors, key=lambda a: (a.get("generation", 0), a["_id"])):
        failed = [r["code"] for r in (producer_not_approved(a, enterprises), over_quota(a, enterprises),
                                      unverified_import(a, enterprises)) if r]
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


def unverified_import(batch, enterprises):
    """unverified_import: the batch came in under a declaration the customs register does not confirm."""
    check = batch.get("import_check")
    if not check or check.get("verified") is not False:
        return None
    return REASONS["unverified_import"].found(importer_id=batch["producer_id"],
                                              importer_name=_name(enterprises.get(batch["producer_id"]),
                                                                  batch["producer_id"]),
                                              **customs.verdict_facts(check))


def unrecorded_transfer(batch, found_holder_id, enterprises):
    """unrecorded_transfer: the batch is found with someone other than its recorded holder."""
    transit = batch.get("in_transit") or {}
    if found_holder_id and found_holder_id not in (batch["holder_id"], transit.get("to_id")):
        return REASONS["unrecorded_transfer"].found(
            found_holder_id=found_holder_id, found_holder_name=_name(enterprises.get(found_holder_id), found_holder_id),
            recorded_holder_id=batch["holder_id"],
            recorded_holder_name=_name(enterprises.get(batch["holder_id"]), batch["holder_id"]))
    return None


def quantity_mismatch(batch, observed_kg, tolerance_pct):
    """quantity_mismatch: more mass is found than the ledger says remains, beyond the tolerance."""
    if observed_kg is not None and observed_kg > batch["remaining_kg"] * (1 + tolerance_pct / 100):
        return REASONS["quantity_mismatch"].found(observed_kg=observed_kg, remaining_kg=batch["remaining_kg"],
                                                  tolerance_pct=tolerance_pct)
    return None


def retired_code(batch, site_type):
    """retired_code: the batch was consumed, transformed, exported, seized or recalled, yet its code is in use."""
    status = batch["status"]
    # An exported lot seen at the port on its way out is where it should be.
    if status in RETIRED_STATUSES and not (status == "exported" and site_type == "port"):
        return REASONS["retired_code"].found(status=status, since=_day(batch["status_since"]))
    return None


def late_reporting(enterprise_ids, enterprises, now, day=10, inclusive=True):
    """late_reporting: a party to the batch filed a monthly ledger after its deadline, or not at all."""
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
    """mass_balance: the batch holds more REO than its inputs could have yielded."""
    if batch["stage"] == "ore" or not produced_here(batch):
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
    """no_export_record: the batch is at a port with no export recorded."""
    if site and site.get("type") == "port" and not any(m.get("kind") == "export" for m in movements):
        return REASONS["no_export_record"].found(site_name=site.get("name") or "port", holder_id=batch["holder_id"])
    return None


def _name(enterprise, fallback):
    return enterprise["name"] if enterprise else fallback


def malformed_code(label):
    """malformed_code: the text is not a batch code at all (wrong length, letters or check character)."""
    if label.kind == "malformed":
        return REASONS["malformed_code"].found(detail=label.error, typo=label.typo, text=label.raw)
    return None


def unknown_code(label, batch):
    """unknown_code: a well-formed code the ledger has no batch for."""
    if batch is not None:
        return None
    return REASONS["unknown_code"].found(code=label.batch_code or label.raw, form=label.kind, gtin=label.gtin,
                                         lot=label.lot, serial=label.serial)


SIGNATURE_PROBLEMS = {
    "missing": "carries no authority signature, though this form of label is always printed signed",
    "malformed": "carries a signature that is not one the authority makes (wrong length or characters)",
    "unknown_key": "is signed with a key the authority never had",
    "revoked_key": "is signed with a key the authority revoked",
    "forged": "carries a signature that does not match this code (copied from another label, or invented)",
}


def forged_label(label, code, verification):
    """forged_label: a label that should carry the authority's signature has none, or one that does not verify."""
    if verification in (None, "valid") or not label.signature_expected():
        return None
    return REASONS["forged_label"].found(code=code, problem=verification,
                                         problem_text=SIGNATURE_PROBLEMS[verification], kid=(label.signature or "")[:3])


def _gap_text(minutes):
    if minutes < 90:
        return f"{minutes:.0f} minutes"
    return f"{minutes / 60:.1f} hours"


def placed(location):
    """True when a location can back a clone: a position with the accuracy the phone gave for it."""
    return bool(location) and location.get("accuracy_m") is not None


def cloned_code(sightings, scan, speed_bound_kmh):
    """cloned_code: another located scan of this batch is too far away for the time between them.

    Both sightings need a location with an accuracy, and a sighting whose time disagrees with the wait its phone
    measured is no one's other half: a forged far-away scan must not make honest scans fail.
    """
    location, scanned_at = scan["location"], scan["scanned_at"]
    if not placed(location):
        return None
    worst = None
    for other in sightings:
        if not placed(other.get("location")) or (other.get("time_check") or {}).get("status") == "disagrees":
            continue
        other_at = other["scanned_at"]
        if other_at.tzinfo is None:
            other_at = other_at.replace(tzinfo=scanned_at.tzinfo)
        if abs(scanned_at - other_at) > CLONE_WINDOW:
            continue
        slack = (location["accuracy_m"] + other["location"]["accuracy_m"]) / 1000
        km = max(0.0, distance_km(location, other["location"]) - slack)
        if km < CLONE_MIN_KM:
            continue
        hours = max(abs((scanned_at - other_at).total_seconds()) / 3600, 1 / 60)
        speed = km / hours
        if speed > speed_bound_kmh and (worst is None or speed > worst["speed_kmh"]):
            worst = {"other_scan_id": other["_id"], "other_site": (other.get("site") or {}).get("name"),
                     "other_inspector_id": other.get("inspector_id"), "other_inspector": other.get("inspector"),
                     "other_device_id": other.get("device_id"), "other_scanned_at": other_at.isoformat(),
                     "other_location": other["location"], "inspector_id": scan["inspector_id"],
                     "inspector": scan["inspector"], "device_id": scan["device_id"],
                     "distance_km": round(km, 1), "gap_minutes": round(hours * 60, 1), "speed_kmh": round(speed),
                     "gap_text": _gap_text(hours * 60), "bound_kmh": speed_bound_kmh}
    return REASONS["cloned_code"].found(**worst) if worst else None


def in_transit(batch, enterprises, now):
    """in_transit: the holder shipped the batch and the receiver has not recorded its receipt yet."""
    t = batch.get("in_transit")
    if not t or batch["status"] != "active":
        return None
    return REASONS["in_transit"].found(from_id=t["from_id"], from_name=_name(enterprises.get(t["from_id"]), t["from_id"]),
                                       to_id=t["to_id"], to_name=_name(enterprises.get(t["to_id"]), t["to_id"]),
                                       doc_no=t["doc_no"], shipped_on=_day(t["since"]),
                                       days=max(0, (now - t["since"]).days))


def disputed_holder(batch, claims, enterprises):
    """disputed_holder: an open claim says another enterprise received the batch without the holder's shipment."""
    if not claims:
        return None
    first = min(claims, key=lambda c: (c["received_on"], c["_id"]))
    return REASONS["disputed_holder"].found(
        claimant_id=first["claimant_id"], claimant_name=_name(enterprises.get(first["claimant_id"]),
                                                               first["claimant_id"]),
        holder_id=batch["holder_id"], holder_name=_name(enterprises.get(batch["holder_id"]), batch["holder_id"]),
        doc_no=first["doc_no"], claimed_on=_day(first["received_on"]), claim_id=first["_id"], claims=len(claims))
