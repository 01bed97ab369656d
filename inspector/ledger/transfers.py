"""Two-sided transfers: a shipment in transit until its receipt agrees, and receipts no shipment backs (claims).

Only the holder's shipment moves a batch; the receiver's receipt confirms it when the two agree on the batch, the
parties, the document number and the mass (within book.MASS_TOLERANCE_KG). Until then the batch is in transit (the
batch's `in_transit`), and a receipt no agreeing shipment backs is an open claim in `transfer_claims` that moves
nothing; a later agreeing shipment from the holder settles it and moves the batch. Claims carry the submission's id, so a
rollback deletes them. The reads here are served by the indexes on batches (in_transit.*) and transfer_claims.
"""
import uuid
from datetime import datetime, timezone

OPEN, MATCHED = "open", "matched"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_CLAIM_FIELDS = {"_id": 1, "batch_code": 1, "claimant_id": 1, "from_id": 1, "holder_id": 1, "doc_no": 1,
                 "mass_kg": 1, "received_on": 1, "recorded_at": 1, "event_id": 1, "state": 1}


def transit(movement):
    """What a batch carries while its shipment waits for the receiver's receipt."""
    return {"movement_id": movement["_id"], "from_id": movement["from_id"], "to_id": movement["to_id"],
            "doc_no": movement["doc_no"], "mass_kg": movement["mass_kg"], "since": movement["date"]}


def new_claim(ev, held, submission_id, now):
    """An open claim: the receipt ev of held that no shipment backs."""
    return {"_id": f"TC-{uuid.uuid4().hex[:16]}", "batch_code": held.code, "claimant_id": ev.enterprise_id,
            "from_id": ev.from_id, "holder_id": held.holder_id, "doc_no": ev.doc_no, "mass_kg": ev.mass_kg,
            "received_on": ev.occurred_at, "period": ev.period, "recorded_at": now, "event_id": ev.event_id,
            "submission_id": submission_id, "state": OPEN,
            "parties": sorted({ev.enterprise_id, ev.from_id, held.holder_id})}


def open_claims_on(db, codes):
    """The open claims on these batches (index transfer_claims batch_state)."""
    return list(db.transfer_claims.find({"batch_code": {"$in": sorted(codes)}, "state": OPEN}, _CLAIM_FIELDS))


def claims(db, enterprise_id=None, limit=200):
    """Open claims, newest first; an enterprise's are those it made, is named in, or is claimed from."""
    query = {"state": OPEN}
    if enterprise_id:
        query["parties"] = enterprise_id  # index transfer_claims parties_state_recorded_at
    return list(db.transfer_claims.find(query, _CLAIM_FIELDS).sort("recorded_at", -1).limit(limit))


def in_transit(db, enterprise_id=None, limit=200):
    """Batches shipped and not yet received, oldest first; an enterprise's are those it sent or is sent."""
    fields = {"_id": 1, "in_transit": 1, "mass_kg": 1, "remaining_kg": 1, "holder_id": 1}
    if not enterprise_id:  # index batches in_transit_since
        found = db.batches.find({"in_transit.since": {"$gt": _EPOCH}}, fields).sort("in_transit.since", 1)
        return list(found.limit(limit))
    out = []
    for side in ("from_id", "to_id"):  # indexes batches in_transit_from / in_transit_to
        out += db.batches.find({f"in_transit.{side}": enterprise_id}, fields).sort("in_transit.since", 1).limit(limit)
    out.sort(key=lambda b: (b["in_transit"]["since"], b["_id"]))
    return out[:limit]


def overdue(db, before):
    """Batches in transit since before the given moment (index batches in_transit_since)."""
    return list(db.batches.find({"in_transit.since": {"$lt": before}}, {"_id": 1, "in_transit": 1}))


def claims_since(db, since):
    """Open claims recorded since a moment, for the risk ranking (index transfer_claims state_recorded_at)."""
    return list(db.transfer_claims.find({"state": OPEN, "recorded_at": {"$gte": since}},
                                        {"batch_code": 1, "claimant_id": 1, "period": 1}))


def really_held(db, code, enterprise_id):
    """True when the enterprise produced or holds the batch, or held it through an accepted movement."""
    batch = db.batches.find_one({"_id": code}, {"producer_id": 1, "holder_id": 1})
    if not batch:
        return False
    if enterprise_id in (batch.get("producer_id"), batch.get("holder_id")):
        return True
    # A sender held the batch; a receiver only once its receipt agreed (index movements batch_date).
    moved = db.movements.find_one({"batch_code": code, "$or": [
        {"from_id": enterprise_id}, {"to_id": enterprise_id, "awaiting_receipt": {"$ne": True}}]}, {"_id": 1})
    return moved is not None

