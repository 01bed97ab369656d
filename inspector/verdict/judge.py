"""Judging a scanned code: every reason that applies, the provenance and the quota, from one read."""
from dataclasses import dataclass, field
from datetime import datetime

from inspector.errors import DomainError
from inspector.clock import aware, china_date
from inspector.verdict import rules
from inspector.codes.labels import Label
from inspector.offline.signing import keyring
from inspector.periods import settings_deadline
from inspector.verdict.lineage import ancestor_depths, fetch_for_scan
from inspector.verdict.provenance import provenance
from inspector.quota.status import batch_quota
from inspector.verdict.reasons import status_of
from inspector.verdict.scan_time import earliest_record


@dataclass
class ScanContext:
    """Where, when and how a code was seen."""

    scanned_at: datetime
    site: dict | None = None
    holder_enterprise_id: str | None = None
    observed_mass_kg: float | None = None
    location: dict | None = None
    extra: dict = field(default_factory=dict)


class UnknownEnterprise(DomainError, LookupError):
    """The scan names a holder enterprise that does not exist."""

    code = "unknown_enterprise"

    def __init__(self, enterprise_id):
        super().__init__(f"There is no enterprise {enterprise_id!r}.",
                         json={"holder_enterprise_id": ["Unknown enterprise."]})


@dataclass
class Judgement:
    """A verdict with what backs it."""

    reasons: list
    batch: dict | None
    provenance: dict | None
    quota: dict | None
    batch_code: str | None
    sightings: list = field(default_factory=list)
    existed_from: datetime | None = None  # the batch's first day on the ledger: no scan of it is older
    province: str | None = None  # where it was found (the found holder's province, else the recorded holder's)
    tasks: list | None = None  # the open tasks naming the batch, when asked for (read with it)

    @property
    def status(self):
        return status_of(self.reasons)

    def verdict(self):
        return {"status": self.status, "reasons": self.reasons}


def judge(db, label: Label, ctx: ScanContext, settings, now: datetime, tasks=False) -> Judgement:
    """Judge one code in its scan context, on today's ledger; with tasks, also read the open tasks naming the batch."""
    malformed = rules.malformed_code(label)
    if malformed:
        return Judgement([malformed], None, None, None, None)
    batch = fetch_for_scan(db, label.lookup(), ctx.holder_enterprise_id, tasks=tasks)
    if batch is None:
        if ctx.holder_enterprise_id:
            _require_enterprise(db, ctx.holder_enterprise_id)
        return Judgement([rules.unknown_code(label, batch)], None, None, None, None)

    depths = ancestor_depths(batch)
    for a in batch["ancestors"]:
        a["generation"] = depths.get(a["_id"])
    claims, enterprises = batch["claims"], batch["enterprises"]
    if ctx.holder_enterprise_id and ctx.holder_enterprise_id not in enterprises:
        raise UnknownEnterprise(ctx.holder_enterprise_id)

    site_type = (ctx.site or {}).get("type")
    found = [
        rules.producer_not_approved(batch, enterprises),
        rules.over_quota(batch, enterprises),
        rules.unverified_import(batch, enterprises),
        rules.tainted_lineage(batch["ancestors"], enterprises),
        rules.unrecorded_transfer(batch, ctx.holder_enterprise_id, enterprises),
        rules.quantity_mismatch(batch, ctx.observed_mass_kg, settings.mass_tolerance_pct),
        rules.retired_code(batch, site_type),
        rules.late_reporting(_reporting_parties(batch, ctx), enterprises, now, **settings_deadline(settings)),
        rules.mass_balance(batch, enterprises, settings),
        rules.no_export_record(batch, ctx.site, batch["movements"]),
        rules.in_transit(_transit_aware(batch), enterprises, now),
        rules.disputed_holder(batch, [{**c, "received_on": aware(c["received_on"])} for c in claims], enterprises),
        rules.forged_label(label, batch["_id"], _verify_label(label, batch["_id"], settings)),
    ]
    producer = enterprises.get(batch["producer_id"])
    place = enterprises.get(ctx.holder_enterprise_id or batch["holder_id"]) or {}
    return Judgement(
        reasons=[r for r in found if r],
        batch=public_batch(batch, enterprises),
        provenance=provenance(batch, enterprises),
        quota=batch_quota(batch, producer),
        batch_code=batch["_id"],
        sightings=batch["sightings"],
        existed_from=earliest_record(batch),
        province=place.get("province"),
        tasks=batch.get("tasks"),
    )


def _verify_label(label, code, settings):
    ring = keyring(settings) if label.signature_expected() else None
    return ring.verify_label(code, label.signature) if ring else None


def _transit_aware(batch):
    t = batch.get("in_transit")
    return {**batch, "in_transit": {**t, "since": aware(t["since"])}} if t else batch


def _reporting_parties(batch, ctx):
    parties = [batch["producer_id"], batch["holder_id"], ctx.holder_enterprise_id]
    return list(dict.fromkeys(p for p in parties if p))


def _require_enterprise(db, enterprise_id):
    if db.enterprises.count_documents({"_id": enterprise_id}, limit=1) == 0:
        raise UnknownEnterprise(enterprise_id)


def public_batch(batch, enterprises):
    """The batch as clients see it."""
    def name(eid):
        return enterprises[eid]["name"] if eid in enterprises else eid

    return {
        "code": batch["_id"],
        "stage": batch["stage"],
        "product_type": batch["product_type"],
        "mass_kg": batch["mass_kg"],
        "remaining_kg": batch["remaining_kg"],
        "reo_pct": batch["reo_pct"],
        "producer_id": batch["producer_id"],
        "producer_name": name(batch["producer_id"]),
        "produced_on": china_date(batch["produced_on"]).isoformat(),
        "holder_id": batch["holder_id"],
        "holder_name": name(batch["holder_id"]),
        "status": batch["status"],
        "status_since": china_date(batch["status_since"]).isoformat(),
        "parents": batch["parents"],
        "gs1": batch.get("gs1"),
        "quota_category": batch.get("quota_category"),
    }
