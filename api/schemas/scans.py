"""Marshmallow schemas for scans, batches and enterprises."""
from datetime import timezone

import marshmallow as ma
from marshmallow import validate

from .registry import ApprovalSchema, WhitelistStateSchema

SITE_TYPES = ("market", "port", "warehouse", "factory", "other")


class SiteSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(SITE_TYPES))
    name = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class LocationSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = ma.fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = ma.fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 100_000))


def storable_time(moment):
    """The database keeps times in UTC: 0001-01-01T00:00:00+14:00 has no UTC equivalent, so it cannot be a scan time."""
    try:
        moment.astimezone(timezone.utc)
    except OverflowError:
        raise ma.ValidationError("Out of range: the time must fall between the years 1 and 9999 in UTC.") from None


class ScanRequestSchema(ma.Schema):
    code = ma.fields.String(validate=validate.Length(max=512),
                            metadata={"description": "The code as typed or scanned. Optional when a photo is sent."})
    client_id = ma.fields.UUID(required=True, metadata={"description": "Made by the device; a retry reuses it."})
    scanned_at = ma.fields.AwareDateTime(required=True, validate=storable_time,
                                         metadata={"description": "Device time of the scan (ISO 8601 with offset)."})
    site = ma.fields.Nested(SiteSchema, required=True)
    location = ma.fields.Nested(LocationSchema, load_default=None, allow_none=True)
    observed_mass_kg = ma.fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1e7))
    holder_enterprise_id = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                                            metadata={"description": "The enterprise whose premises or stock is inspected."})
    queued_ms = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 400 * 86_400_000),
                                  metadata={"description": "How long the scan waited in the outbox before this "
                                                           "attempt, by the phone's monotonic clock (the PWA sends 0 "
                                                           "for a live scan). Compared with received_at - scanned_at."})
    queue_interrupted = ma.fields.Boolean(load_default=False, metadata={
        "description": "True when the app was closed while the scan waited, so queued_ms measured only part of it."})
    shown_status = ma.fields.String(load_default=None, allow_none=True,
                                    validate=validate.OneOf(("pass", "warning", "fail")), metadata={
        "description": "The verdict the phone showed while the scan waited (its last known result for the code): a "
                       "server verdict that differs is sent to the inspector's inbox."})


class ReasonSchema(ma.Schema):
    code = ma.fields.String()
    severity = ma.fields.String()
    message = ma.fields.String()
    evidence = ma.fields.Dict()


class CheckNotDoneSchema(ma.Schema):
    check = ma.fields.String(metadata={"description": "The reason that could not be judged: cloned_code."})
    reason = ma.fields.String(metadata={"description": "no_location, no_accuracy, time_disagrees or time_unverified"})
    message = ma.fields.String()


class VerdictSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "pass, warning or fail"})
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema))
    checks_not_done = ma.fields.List(ma.fields.Nested(CheckNotDoneSchema), metadata={
        "description": "Checks the scan could not be judged on (a scan without a located, timed sighting cannot "
                       "show a cloned code); the status does not count them, so show them beside it."})


class TimeCheckSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "consistent, unverified or disagrees"})
    claimed_wait_s = ma.fields.Float(metadata={"description": "received_at - scanned_at."})
    reported_wait_s = ma.fields.Float(allow_none=True, metadata={"description": "queued_ms as seconds."})
    interrupted = ma.fields.Boolean()
    tolerance_s = ma.fields.Float()


class FoundCodeSchema(ma.Schema):
    text = ma.fields.String()
    format = ma.fields.String()


class ScanSchema(ma.Schema):
    id = ma.fields.String(attribute="_id")
    client_id = ma.fields.String()
    inspector = ma.fields.String()
    code = ma.fields.String()
    batch_code = ma.fields.String(allow_none=True)
    scanned_at = ma.fields.DateTime()
    received_at = ma.fields.DateTime()
    site = ma.fields.Dict(allow_none=True)
    location = ma.fields.Dict(allow_none=True)
    observed_mass_kg = ma.fields.Float(allow_none=True)
    holder_enterprise_id = ma.fields.String(allow_none=True)
    verdict = ma.fields.Nested(VerdictSchema)
    codes = ma.fields.List(ma.fields.Nested(FoundCodeSchema))
    batch = ma.fields.Dict(allow_none=True)
    provenance = ma.fields.Dict(allow_none=True)
    quota = ma.fields.Dict(allow_none=True)
    cloned_with = ma.fields.List(ma.fields.String())
    queued_ms = ma.fields.Integer(allow_none=True)
    queue_interrupted = ma.fields.Boolean(allow_none=True)
    time_check = ma.fields.Nested(TimeCheckSchema, allow_none=True, metadata={
        "description": "Whether the scan's time agrees with the wait its phone measured."})
    province = ma.fields.String(allow_none=True, metadata={"description": "The found (else recorded) holder's."})


class DecodeSchema(ma.Schema):
    codes = ma.fields.List(ma.fields.Nested(FoundCodeSchema))
    hint = ma.fields.String(allow_none=True)


class BatchViewSchema(ma.Schema):
    verdict = ma.fields.Nested(VerdictSchema)
    batch = ma.fields.Dict()
    provenance = ma.fields.Dict()
    quota = ma.fields.Dict()


class ProvenanceViewSchema(ma.Schema):
    provenance = ma.fields.Dict()


class DescendantSchema(ma.Schema):
    code = ma.fields.String()
    generation = ma.fields.Integer(allow_none=True)
    stage = ma.fields.String()
    product_type = ma.fields.String()
    producer_id = ma.fields.String()
    holder_id = ma.fields.String()
    status = ma.fields.String()
    mass_kg = ma.fields.Float()
    remaining_kg = ma.fields.Float()
    produced_on = ma.fields.Date()


class DescendantsSchema(ma.Schema):
    code = ma.fields.String()
    count = ma.fields.Integer()
    active = ma.fields.Integer(metadata={"description": "Descendants still in circulation: the ones to recall."})
    descendants = ma.fields.List(ma.fields.Nested(DescendantSchema))


class DirectoryEntrySchema(ma.Schema):
    id = ma.fields.String(attribute="_id")
    name = ma.fields.String()
    province = ma.fields.String()
    city = ma.fields.String(allow_none=True)


class EnterpriseSchema(ma.Schema):
    id = ma.fields.String(attribute="_id")
    name = ma.fields.String()
    uscc = ma.fields.String(allow_none=True, metadata={"description": "Unified social credit code (GB 32100)."})
    roles = ma.fields.List(ma.fields.String())
    province = ma.fields.String()
    city = ma.fields.String(allow_none=True)
    location = ma.fields.Dict(allow_none=True)
    approvals = ma.fields.List(ma.fields.Nested(ApprovalSchema),
                               metadata={"description": "The whitelist history, oldest first, never overwritten."})
    whitelist = ma.fields.List(ma.fields.Nested(WhitelistStateSchema),
                               metadata={"description": "Each whitelisted stage's state today (China time)."})
    quota_categories = ma.fields.List(ma.fields.String())


class PenaltyCutRowSchema(ma.Schema):
    penalty_id = ma.fields.String()
    kind = ma.fields.String()
    year = ma.fields.Integer(metadata={"description": "The offence year."})
    decided_on = ma.fields.Date()
    decision_no = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    cut_pct = ma.fields.Float(allow_none=True)
    over_t = ma.fields.Float(allow_none=True, metadata={"description": "over_quota: tonnes over the offence year's "
                                                                      "allocation."})
    cut_t = ma.fields.Float()


class QuotaIssueBatchSchema(ma.Schema):
    issue_batch = ma.fields.Integer()
    tonnes_reo = ma.fields.Float(metadata={"description": "Issued in this batch."})
    issued_on = ma.fields.String()
    cut_t = ma.fields.Float(metadata={"description": "Penalty cut taken from this batch (first batches first)."})
    effective_t = ma.fields.Float()
    used_t = ma.fields.Float(metadata={"description": "Use carried by this batch, filled in issue order."})
    remaining_t = ma.fields.Float()


class QuotaCategorySchema(ma.Schema):
    category = ma.fields.String()
    category_name = ma.fields.String()
    allocated_t = ma.fields.Float(metadata={"description": "Issued this year, over all issue batches."})
    penalty_cut_t = ma.fields.Float(metadata={"description": "Cut by penalties (at most what was issued)."})
    cut_pending_t = ma.fields.Float(metadata={"description": "Cut still to come off batches not yet issued."})
    penalties = ma.fields.List(ma.fields.Nested(PenaltyCutRowSchema))
    effective_t = ma.fields.Float(metadata={"description": "allocated_t less penalty_cut_t."})
    used_t = ma.fields.Float()
    imported_t = ma.fields.Float(metadata={"description": "Of used_t, imported feed counted when it came in (Order "
                                                          "No. 71: a separator's imported ore and compounds)."})
    remaining_t = ma.fields.Float(metadata={"description": "Of the effective allocation; never below 0."})
    over_t = ma.fields.Float(metadata={"description": "Used beyond the effective allocation."})
    used_pct = ma.fields.Float(allow_none=True, metadata={"description": "Of the effective allocation."})
    issue_batches = ma.fields.List(ma.fields.Nested(QuotaIssueBatchSchema))


class QuotaStatusSchema(ma.Schema):
    enterprise_id = ma.fields.String()
    enterprise_name = ma.fields.String()
    year = ma.fields.Integer()
    categories = ma.fields.List(ma.fields.Nested(QuotaCategorySchema))


class QuotaQuerySchema(ma.Schema):
    year = ma.fields.Integer(validate=validate.Range(2000, 2100))


class ScanListQuerySchema(ma.Schema):
    batch_code = ma.fields.String(validate=validate.Length(max=64))
