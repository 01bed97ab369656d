"""Marshmallow schemas for findings, their timeline, attachments, transitions, filters and stats."""
from datetime import timezone

import marshmallow as ma
from marshmallow import validate

from inspector.findings import workflow
from inspector.findings.export_headers import LANGUAGES
from inspector.findings.exports import FORMATS
from inspector.findings.records import DISCREPANCIES, SEVERITIES, SITE_TYPES, SORTS

from .scans import LocationSchema, SiteSchema, storable_time

_ID = validate.Length(min=1, max=64)
SORT_CHOICES = [s for f in SORTS for s in (f, f"-{f}")]


class FindingCreateSchema(ma.Schema):
    client_id = ma.fields.UUID(required=True, metadata={
        "description": "Made by the device when the finding is drafted; a retry sends the same id and gets the stored "
                       "finding back. Reusing it for different content is refused (409)."})
    enterprise_id = ma.fields.String(validate=_ID, metadata={
        "description": "The enterprise inspected. Optional when the cited scans name one holder."})
    site = ma.fields.Nested(SiteSchema, metadata={"description": "Optional when cited scans carry it."})
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    observed_at = ma.fields.AwareDateTime(validate=storable_time, metadata={"description": "Device time of the observation (ISO 8601 with "
                                                                   "offset). Optional when scans are cited."})
    scan_ids = ma.fields.List(ma.fields.String(validate=_ID), validate=validate.Length(max=50), metadata={
        "description": "Your scans this finding rests on. Omitted discrepancies, batch codes, enterprise, site, "
                       "location and time are filled from them."})
    batch_codes = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=200)),
                                 validate=validate.Length(max=200))
    discrepancies = ma.fields.List(ma.fields.String(validate=validate.OneOf(DISCREPANCIES)),
                                   validate=validate.Length(max=len(DISCREPANCIES)), metadata={
                                       "description": "Verdict reason codes and field-only types."})
    observed_mass_kg = ma.fields.Float(allow_none=True, validate=validate.Range(min=0, max=1e7))
    severity = ma.fields.String(allow_none=True, validate=validate.OneOf(SEVERITIES), metadata={
        "description": "Left out or null: high when any discrepancy is a failing verdict reason, else medium."})
    notes = ma.fields.String(allow_none=True, validate=validate.Length(max=4000))


CREATE_EXAMPLE = {
    "client_id": "0b7f4c3e-5a0e-4c55-9d5f-3f1e2a9b7c11", "enterprise_id": "ENT-GMT",
    "site": {"type": "market", "name": "Ganzhou rare-earth market, stall 14"},
    "location": {"lat": 25.83, "lon": 114.93, "accuracy_m": 12}, "observed_at": "2025-02-19T10:42:00+08:00",
    "batch_codes": ["RE5Q7KX2M"], "discrepancies": ["unrecorded_transfer", "label_missing_or_damaged"],
    "observed_mass_kg": 480.0, "severity": "high", "notes": "Drums relabelled by hand; seller had no invoice.",
}


class TimelineEntrySchema(ma.Schema):
    at = ma.fields.DateTime()
    action = ma.fields.String(metadata={"description": "submit, attach, or a workflow action."})
    from_status = ma.fields.String(data_key="from", attribute="from", allow_none=True)
    to = ma.fields.String()
    actor = ma.fields.String(allow_none=True, metadata={"description": "Username; enterprises see the role instead."})
    actor_id = ma.fields.String(allow_none=True)
    role = ma.fields.String()
    comment = ma.fields.String(allow_none=True)
    deadline = ma.fields.DateTime()
    reason = ma.fields.String()
    outcome = ma.fields.String()
    response_type = ma.fields.String()
    attachment_ids = ma.fields.List(ma.fields.String())
    attachment_id = ma.fields.String()
    kind = ma.fields.String()
    late = ma.fields.Boolean(metadata={"description": "The response came after the deadline."})


class PhotoMetadataSchema(ma.Schema):
    taken_at = ma.fields.String(metadata={"description": "EXIF DateTimeOriginal as the camera recorded it.",
                                          "example": "2025-02-19T10:41:57+08:00"})
    gps = ma.fields.Dict(metadata={"example": {"lat": 25.8301, "lon": 114.9302, "altitude_m": 112.0}})
    camera = ma.fields.String()
    distance_from_finding_m = ma.fields.Integer(metadata={"description": "From the photo's GPS to the finding's location."})
    exif_error = ma.fields.String()


class AttachmentSchema(ma.Schema):
    id = ma.fields.String()
    sha256 = ma.fields.String()
    content_type = ma.fields.String(metadata={"example": "image/jpeg"})
    kind = ma.fields.String(metadata={"description": "photo or document"})
    size = ma.fields.Integer()
    filename = ma.fields.String()
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    photo = ma.fields.Nested(PhotoMetadataSchema, allow_none=True)
    has_thumbnail = ma.fields.Boolean()
    uploaded_at = ma.fields.DateTime()
    uploader = ma.fields.String(allow_none=True)
    uploaded_role = ma.fields.String()


class FindingSchema(ma.Schema):
    id = ma.fields.String()
    client_id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(workflow.STATES)})
    enterprise_id = ma.fields.String()
    enterprise_name = ma.fields.String(allow_none=True)
    province = ma.fields.String(allow_none=True, metadata={"description": "The enterprise's province: supervisors' scope."})
    inspector_id = ma.fields.String()
    inspector = ma.fields.String()
    site = ma.fields.Nested(SiteSchema)
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    observed_at = ma.fields.DateTime()
    received_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    scan_ids = ma.fields.List(ma.fields.String())
    batch_codes = ma.fields.List(ma.fields.String())
    discrepancies = ma.fields.List(ma.fields.String())
    observed_mass_kg = ma.fields.Float(allow_none=True)
    severity = ma.fields.String()
    notes = ma.fields.String(allow_none=True)
    deadline = ma.fields.DateTime(allow_none=True)
    overdue = ma.fields.Boolean(metadata={"description": "Awaiting a response past its deadline."})
    dismiss_reason = ma.fields.String()
    response_type = ma.fields.String()
    responded_late = ma.fields.Boolean()
    outcome = ma.fields.String(allow_none=True)
    etag = ma.fields.String(metadata={"description": "Also sent as the ETag header; send it back in If-Match."})
    allowed_actions = ma.fields.List(ma.fields.String(), metadata={"description": "What you may do next."})
    attachment_count = ma.fields.Integer()
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema))
    timeline = ma.fields.List(ma.fields.Nested(TimelineEntrySchema), metadata={"description": "Left out of lists."})


class TransitionSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=validate.OneOf(list(workflow.ACTIONS)))
    comment = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    deadline = ma.fields.AwareDateTime(validate=storable_time, metadata={
        "description": "send_to_enterprise and request_more: the response deadline (default: now + RESPONSE_DAYS)."})
    reason = ma.fields.String(validate=validate.OneOf(workflow.DISMISS_REASONS), metadata={"description": "dismiss"})
    outcome = ma.fields.String(validate=validate.OneOf(workflow.OUTCOMES), metadata={"description": "resolve"})
    response_type = ma.fields.String(validate=validate.OneOf(workflow.RESPONSE_TYPES),
                                     metadata={"description": "respond: explanation (default) or dispute"})
    attachment_ids = ma.fields.List(ma.fields.String(validate=_ID), validate=validate.Length(max=50),
                                    metadata={"description": "respond: the documents your enterprise attached"})


class FindingFilterSchema(ma.Schema):
    status = ma.fields.List(ma.fields.String(validate=validate.OneOf(workflow.STATES)),
                            metadata={"description": "Repeat to match any of several."})
    enterprise_id = ma.fields.String(validate=_ID)
    inspector_id = ma.fields.String(validate=_ID)
    reason = ma.fields.String(validate=validate.OneOf(DISCREPANCIES), metadata={"description": "A discrepancy code."})
    severity = ma.fields.String(validate=validate.OneOf(SEVERITIES))
    site_type = ma.fields.String(validate=validate.OneOf(SITE_TYPES))
    province = ma.fields.String(validate=validate.Length(min=1, max=64))
    observed_from = ma.fields.AwareDateTime(default_timezone=timezone.utc, validate=storable_time,
                                            metadata={"description": "Inclusive; a date means midnight UTC."})
    observed_to = ma.fields.AwareDateTime(default_timezone=timezone.utc, validate=storable_time,
                                          metadata={"description": "Exclusive."})
    overdue = ma.fields.Boolean()


class FindingListQuerySchema(FindingFilterSchema):
    sort = ma.fields.String(load_default="-observed_at", validate=validate.OneOf(SORT_CHOICES))


class ExportQuerySchema(FindingListQuerySchema):
    format = ma.fields.String(load_default="csv", validate=validate.OneOf(list(FORMATS)))
    lang = ma.fields.String(validate=validate.OneOf(list(LANGUAGES)), metadata={
        "description": "Spreadsheet headings in this language; without it, the field names (stable for scripts)."})


class PrefillQuerySchema(ma.Schema):
    scan_id = ma.fields.List(ma.fields.String(validate=_ID), required=True, validate=validate.Length(min=1, max=50),
                             metadata={"description": "Repeat for several scans."})


class FindingDraftSchema(ma.Schema):
    scan_ids = ma.fields.List(ma.fields.String())
    enterprise_id = ma.fields.String()
    site = ma.fields.Nested(SiteSchema)
    location = ma.fields.Nested(LocationSchema)
    observed_at = ma.fields.DateTime()
    batch_codes = ma.fields.List(ma.fields.String())
    discrepancies = ma.fields.List(ma.fields.String())
    observed_mass_kg = ma.fields.Float()
    severity = ma.fields.String()


class WeekCountSchema(ma.Schema):
    week = ma.fields.String(metadata={"example": "2025-W08"})
    count = ma.fields.Integer()


class FindingStatsSchema(ma.Schema):
    total = ma.fields.Integer()
    overdue = ma.fields.Integer()
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                               metadata={"example": {"submitted": 4, "awaiting_response": 2}})
    by_reason = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    by_province = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    by_week = ma.fields.List(ma.fields.Nested(WeekCountSchema))
