"""The batches an enterprise holds, as listed to its clerk."""
import marshmallow as ma

from inspector.codes.batch_code import ALPHABET



class HeldBatchQuery(ma.Schema):
    enterprise_id = ma.fields.String(validate=ma.validate.Length(min=1, max=40), metadata={
        "description": "Supervisors and administrators: whose batches. An enterprise sees only its own."})
    stage = ma.fields.String(validate=ma.validate.OneOf(("ore", "compound", "metal", "magnet")))
    status = ma.fields.String(validate=ma.validate.Length(min=1, max=20),
                              metadata={"description": "Only batches in this status (e.g. active)."})
    code_prefix = ma.fields.String(validate=ma.validate.Regexp(rf"^[{ALPHABET}]{{1,11}}$"),
                                   metadata={"description": "Codes beginning with this (upper case)."})
    after = ma.fields.String(validate=ma.validate.Length(min=1, max=40),
                             metadata={"description": "The next_after of the previous page."})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class HeldBatchSchema(ma.Schema):
    code = ma.fields.String(attribute="_id")
    stage = ma.fields.String()
    product_type = ma.fields.String()
    status = ma.fields.String()
    mass_kg = ma.fields.Float()
    remaining_kg = ma.fields.Float()
    reo_pct = ma.fields.Float(allow_none=True)
    producer_id = ma.fields.String()
    holder_id = ma.fields.String()
    quota_category = ma.fields.String(allow_none=True)
    produced_on = ma.fields.Date(metadata={"description": "The China-time date the batch was produced."})


class HeldBatchPageSchema(ma.Schema):
    enterprise_id = ma.fields.String()
    batches = ma.fields.List(ma.fields.Nested(HeldBatchSchema))
    next_after = ma.fields.String(allow_none=True, metadata={"description": "Pass as after for the next page; null "
                                                                           "on the last one."})
