"""Request and response schemas of the registry: enterprises, whitelist approvals, quota issues and penalties."""
from datetime import date

import marshmallow as ma
from marshmallow import validate

from inspector.registry import approvals
from inspector.quota import allocation, penalties
from inspector.accounts.users import PROVINCES
from inspector.registry.enterprises import ROLES

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
DAY = validate.Range(FIRST_DAY, LAST_DAY, error="Use a date from 2000-01-01 to 2100-12-31.")
YEAR = validate.Range(2000, 2100)
CATEGORY = validate.OneOf(allocation.CATEGORIES)
NOT_BLANK = validate.Regexp(r"\S", error="Must not be blank.")


class PlaceSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = ma.fields.Float(required=True, validate=validate.Range(-180, 180))


class EnterpriseCreateSchema(ma.Schema):
    id = ma.fields.String(validate=validate.Regexp(r"^ENT-[A-Z0-9-]{2,30}$", error="Use ENT- and 2-30 capitals, "
                                                                                    "digits or hyphens."),
                          metadata={"description": "Leave out to get ENT- and the USCC's organisation code."})
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK])
    uscc = ma.fields.String(required=True, validate=validate.Length(min=1, max=64),
                            metadata={"description": "The 18-character unified social credit code (GB 32100); its "
                                                     "check character and organisation-code check digit are verified."})
    province = ma.fields.String(required=True, validate=validate.OneOf(PROVINCES))
    roles = ma.fields.List(ma.fields.String(validate=validate.OneOf(ROLES)), required=True,
                           validate=validate.Length(min=1, max=len(ROLES)))
    city = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    location = ma.fields.Nested(PlaceSchema, load_default=None, allow_none=True)


class EnterprisePatchSchema(ma.Schema):
    name = ma.fields.String(validate=[validate.Length(min=1, max=200), NOT_BLANK])
    province = ma.fields.String(validate=validate.OneOf(PROVINCES))
    roles = ma.fields.List(ma.fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(min=1, max=7))
    city = ma.fields.String(allow_none=True, validate=validate.Length(max=100))
    location = ma.fields.Nested(PlaceSchema, allow_none=True)

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send at least one of name, province, roles, city, location.", "_schema")


class EnterpriseQuerySchema(ma.Schema):
    province = ma.fields.String(validate=validate.OneOf(PROVINCES))
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    uscc = ma.fields.String(validate=validate.Length(min=1, max=64))


class WhitelistStateSchema(ma.Schema):
    stage = ma.fields.String(metadata={"example": "separation"})
    approved = ma.fields.Boolean()
    state = ma.fields.String(metadata={"description": "granted, suspended, revoked, expired, not_yet_in_force or "
                                                      "never_granted"})


class UsccPartsSchema(ma.Schema):
    registration_authority = ma.fields.String()
    entity_type = ma.fields.String()
    division_code = ma.fields.String()
    division_province = ma.fields.String(allow_none=True)
    organisation_code = ma.fields.String()
    check_character = ma.fields.String()


class RegistryEnterpriseSchema(ma.Schema):
    id = ma.fields.String(attribute="_id")
    name = ma.fields.String()
    uscc = ma.fields.String(allow_none=True)
    uscc_parts = ma.fields.Nested(UsccPartsSchema, allow_none=True)
    province = ma.fields.String()
    city = ma.fields.String(allow_none=True)
    location = ma.fields.Nested(PlaceSchema, allow_none=True)
    roles = ma.fields.List(ma.fields.String())
    quota_categories = ma.fields.List(ma.fields.String())
    gs1_prefix = ma.fields.String(allow_none=True)
    glns = ma.fields.List(ma.fields.String(), metadata={"description": "The GLNs the registry records: the party's own "
                                                                    "first, then its sites (EPCIS parties, places)."})
    whitelist = ma.fields.List(ma.fields.Nested(WhitelistStateSchema),
                               metadata={"description": "Each whitelisted stage's state today (China time)."})
    created_at = ma.fields.DateTime(allow_none=True)
    updated_at = ma.fields.DateTime(allow_none=True)


class ApprovalActionSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=validate.OneOf(approvals.ACTIONS))
    stage = ma.fields.String(required=True, validate=validate.OneOf(approvals.STAGES))
    effective_from = ma.fields.Date(required=True, validate=DAY)
    effective_to = ma.fields.Date(load_default=None, allow_none=True, validate=DAY,
                                  metadata={"description": "Grant and suspend only; leave out for open-ended."})
    reason = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                              metadata={"description": "Required to suspend or revoke."})
    decision_no = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                                   metadata={"description": "The decision or document number, if any."})


class ApprovalSchema(ma.Schema):
    id = ma.fields.String()
    action = ma.fields.String()
    stage = ma.fields.String()
    effective_from = ma.fields.Date()
    effective_to = ma.fields.Date(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    decision_no = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.DateTime(allow_none=True)
    recorded_by = ma.fields.String(allow_none=True)


class ApprovalHistorySchema(ma.Schema):
    enterprise_id = ma.fields.String()
    enterprise_name = ma.fields.String()
    history = ma.fields.List(ma.fields.Nested(ApprovalSchema), metadata={"description": "Oldest first."})
    today = ma.fields.List(ma.fields.Nested(WhitelistStateSchema))


class QuotaCreateSchema(ma.Schema):
    enterprise_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    year = ma.fields.Integer(required=True, strict=True, validate=YEAR)
    issue_batch = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 99))
    category = ma.fields.String(required=True, validate=CATEGORY)
    tonnes_reo = ma.fields.Float(required=True, validate=validate.Range(0, 10_000_000, min_inclusive=False))
    issued_on = ma.fields.Date(required=True, validate=DAY)


class QuotaQuerySchema(ma.Schema):
    year = ma.fields.Integer(validate=YEAR)
    enterprise_id = ma.fields.String(validate=validate.Length(min=1, max=64))
    category = ma.fields.String(validate=CATEGORY)


class QuotaIssueSchema(ma.Schema):
    id = ma.fields.String()
    enterprise_id = ma.fields.String()
    year = ma.fields.Integer()
    issue_batch = ma.fields.Integer()
    category = ma.fields.String()
    tonnes_reo = ma.fields.Float()
    issued_on = ma.fields.Date()
    recorded_at = ma.fields.DateTime(allow_none=True)
    recorded_by = ma.fields.String(allow_none=True)


class PenaltyCreateSchema(ma.Schema):
    year = ma.fields.Integer(required=True, strict=True, validate=YEAR,
                             metadata={"description": "The year of the offence; the cut falls on the next year."})
    kind = ma.fields.String(required=True, validate=validate.OneOf(penalties.KINDS))
    category = ma.fields.String(load_default=None, allow_none=True, validate=CATEGORY,
                                metadata={"description": "Limit the cut to one category (default: every category)."})
    cut_pct = ma.fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 100),
                              metadata={"description": "Kind other only: the percentage cut."})
    decided_on = ma.fields.Date(required=True, validate=DAY)
    reason = ma.fields.String(required=True, validate=[validate.Length(min=1, max=2000), NOT_BLANK])
    decision_no = ma.fields.String(required=True, validate=[validate.Length(min=1, max=100), NOT_BLANK])


class PenaltyCutSchema(ma.Schema):
    category = ma.fields.String()
    over_t = ma.fields.Float(allow_none=True)
    cut_t = ma.fields.Float()


class PenaltyEffectSchema(ma.Schema):
    year = ma.fields.Integer(metadata={"description": "The quota year the cut falls on."})
    categories = ma.fields.List(ma.fields.Nested(PenaltyCutSchema))


class PenaltySchema(ma.Schema):
    id = ma.fields.String()
    enterprise_id = ma.fields.String()
    kind = ma.fields.String()
    year = ma.fields.Integer()
    category = ma.fields.String(allow_none=True)
    cut_pct = ma.fields.Float(allow_none=True)
    decided_on = ma.fields.Date()
    decision_no = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.DateTime(allow_none=True)
    recorded_by = ma.fields.String(allow_none=True)
    effect = ma.fields.Nested(PenaltyEffectSchema)


ENTERPRISE_CREATE_EXAMPLE = {"name": "Eastern Sea Rare Earth Separation", "uscc": "91320000FAKE00996P",
                             "province": "Jiangsu", "roles": ["separator"], "city": "Lianyungang",
                             "location": {"lat": 34.6, "lon": 119.2}}
APPROVAL_EXAMPLE = {"action": "suspend", "stage": "separation", "effective_from": "2025-03-01",
                    "reason": "Discharge permit lapsed; suspended until renewed.", "decision_no": "MIIT-2025-017"}
QUOTA_EXAMPLE = {"enterprise_id": "ENT-BPS", "year": 2026, "issue_batch": 1, "category": "separation",
                 "tonnes_reo": 90000, "issued_on": "2026-02-20"}
PENALTY_EXAMPLE = {"year": 2025, "kind": "over_quota", "decided_on": "2026-01-15", "decision_no": "MIIT-PEN-2026-003",
                   "reason": "Produced beyond the 2025 separation quota."}
