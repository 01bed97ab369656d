"""Marshmallow schemas for scans, batches and enterprises."""
from datetime import timezone

import marshmallow as ma
from marshmallow import validate

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


class ReasonSchema(ma.Schema):
    code = ma.fields.String()
    severity = ma.fields.String()
    message = ma.fields.String()
    evidence = ma.fields.Dict()


class VerdictSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "pass, warning or fail"})
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema))


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


class EnterpriseSchema(ma.Schema):
    id = ma.fields.String(attribute="_id")
    name = ma.fields.String()
    roles = ma.fields.List(ma.fields.String())
    province = ma.fields.String()
    city = ma.fields.String()
    location = ma.fields.Dict()
    approvals = ma.fields.List(ma.fields.Dict())
    quota_categories = ma.fields.List(ma.fields.String())


class QuotaQuerySchema(ma.Schema):
    year = ma.fields.Integer(validate=validate.Range(2000, 2100))


class ScanListQuerySchema(ma.Schema):
    batch_code = ma.fields.String(validate=validate.Length(max=64))
