"""Marshmallow schemas and OpenAPI examples for reporting compliance and the risk ranking."""
import marshmallow as ma
from marshmallow import validate

from inspector.oversight.reporting import MAX_MONTHS, STATUSES
from inspector.oversight.risk import FACTORS

PROVINCE = ma.fields.String(validate=validate.Length(min=1, max=100),
                            metadata={"description": "Only enterprises in this province.", "example": "Jiangxi"})


class ComplianceQuerySchema(ma.Schema):
    period = ma.fields.String(metadata={
        "description": "The month reported on, YYYY-MM, from 2000 to the current one. Default: last month, the one "
                       "being entered now.", "example": "2026-10", "pattern": r"^\d{4}-\d{2}$"})
    status = ma.fields.String(validate=validate.OneOf(STATUSES),
                              metadata={"description": "Only enterprises in this status."})
    province = PROVINCE


class HistoryQuerySchema(ma.Schema):
    months = ma.fields.Integer(load_default=12, validate=validate.Range(1, MAX_MONTHS),
                               metadata={"description": "How many periods back from last month."})


class RiskQuerySchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(1, 500),
                              metadata={"description": "How many enterprises to list, highest score first."})
    province = PROVINCE


class StandingSchema(ma.Schema):
    period = ma.fields.String(metadata={"example": "2026-10"})
    status = ma.fields.String(metadata={"description": "on_time, late, missing (deadline passed, nothing entered) or "
                                                       "open (deadline still ahead, nothing entered yet)."})
    deadline = ma.fields.DateTime(metadata={"description": "The last moment a report counts as on time, China time."})
    submitted_at = ma.fields.DateTime(allow_none=True, metadata={"description": "First submission for the period."})
    last_submitted_at = ma.fields.DateTime(allow_none=True)
    submissions = ma.fields.Integer()
    late_by_hours = ma.fields.Float(allow_none=True, metadata={
        "description": "Late: submitted this long after the deadline. Missing: overdue this long so far."})
    late_by_days = ma.fields.Integer(allow_none=True, metadata={"description": "Days begun after the deadline."})


class ComplianceRowSchema(StandingSchema):
    enterprise_id = ma.fields.String(metadata={"example": "ENT-LLT"})
    enterprise_name = ma.fields.String()
    province = ma.fields.String()
    roles = ma.fields.List(ma.fields.String())


class ComplianceSchema(ma.Schema):
    period = ma.fields.String()
    deadline = ma.fields.DateTime()
    deadline_rule = ma.fields.String()
    deadline_passed = ma.fields.Boolean()
    as_of = ma.fields.DateTime()
    total = ma.fields.Integer(metadata={"description": "Enterprises listed, after the filters."})
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "Enterprises per status within your scope and province, before the status filter."})
    items = ma.fields.List(ma.fields.Nested(ComplianceRowSchema),
                           metadata={"description": "Worst first: missing, late (latest first), open, on time."})


class HistorySchema(ma.Schema):
    enterprise_id = ma.fields.String()
    enterprise_name = ma.fields.String()
    province = ma.fields.String()
    deadline_rule = ma.fields.String()
    as_of = ma.fields.DateTime()
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    periods = ma.fields.List(ma.fields.Nested(StandingSchema), metadata={"description": "Newest first."})


class FactorSchema(ma.Schema):
    factor = ma.fields.String(metadata={"description": "One of: " + ", ".join(f.key for f in FACTORS)})
    label = ma.fields.String()
    count = ma.fields.Integer()
    weight = ma.fields.Integer(metadata={"description": "Points per occurrence."})
    points = ma.fields.Integer(metadata={"description": "count × weight."})
    periods = ma.fields.List(ma.fields.String(), metadata={"description": "The months behind reports and flags."})
    batches = ma.fields.List(ma.fields.String(), metadata={"description": "The batches behind a transfer factor."})


class TopFactorSchema(ma.Schema):
    factor = ma.fields.String()
    text = ma.fields.String()


class RiskRowSchema(ma.Schema):
    rank = ma.fields.Integer(metadata={"description": "Equal scores share a rank."})
    enterprise_id = ma.fields.String()
    enterprise_name = ma.fields.String()
    province = ma.fields.String()
    roles = ma.fields.List(ma.fields.String())
    score = ma.fields.Integer()
    top_factor = ma.fields.Nested(TopFactorSchema, allow_none=True,
                                  metadata={"description": "What drove the score most, in words; null at 0."})
    factors = ma.fields.List(ma.fields.Nested(FactorSchema), metadata={"description": "Most points first."})


class WeightSchema(ma.Schema):
    factor = ma.fields.String()
    label = ma.fields.String()
    weight = ma.fields.Integer()


class RiskSchema(ma.Schema):
    as_of = ma.fields.DateTime()
    window_days = ma.fields.Integer(metadata={"description": "RISK_WINDOW_DAYS: scans, findings and flags counted."})
    since = ma.fields.DateTime()
    due_periods = ma.fields.List(ma.fields.String(), metadata={"description": "The due months late and missing "
                                                                              "reports are counted over."})
    weights = ma.fields.List(ma.fields.Nested(WeightSchema))
    total = ma.fields.Integer(metadata={"description": "Enterprises ranked within your scope, before the limit."})
    items = ma.fields.List(ma.fields.Nested(RiskRowSchema))

_RULE = "by the end of day 10 of the following month, Asia/Shanghai time (day 10 itself counts)"
COMPLIANCE_EXAMPLE = {
    "period": "2026-10", "deadline": "2026-11-10T23:59:59+08:00", "deadline_rule": _RULE, "deadline_passed": True,
    "as_of": "2026-11-22T12:07:34+08:00", "total": 3, "counts": {"missing": 1, "late": 1, "open": 0, "on_time": 30},
    "items": [
        {"enterprise_id": "ENT-LLT", "enterprise_name": "Late Ledger Trading", "province": "Jiangxi",
         "roles": ["trader"], "period": "2026-10", "status": "missing", "deadline": "2026-11-10T23:59:59+08:00",
         "submitted_at": None, "last_submitted_at": None, "submissions": 0, "late_by_hours": 276.13,
         "late_by_days": 12},
        {"enterprise_id": "ENT-EHM", "enterprise_name": "Eleventh Hour Magnetics", "province": "Anhui",
         "roles": ["magnet_maker"], "period": "2026-10", "status": "late", "deadline": "2026-11-10T23:59:59+08:00",
         "submitted_at": "2026-11-11T09:00:00+08:00", "last_submitted_at": "2026-11-11T09:00:00+08:00",
         "submissions": 1, "late_by_hours": 9.0, "late_by_days": 1},
        {"enterprise_id": "ENT-OTA", "enterprise_name": "On the Tenth Alloys", "province": "Hubei",
         "roles": ["metal_smelter"], "period": "2026-10", "status": "on_time", "deadline": "2026-11-10T23:59:59+08:00",
         "submitted_at": "2026-11-10T23:30:00+08:00", "last_submitted_at": "2026-11-10T23:30:00+08:00",
         "submissions": 1, "late_by_hours": None, "late_by_days": None},
    ],
}
HISTORY_EXAMPLE = {
    "enterprise_id": "ENT-TMS", "enterprise_name": "Tardy Metals Smelting", "province": "Hunan",
    "deadline_rule": _RULE, "as_of": "2026-11-22T12:07:34+08:00",
    "counts": {"missing": 0, "late": 1, "open": 0, "on_time": 2},
    "periods": [
        {"period": "2026-10", "status": "on_time", "deadline": "2026-11-10T23:59:59+08:00",
         "submitted_at": "2026-11-05T11:00:00+08:00", "last_submitted_at": "2026-11-05T11:00:00+08:00",
         "submissions": 1, "late_by_hours": None, "late_by_days": None},
        {"period": "2026-09", "status": "on_time", "deadline": "2026-10-10T23:59:59+08:00",
         "submitted_at": "2026-10-07T13:00:00+08:00", "last_submitted_at": "2026-10-07T13:00:00+08:00",
         "submissions": 1, "late_by_hours": None, "late_by_days": None},
        {"period": "2026-08", "status": "late", "deadline": "2026-09-10T23:59:59+08:00",
         "submitted_at": "2026-09-14T10:00:00+08:00", "last_submitted_at": "2026-09-14T10:00:00+08:00",
         "submissions": 1, "late_by_hours": 82.0, "late_by_days": 4},
    ],
}
RISK_EXAMPLE = {
    "as_of": "2026-11-22T12:07:34+08:00", "window_days": 90, "since": "2026-08-24T12:07:34+08:00",
    "due_periods": ["2026-10", "2026-09", "2026-08", "2026-07", "2026-06", "2026-05", "2026-04", "2026-03",
                    "2026-02", "2026-01", "2025-12", "2025-11"],
    "weights": [{"factor": f.key, "label": f.label, "weight": f.weight} for f in FACTORS],
    "total": 32,
    "items": [
        {"rank": 1, "enterprise_id": "ENT-GMT", "enterprise_name": "Ganzhou Market Traders", "province": "Jiangxi",
         "roles": ["trader"], "score": 31,
         "top_factor": {"factor": "confirmed_findings", "text": "5 confirmed findings in the last 90 days: 25 points."},
         "factors": [{"factor": "confirmed_findings", "label": "Confirmed findings", "count": 5, "weight": 5,
                      "points": 25},
                     {"factor": "fail_verdicts", "label": "Failing scans", "count": 2, "weight": 3, "points": 6}]},
        {"rank": 2, "enterprise_id": "ENT-LLT", "enterprise_name": "Late Ledger Trading", "province": "Jiangxi",
         "roles": ["trader"], "score": 9,
         "top_factor": {"factor": "confirmed_findings", "text": "1 confirmed finding in the last 90 days: 5 points."},
         "factors": [{"factor": "confirmed_findings", "label": "Confirmed findings", "count": 1, "weight": 5,
                      "points": 5},
                     {"factor": "missing_reports", "label": "Missing monthly reports", "count": 1, "weight": 4,
                      "points": 4, "periods": ["2026-07"]}]},
        {"rank": 3, "enterprise_id": "ENT-RHA", "enterprise_name": "Red Hill Artisanal Mining", "province": "Jiangxi",
         "roles": ["mine"], "score": 6,
         "top_factor": {"factor": "producer_not_approved",
                        "text": "1 month of production while not on the whitelist in the last 90 days (2026-10): "
                                "6 points."},
         "factors": [{"factor": "producer_not_approved", "label": "Production while not whitelisted", "count": 1,
                      "weight": 6, "points": 6, "periods": ["2026-10"]}]},
    ],
}
