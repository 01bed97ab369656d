"""Ledger flags: what the ledger saw in an accepted event that an inspector should know of.

Flags are raised on ledger events at submission, from the submission's own facts (its inputs and outputs, the
producer's whitelist on the event's day, the quota used so far, the shipments recorded); they are stored on the
event and listed in the receipt. They are not verdict reasons: a verdict judges the stored facts of a batch at scan
time (inspector/verdict/rules.py), with its own logic, even where a flag's wire `code` reuses a reason's name
(`mass_balance`, `producer_not_approved`, `over_quota`). The codes are part of the API: clients and the risk
ranking (inspector/oversight/risk.py) read them.
"""
from inspector.registry.approvals import STAGE_APPROVAL
from inspector.registry.customs import problems_text

# Each flag's wire code: what clients read in receipts, exports and the risk ranking.
CODES = {
    "output_over_recovery_ceiling": "mass_balance",
    "producer_not_whitelisted_that_day": "producer_not_approved",
    "production_over_quota": "over_quota",
    "receipt_without_shipment": "receipt_without_shipment",
    "unverified_import": "unverified_import",
}


def output_over_recovery_ceiling(out_reo, in_reo, ceiling):
    """A production whose output REO exceeds its input REO × the stage's recovery ceiling; None when it does not."""
    if out_reo <= in_reo * ceiling:
        return None
    return {"code": CODES["output_over_recovery_ceiling"], "output_reo_kg": round(out_reo, 1),
            "input_reo_kg": round(in_reo, 1), "ceiling_pct": round(ceiling * 100, 1),
            "message": f"Output {out_reo:,.1f} kg REO exceeds input {in_reo:,.1f} kg REO × {ceiling:.0%}."}


def producer_not_whitelisted_that_day(enterprise_id, stage, china_day):
    """A production by an enterprise not whitelisted for the output's stage on the event's China-time day."""
    return {"code": CODES["producer_not_whitelisted_that_day"], "stage": stage, "day": china_day,
            "message": f"{enterprise_id} is not whitelisted for {STAGE_APPROVAL[stage]} on {china_day}."}


def production_over_quota(enterprise_id, year, category, allocated_t, used_t):
    """A production that brings the producer's year's quota use in a category past its allocation."""
    return {"code": CODES["production_over_quota"], "year": year, "category": category, "allocated_t": allocated_t,
            "used_t": round(used_t, 3),
            "message": f"Production brings {enterprise_id}'s {year} {category} quota use to {used_t:,.1f} t "
                       f"REO of {allocated_t:,.1f} t allocated."}


def receipt_without_shipment(enterprise_id, code, from_id, doc_no, claim_id=None):
    """A receipt no agreeing shipment backs: the batch stays where it is, and the receipt is an open claim."""
    flag = {"code": CODES["receipt_without_shipment"], "from_id": from_id, "doc_no": doc_no,
            "message": f"{enterprise_id} received {code} under {doc_no}, but no shipment to it is recorded."}
    if claim_id:
        flag["claim_id"] = claim_id
        flag["message"] += " The batch stays with its holder; the receipt is an open claim until the sender agrees."
    return flag


def unverified_import(enterprise_id, declaration_no, batches, problems):
    """An import the customs register does not confirm: its batches scan unverified_import until a load does."""
    return {"code": CODES["unverified_import"], "declaration_no": declaration_no, "batches": batches,
            "problems": [p["code"] for p in problems],
            "message": f"{enterprise_id} imported {batches} batch(es) under declaration {declaration_no}, which the "
                       f"customs register does not confirm: {problems_text(problems)}."}
