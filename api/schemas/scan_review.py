"""Marshmallow schemas for ranking inspectors' scans for review."""
import marshmallow as ma
from marshmallow import validate


class ScanReviewQuerySchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(1, 500),
                              metadata={"description": "How many inspectors to list, most counterparts first."})
    province = ma.fields.String(validate=validate.Length(min=1, max=100),
                                metadata={"description": "Only scans found in this province.", "example": "Jiangxi"})


class InspectorReviewSchema(ma.Schema):
    inspector_id = ma.fields.String(allow_none=True)
    inspector = ma.fields.String(allow_none=True, metadata={"description": "The username."})
    device_ids = ma.fields.List(ma.fields.String(), metadata={"description": "Devices the counted scans came from."})
    clone_hits = ma.fields.Integer(metadata={"description": "cloned_code hits this inspector's scans are a side of."})
    counterparts = ma.fields.Integer(metadata={
        "description": "Different inspectors on the other side of those hits: one forger clashes with many."})
    counterpart_ids = ma.fields.List(ma.fields.String())
    time_disagreements = ma.fields.Integer(metadata={
        "description": "Scans whose time disagreed with the wait their phone measured (time_check disagrees)."})
    scan_ids = ma.fields.List(ma.fields.String(), metadata={"description": "The scans to open, up to 20."})


class ScanReviewSchema(ma.Schema):
    as_of = ma.fields.DateTime()
    since = ma.fields.DateTime()
    window_days = ma.fields.Integer(metadata={"description": "SCAN_REVIEW_DAYS: scans received this recently count."})
    items = ma.fields.List(ma.fields.Nested(InspectorReviewSchema))


SCAN_REVIEW_EXAMPLE = {
    "as_of": "2026-11-20T10:00:00+08:00", "since": "2026-08-22T10:00:00+08:00", "window_days": 90,
    "items": [{"inspector_id": "3f1c0d4e-0000-4000-8000-000000000001", "inspector": "inspector7",
               "device_ids": ["phone-7"], "clone_hits": 3, "counterparts": 3,
               "counterpart_ids": ["3f1c0d4e-0000-4000-8000-000000000002", "3f1c0d4e-0000-4000-8000-000000000003",
                                   "3f1c0d4e-0000-4000-8000-000000000004"],
               "time_disagreements": 1, "scan_ids": ["0b5c1a8e-8f77-4c4e-9a43-4f4c5b7e2d11"]}],
}
