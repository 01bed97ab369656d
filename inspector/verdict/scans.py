"""Recording scans: judge the code on today's data, catch clones, store the verdict as it was, idempotently."""
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from inspector.errors import DomainError
from inspector.audit import promises
from inspector.verdict import rules
from inspector.codes.labels import read_code
from inspector.verdict.reasons import status_of
from inspector.verdict.judge import ScanContext, judge



class ScanConflict(DomainError):
    """The client_id was already used for a different scan."""

    kind, code = "conflict", "client_id_reused"

    def __init__(self, client_id):
        super().__init__("This client_id was already used for a different scan; make a new one.")


@dataclass
class ScanRequest:
    """One scan as the device sent it."""

    client_id: str
    code: str
    scanned_at: datetime
    site: dict | None = None
    location: dict | None = None
    observed_mass_kg: float | None = None
    holder_enterprise_id: str | None = None
    photo_codes: list | None = None
    photo_sha256: str | None = None

    def fingerprint(self):
        """A digest of everything the device said, so a replay can be told from a different scan."""
        body = {"code": self.code, "scanned_at": self.scanned_at.isoformat(), "site": self.site,
                "location": self.location, "observed_mass_kg": self.observed_mass_kg,
                "holder_enterprise_id": self.holder_enterprise_id, "photo_sha256": self.photo_sha256}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def record_scan(db, principal, req: ScanRequest, settings, now):
    """Judge and store a scan; return (stored scan, created). Raise ScanConflict on a reused client_id."""
    label = read_code(req.code)
    ctx = ScanContext(scanned_at=req.scanned_at, site=req.site, holder_enterprise_id=req.holder_enterprise_id,
                      observed_mass_kg=req.observed_mass_kg, location=req.location)
    judgement = judge(db, label, ctx, settings, now)
    reasons = list(judgement.reasons)
    if judgement.batch_code:
        cloned = rules.cloned_code(judgement.sightings, req.scanned_at, req.location, settings.clone_speed_kmh)
        if cloned:
            reasons.append(cloned)
    scan = {
        "_id": str(uuid.uuid4()),
        "client_id": req.client_id,
        "inspector_id": principal["user_id"],
        "inspector": principal["username"],
        "device_id": principal.get("device_id"),
        "code": req.code[:200],
        "intake": {"kind": label.kind, "batch_code": label.batch_code, "gtin": label.gtin, "lot": label.lot,
                   "serial": label.serial},
        "batch_code": judgement.batch_code,
        "scanned_at": req.scanned_at,
        "received_at": now,
        "site": req.site,
        "location": req.location,
        "observed_mass_kg": req.observed_mass_kg,
        "holder_enterprise_id": req.holder_enterprise_id,
        "codes": req.photo_codes or [],
        "photo_sha256": req.photo_sha256,
        "verdict": {"status": status_of(reasons), "reasons": reasons},
        "batch": judgement.batch,
        "provenance": judgement.provenance,
        "quota": judgement.quota,
        "fingerprint": req.fingerprint(),
        "cloned_with": [],
    }
    cloned = next((r for r in reasons if r["code"] == "cloned_code"), None)
    if cloned:
        scan["cloned_with"] = [cloned["evidence"]["other_scan_id"]]
    # The scan is the commit point: it carries its audit entry as a promise until the link and the entry are written,
    # so a retry after an interruption finishes the job instead of finding a scan with no trace in the audit log.
    scan["audit_pending"] = promises.pending(principal, "scan.create",
                                          {"scan_id": scan["_id"], "batch_code": scan["batch_code"]},
                                          {"status": scan["verdict"]["status"], "reasons": [r["code"] for r in reasons]},
                                          now=now)
    with promises.exclusive("scan", principal["user_id"], req.client_id):
        try:
            db.scans.insert_one(scan)
        except DuplicateKeyError:
            stored = db.scans.find_one({"inspector_id": principal["user_id"], "client_id": req.client_id})
            if stored is None or stored["fingerprint"] != scan["fingerprint"]:
                raise ScanConflict(req.client_id) from None
            finish(db, stored)
            return stored, False
        finish(db, scan)
    return scan, True


def finish(db, scan):
    """Link the clone both ways and write the promised audit entry (again safely after an interrupted try)."""
    promise = scan.pop("audit_pending", None)
    if not promise:
        return
    for other in scan["cloned_with"][:1]:
        db.scans.update_one({"_id": other}, {"$addToSet": {"cloned_with": scan["_id"]}})
    promises.settle(db, "scans", scan["_id"], promise)


def _scope(principal):
    """Inspectors see their own scans; supervisors and administrators all of them."""
    return {"inspector_id": principal["user_id"]} if principal["role"] == "inspector" else {}


def list_scans(db, principal, batch_code, page, page_size):
    """One page of the scans the principal may see, newest first, and how many there are in all."""
    filters = _scope(principal)
    if batch_code:
        filters["batch_code"] = batch_code
    # Served by scans (inspector_id, received_at), (batch_code, received_at) and (received_at).
    cursor = db.scans.find(filters, {"provenance": 0}).sort("received_at", -1)
    # An unfiltered count comes from the collection's metadata instead of a read of every scan.
    count = db.scans.count_documents(filters) if filters else db.scans.estimated_document_count()
    return list(cursor.skip((page - 1) * page_size).limit(page_size)), count


def find_scan(db, principal, scan_id):
    """The scan with this id if the principal may see it, else None."""
    return db.scans.find_one({"_id": scan_id, **_scope(principal)})
