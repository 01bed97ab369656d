"""Marshmallow schemas for inspection tasks."""
import marshmallow as ma
from marshmallow import validate

from .scans import SiteSchema, storable_time

ORIGINS = ("recall", "risk", "finding", "batches")
CODE = validate.Length(min=1, max=64)


class OriginSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(ORIGINS), metadata={
        "description": "recall: ref is the source batch (one task per holder of an active reached batch); risk: ref "
                       "is an enterprise of the ranking (its active batches); finding: ref is a finding id; batches: "
                       "ref is the enterprise to visit and batch_codes the batches."})
    ref = ma.fields.String(required=True, validate=CODE)
    batch_codes = ma.fields.List(ma.fields.String(validate=CODE), validate=validate.Length(max=500), load_default=None)
    min_taint_pct = ma.fields.Float(load_default=None, validate=validate.Range(0, 100))


class TaskCreateSchema(ma.Schema):
    origin = ma.fields.Nested(OriginSchema, required=True)
    title = ma.fields.String(load_default=None, validate=validate.Length(max=200))
    notes = ma.fields.String(load_default=None, validate=validate.Length(max=4000))
    site = ma.fields.Nested(SiteSchema, load_default=None)
    due_at = ma.fields.AwareDateTime(load_default=None, validate=storable_time)
    assignees = ma.fields.List(ma.fields.String(validate=validate.Length(max=64)), validate=validate.Length(max=20),
                               load_default=list, metadata={"description": "Inspectors' usernames."})
    pool_province = ma.fields.String(load_default=None, validate=validate.Length(max=40), metadata={
        "description": "A province's pool: every inspector sees the task until one is assigned."})
    repeat_every_days = ma.fields.Integer(load_default=None, validate=validate.Range(1, 366), metadata={
        "description": "A recurring round (7 for weekly): when it is done, the next one is made."})


class TaskChangeSchema(ma.Schema):
    title = ma.fields.String(validate=validate.Length(max=200))
    notes = ma.fields.String(allow_none=True, validate=validate.Length(max=4000))
    due_at = ma.fields.AwareDateTime(validate=storable_time)
    assignees = ma.fields.List(ma.fields.String(validate=validate.Length(max=64)), validate=validate.Length(max=20))
    pool_province = ma.fields.String(allow_none=True, validate=validate.Length(max=40))
    status = ma.fields.String(validate=validate.OneOf(("open", "cancelled")))
    repeat_every_days = ma.fields.Integer(allow_none=True, validate=validate.Range(1, 366))


class TaskListQuerySchema(ma.Schema):
    status = ma.fields.List(ma.fields.String(validate=validate.OneOf(("open", "done", "cancelled"))),
                            load_default=None)
    overdue = ma.fields.Boolean(load_default=None)
    province = ma.fields.String(load_default=None, validate=validate.Length(max=40))
    enterprise_id = ma.fields.String(load_default=None, validate=CODE)
    assignee_id = ma.fields.String(load_default=None, validate=CODE)
    origin_ref = ma.fields.String(load_default=None, validate=CODE, metadata={
        "description": "The tasks made from this recall source batch, finding or risk-ranking enterprise."})


class TaskItemSchema(ma.Schema):
    batch_code = ma.fields.String()
    stage = ma.fields.String()
    product_type = ma.fields.String()
    holder_id = ma.fields.String()
    remaining_kg = ma.fields.Float()
    status = ma.fields.String(metadata={"description": "open, or done once scanned or cited by a finding."})
    scan_ids = ma.fields.List(ma.fields.String())
    finding_ids = ma.fields.List(ma.fields.String())
    done_at = ma.fields.DateTime(allow_none=True)
    done_by = ma.fields.String(allow_none=True)


class ProgressSchema(ma.Schema):
    total = ma.fields.Integer()
    done = ma.fields.Integer()
    open = ma.fields.Integer()
    overdue = ma.fields.Boolean()


class TaskSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    notes = ma.fields.String(allow_none=True)
    origin = ma.fields.Dict()
    enterprise_id = ma.fields.String()
    enterprise_name = ma.fields.String(allow_none=True)
    province = ma.fields.String(allow_none=True)
    site = ma.fields.Dict(allow_none=True)
    location = ma.fields.Dict(allow_none=True)
    due_at = ma.fields.DateTime()
    assignees = ma.fields.List(ma.fields.String(), metadata={"description": "Inspectors' user ids."})
    pool = ma.fields.Boolean()
    pool_province = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(TaskItemSchema))
    finding_ids = ma.fields.List(ma.fields.String(), metadata={"description": "What the task found."})
    repeat_every_days = ma.fields.Integer(allow_none=True)
    previous_id = ma.fields.String(allow_none=True)
    progress = ma.fields.Nested(ProgressSchema)
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    done_at = ma.fields.DateTime(allow_none=True)
    claimed_by = ma.fields.String(allow_none=True, metadata={"description": "The inspector who took a pool task."})
    claimed_at = ma.fields.DateTime(allow_none=True)


class TaskBatchSchema(ma.Schema):
    tasks = ma.fields.List(ma.fields.Nested(TaskSchema))


class StatusCountsSchema(ma.Schema):
    open = ma.fields.Integer()
    done = ma.fields.Integer()
    cancelled = ma.fields.Integer()


class ProvinceStatsSchema(StatusCountsSchema):
    province = ma.fields.String(allow_none=True)
    total = ma.fields.Integer()
    overdue = ma.fields.Integer()
    items = ma.fields.Integer()
    items_done = ma.fields.Integer()
    findings = ma.fields.Integer()


class TaskStatsSchema(ma.Schema):
    total = ma.fields.Integer()
    by_status = ma.fields.Nested(StatusCountsSchema)
    overdue = ma.fields.Integer(metadata={"description": "Open tasks past their due date."})
    items = ma.fields.Integer(metadata={"description": "Batches to check, over every matching task."})
    items_done = ma.fields.Integer()
    findings = ma.fields.Integer(metadata={"description": "Findings the tasks produced."})
    provinces = ma.fields.List(ma.fields.Nested(ProvinceStatsSchema))
