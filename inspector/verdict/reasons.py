"""The verdict reasons as data: one table shared by the verdict, the PWA and the supervisor views."""
from dataclasses import dataclass

FAIL = "fail"
WARNING = "warning"
QUOTA_CATEGORY_NAMES = {
    "mining_light": "light rare-earth mining",
    "mining_medium_heavy": "medium/heavy (ion-adsorption) rare-earth mining",
    "separation": "smelting and separation",
}


@dataclass(frozen=True)
class Reason:
    """One reason a scan can give, with its severity and message template."""

    code: str
    severity: str
    title: str
    meaning: str
    template: str

    def info(self):
        """The reason as plain data for clients."""
        return {"code": self.code, "severity": self.severity, "title": self.title, "meaning": self.meaning}

    def found(self, **evidence):
        """Return this reason as it applies to a scan, with its message filled from the evidence."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.template.format(**evidence),
            "evidence": evidence,
        }


REASONS = {r.code: r for r in [
    Reason("unknown_code", FAIL, "Unknown code",
           "Not registered: possible counterfeit or illegal product.",
           "Code {code} is not registered in the traceability ledger: treat it as possible counterfeit or illegal product."),
    Reason("malformed_code", FAIL, "Malformed code",
           "The check character or syntax fails: a typo, or a fake label.",
           "{detail}"),
    Reason("producer_not_approved", FAIL, "Producer not approved",
           "The producer was not whitelisted for that stage on the production date.",
           "{producer_name} was not whitelisted for {approval_stage} on {produced_on}, when this batch was produced."),
    Reason("over_quota", FAIL, "Over quota",
           "Produced after the producer's yearly quota for that category was used up.",
           "{producer_name} had used {used_t:,.0f} t of its {allocated_t:,.0f} t {year} quota for {category_name} when this batch was produced."),
    Reason("tainted_lineage", FAIL, "Tainted lineage",
           "An ancestor batch fails a reason above: illegal material laundered downstream.",
           "{batches_text}, including {first_code} from {first_producer}, failed: {reasons_text}."),
    Reason("unrecorded_transfer", WARNING, "Unrecorded transfer",
           "Found with a holder other than its last recorded holder.",
           "Found with {found_holder_name}, but the ledger's last recorded holder is {recorded_holder_name}."),
    Reason("quantity_mismatch", FAIL, "Quantity mismatch",
           "Observed mass exceeds the recorded remaining mass beyond the tolerance.",
           "Observed {observed_kg:,.1f} kg, but only {remaining_kg:,.1f} kg remain on record (tolerance {tolerance_pct}%)."),
    Reason("retired_code", FAIL, "Retired code",
           "Recorded as consumed, transformed, exported, seized or recalled, yet on the market.",
           "This batch is recorded as {status} since {since}, so its label should not be in circulation."),
    Reason("cloned_code", FAIL, "Cloned code",
           "The same code was seen at places too far apart for the time between the scans.",
           "The same code was scanned {distance_km:,.0f} km away {gap_text} earlier, which would need {speed_kmh:,.0f} km/h."),
    Reason("late_reporting", WARNING, "Late reporting",
           "The holder or producer missed a monthly ledger deadline.",
           "{enterprise_name} missed the 10th-of-month ledger deadline for {periods_text}."),
    Reason("mass_balance", WARNING, "Mass balance",
           "The producer's output REO for the period exceeds its input REO times a recovery ceiling.",
           "In {period}, {producer_name} put out {output_reo_t:,.1f} t REO from only {input_reo_t:,.1f} t REO of feed (ceiling {ceiling_pct}%)."),
    Reason("no_export_record", FAIL, "No export record",
           "Found at an export port without a recorded export.",
           "Found at port {site_name}, but no export of this batch is recorded."),
    Reason("unverified_import", FAIL, "Unverified import",
           "Imported under a customs declaration the register does not confirm: possibly laundered material.",
           "Imported by {importer_name} under customs declaration {declaration_no}, which the customs register does "
           "not confirm: {problems_text}."),
    Reason("forged_label", FAIL, "Forged label",
           "The label's signature is missing or was not made by the issuing authority: a counterfeit label.",
           "The label of {code} {problem_text}: treat it as a counterfeit label."),
    Reason("in_transit", WARNING, "In transit",
           "Shipped by its holder, and the receiver has not yet recorded the receipt.",
           "Shipped by {from_name} to {to_name} under {doc_no} on {shipped_on}; {to_name} has not recorded the "
           "receipt ({days} days)."),
    Reason("disputed_holder", WARNING, "Disputed holder",
           "Another enterprise reported receiving it, but its holder recorded no such shipment.",
           "{claimant_name} reported receiving this batch under {doc_no} on {claimed_on}, but {holder_name}, its "
           "holder, recorded no such shipment."),
]}


def status_of(found_reasons):
    """Return fail if any reason fails, warning if only warnings, pass otherwise."""
    severities = {r["severity"] for r in found_reasons}
    if FAIL in severities:
        return FAIL
    if WARNING in severities:
        return WARNING
    return "pass"
