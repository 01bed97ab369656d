"""What an enterprise holds: its batches by code, page by page (index batches holder_code)."""
import re

from inspector.clock import china_date

FIELDS = ("stage", "product_type", "status", "mass_kg", "remaining_kg", "reo_pct", "producer_id", "holder_id",
          "quota_category", "produced_on")


def held(db, holder_id, limit, stage=None, status=None, code_prefix=None, after=None):
    """The holder's batches in code order after `after`, with produced_on as a China-time date."""
    query = {"holder_id": holder_id}
    if status:
        query["status"] = status
    if stage:
        query["stage"] = stage
    if code_prefix or after:
        query["_id"] = {}
        if after:
            query["_id"]["$gt"] = after
        if code_prefix:
            query["_id"]["$regex"] = "^" + re.escape(code_prefix)
    found = db.batches.find(query, {name: 1 for name in FIELDS}).sort("_id", 1).limit(limit)
    return [{**b, "produced_on": china_date(b.get("produced_on"))} for b in found]
