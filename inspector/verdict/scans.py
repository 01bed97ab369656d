"""Recording scans: check the scan's time, judge the code on today's data, catch clones, store it, idempotently."""
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from inspector.notifications import events as notifications
from inspector.accounts import scope
from inspector.errors import DomainError
from inspector.audit import promises
from inspector.verdict import rules
from inspector.codes.labels import read_code
from inspector.verdict.reasons import status_of
from inspector.verdict.judge import ScanContext, judge
from inspector.verdict import scan_time

# Why the clone check could not be done (or trusted) for a scan: the verdict says so instead of passing in silence.
CHECKS_NOT_DONE = {
    "no_location": "The phone gave no location, so this scan could not be checked for a cloned code.",
    "no_accuracy": "The phone gave a location without its accuracy, so this scan could not be checked for a cloned "
                   "code.",
    "time_disagrees": "The scan's time disagrees with how long the phone says it waited to be sent, so it could not "
                      "be checked for a cloned code: check the phone's clock.",
    "time_unverified": "No clone was found, but the scan's time could not be checked against how long it waited "
                       "offline, so that rests on the phone's clock alone.",
}


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
    queued_ms: int | None = None
    queue_interrupted: bool = False
    shown_status: str | None = None  # what the phone showed while the scan waited; not part of what it saw

    def fingerprint(self):
        """A digest of what the device saw, so a replay can be told from a different scan (a retry waited longer)."""
        body = {"code": self.code, "scanned_at": self.scanned_at.isoformat(), "site": self.site,
                "location": self.location, "observed_mass_kg": self.observed_mass_kg,
                "holder_enterprise_id": self.holder_enterprise_id, "photo_sha256": self.photo_sha256}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _clone_check(judgement, req, seen_by, check, settings):
    """The cloned_code reason if found, and why the check was not done (or not trusted) if so."""
    if not req.location:
        return None, "no_location"
    if not rules.placed(req.location):
        return None, "no_accuracy"
    if check["status"] == scan_time.DISAGREES:
        return None, "time_disagrees"
    scan = {"scanned_at": req.scanned_at, "location": req.location, **seen_by}
    cloned = rules.cloned_code(judgement.sightings, scan, settings.clone_speed_kmh)
    return cloned, "time_unverified" if not cloned and check["status"] == scan_time.UNVERIFIED else None


def record_scan(db, principal, req: ScanRequest, settings, now):
    """Judge and store a scan; return (stored scan, created, the open tasks naming its batch or None if not read).
    Raise ScanConflict on a reused client_id, and ScanTimeRefused on a time ahead of the server, older than an
    offline wait, or before the batch existed."""
    scan_time.check_window(req.scanned_at, now, settings)
    label = read_code(req.code)
    ctx = ScanContext(scanned_at=req.scanned_at, site=req.site, holder_enterprise_id=req.holder_enterprise_id,
                      observed_mass_kg=req.observed_mass_kg, location=req.location)
    # Only an inspector's scan completes task items: theirs are read in the same round trip as the batch.
    judgement = judge(db, label, ctx, settings, now, tasks=principal.get("role") == "inspector")
    scan_time.check_batch_existed(req.scanned_at, judgement.existed_from)
    check = scan_time.time_check(req.scanned_at, now, req.queued_ms, req.queue_interrupted, settings)
    seen_by = {"inspector_id": principal["user_id"], "inspector": principal["username"],
               "device_id": principal.get("device_id")}
    reasons, not_done = list(judgement.reasons), []
    if judgement.batch_code:
        cloned, why = _clone_check(judgement, req, seen_by, check, settings)
        if cloned:
            reasons.append(cloned)
        if why:
            not_done.append({"check": "cloned_code", "reason": why, "message": CHECKS_NOT_DONE[why]})
    scan = {
        "_id": str(uuid.uuid4()),
        "client_id": req.client_id,
        **seen_by,
        "code": req.code[:200],
        "intake": {"kind": label.kind, "batch_code": label.batch_code, "gtin": label.gtin, "lot": label.lot,
                   "serial": label.serial},
        "batch_code": judgement.batch_code,
        "scanned_at": req.scanned_at,
        "received_at": now,
        "queued_ms": req.queued_ms,
        "queue_interrupted": req.queue_interrupted,
        "shown_status": req.shown_status,
        "time_check": check,
        "province": judgement.province,
        "site": req.site,
        "location": req.location,
        "observed_mass_kg": req.observed_mass_kg,
        "holder_enterprise_id": req.holder_enterprise_id,
        "codes": req.photo_codes or [],
        "photo_sha256": req.photo_sha256,
        "verdict": {"status": status_of(reasons), "reasons": reasons, "checks_not_done": not_done},
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
            return stored, False, judgement.tasks
        finish(db, scan)
    _tell_if_changed(db, scan, now)
    return scan, True, judgement.tasks


def _tell_if_changed(db, scan, now):
    """A queued scan the server judges otherwise than the phone showed: the inspector's inbox says so."""
    shown, judged = scan.get("shown_status"), scan["verdict"]["status"]
    if shown and shown != judged:
        notifications.notify_quietly(db, {
            "key": f"scan:{scan['_id']}:differs", "kind": "scan_verdict_differs", "at": now,
            "province": scan.get("province"), "link": {"type": "scan", "id": scan["client_id"]},
            "inspector_ids": [scan["inspector_id"]],
            "params": {"code": scan.get("batch_code") or scan["code"][:40], "shown": shown, "verdict": judged}})


def finish(db, scan):
    """Link the clone both ways and write the promised audit entry (again safely after an interrupted try)."""
    promise = scan.pop("audit_pending", None)
    if not promise:
        return
    for other in scan["cloned_with"][:1]:
        db.scans.update_one({"_id": other}, {"$addToSet": {"cloned_with": scan["_id"]}})
    promises.settle(db, "scans", scan["_id"], promise)


def _scope(principal):
    """Inspectors see their own scans; supervisors those made in their provinces (all if unlimited); admins all."""
    if principal["role"] == "inspector":
        return {"inspector_id": principal["user_id"]}
    provinces = scope.provinces_of(principal)
    return {} if provinces is None else {"province": {"$in": provinces}}


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
