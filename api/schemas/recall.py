"""Marshmallow schemas for the trace (back to the source), the recall (forward from it) and their exports."""
import marshmallow as ma
from marshmallow import validate

from inspector.oversight.recall import SORTS
from .scans import ReasonSchema

BATCH_STATUSES = ("active", "consumed", "transformed", "exported", "seized", "recalled")
EXPORT_FORMATS = ("csv", "xlsx", "geojson", "epcis")


class TraceNodeSchema(ma.Schema):
    code = ma.fields.String()
    generation = ma.fields.Integer(allow_none=True, metadata={"description": "0 for the batch traced, 1 its parents."})
    stage = ma.fields.String()
    product_type = ma.fields.String()
    producer_id = ma.fields.String()
    producer_name = ma.fields.String(allow_none=True)
    province = ma.fields.String(allow_none=True, metadata={"description": "The producer's province."})
    produced_on = ma.fields.DateTime()
    mass_kg = ma.fields.Float()
    remaining_kg = ma.fields.Float()
    status = ma.fields.String()
    holder_id = ma.fields.String()
    holder_province = ma.fields.String(allow_none=True)
    approved_on_production_date = ma.fields.Boolean(allow_none=True)
    within_quota = ma.fields.Boolean(allow_none=True)
    imported = ma.fields.Boolean()
    share_pct = ma.fields.Float(metadata={"description": "Share of the traced batch's input mass from this node."})
    failing = ma.fields.Boolean(metadata={"description": "Fails on its own facts (not only through its parents)."})
    reason_codes = ma.fields.List(ma.fields.String())


class TraceEdgeSchema(ma.Schema):
    from_ = ma.fields.String(data_key="from", attribute="from")
    to = ma.fields.String()
    mass_kg = ma.fields.Float(metadata={"description": "The mass the child drew from the parent."})


class TraceGraphSchema(ma.Schema):
    nodes = ma.fields.List(ma.fields.Nested(TraceNodeSchema))
    edges = ma.fields.List(ma.fields.Nested(TraceEdgeSchema))


class TraceSourceSchema(ma.Schema):
    code = ma.fields.String()
    generation = ma.fields.Integer(allow_none=True)
    stage = ma.fields.String()
    producer_id = ma.fields.String()
    producer_name = ma.fields.String(allow_none=True)
    province = ma.fields.String(allow_none=True)
    share_pct = ma.fields.Float()
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema))


class TraceSchema(ma.Schema):
    code = ma.fields.String()
    status = ma.fields.String(metadata={"description": "fail when any node of the lineage fails on its own facts."})
    max_depth = ma.fields.Integer()
    sources = ma.fields.List(ma.fields.Nested(TraceSourceSchema), metadata={
        "description": "Where the problem entered: the failing nodes none of whose ancestors fail."})
    failing = ma.fields.List(ma.fields.String())
    tainted_pct = ma.fields.Float(metadata={"description": "Share of the batch's mass from the sources."})
    graph = ma.fields.Nested(TraceGraphSchema)


class TraceListSchema(ma.Schema):
    finding_id = ma.fields.String(allow_none=True)
    scan_id = ma.fields.String(allow_none=True)
    traces = ma.fields.List(ma.fields.Nested(TraceSchema))


class RecallQuerySchema(ma.Schema):
    status = ma.fields.List(ma.fields.String(validate=validate.OneOf(BATCH_STATUSES)), load_default=None)
    province = ma.fields.List(ma.fields.String(validate=validate.Length(max=40)), load_default=None)
    holder_id = ma.fields.String(load_default=None, validate=validate.Length(max=64))
    min_taint_pct = ma.fields.Float(load_default=None, validate=validate.Range(0, 100))
    sort = ma.fields.String(load_default="share", validate=validate.OneOf(sorted(SORTS)))


class RecallExportQuerySchema(RecallQuerySchema):
    format = ma.fields.String(load_default="csv", validate=validate.OneOf(EXPORT_FORMATS))


class LastScanSchema(ma.Schema):
    scan_id = ma.fields.String()
    received_at = ma.fields.DateTime()
    scanned_at = ma.fields.DateTime(allow_none=True)
    site = ma.fields.Dict(allow_none=True)
    location = ma.fields.Dict(allow_none=True)
    province = ma.fields.String(allow_none=True)
    verdict = ma.fields.String(allow_none=True)


class RecallRowSchema(ma.Schema):
    code = ma.fields.String()
    generation = ma.fields.Integer(allow_none=True)
    stage = ma.fields.String()
    product_type = ma.fields.String()
    producer_id = ma.fields.String()
    producer_name = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    mass_kg = ma.fields.Float()
    remaining_kg = ma.fields.Float()
    produced_on = ma.fields.DateTime()
    taint_pct = ma.fields.Float(metadata={"description": "Share of this batch's mass that is the source's material."})
    source_kg = ma.fields.Float(metadata={"description": "Kg of the source's own mass that went into this batch."})
    source_share_pct = ma.fields.Float(metadata={"description": "source_kg as a share of the source's mass."})
    tainted_remaining_kg = ma.fields.Float(metadata={"description": "taint_pct of the remaining mass."})
    holder_id = ma.fields.String()
    holder_name = ma.fields.String(allow_none=True)
    province = ma.fields.String(allow_none=True, metadata={"description": "The holder's province."})
    city = ma.fields.String(allow_none=True)
    location = ma.fields.Dict(allow_none=True, metadata={"description": "The holder's registered location."})
    in_transit = ma.fields.Boolean()
    parent_codes = ma.fields.List(ma.fields.String())
    last_scan = ma.fields.Nested(LastScanSchema, allow_none=True)


class RecallSourceSchema(ma.Schema):
    code = ma.fields.String()
    stage = ma.fields.String()
    product_type = ma.fields.String()
    producer_id = ma.fields.String()
    producer_name = ma.fields.String(allow_none=True)
    province = ma.fields.String(allow_none=True)
    holder_id = ma.fields.String()
    status = ma.fields.String()
    mass_kg = ma.fields.Float()
    remaining_kg = ma.fields.Float()
    produced_on = ma.fields.DateTime()


class RecallSummarySchema(ma.Schema):
    batches = ma.fields.Integer()
    active = ma.fields.Integer()
    holders = ma.fields.Integer()
    provinces = ma.fields.List(ma.fields.String())
    tainted_remaining_kg = ma.fields.Float()


class RecallSchema(ma.Schema):
    source = ma.fields.Nested(RecallSourceSchema)
    max_depth = ma.fields.Integer()
    hidden = ma.fields.Integer(metadata={"description": "Reached batches outside your scope, left out."})
    summary = ma.fields.Nested(RecallSummarySchema, metadata={"description": "Over every row that matches the "
                                                                             "filters, not only this page."})
    items = ma.fields.List(ma.fields.Nested(RecallRowSchema))
