"""The life of a ledger submission in the database: its states, the claim one attempt holds, and the rollback.

Every submission is one `ledger_submissions` document, and every change of its `state` is written here::

    reject()  -> rejected           a line was refused while checking; nothing was applied (final)

    begin()   -> applying ---------- accept(): the commit point ----------> accepted
                    |                (receipt, and the ledger.submit          |
                    |                 audit entry promised with it)           |
                    | the try failed; or its claim lapsed;                    | rollback(): a stored
                    | or received before stalled_before (start-up)            | submission undone
                    v                                                         |
                 rolling_back <-----------------------------------------------+
                    |  ^
                    |  +-- a claim on the undoing that lapsed: the next claimant takes it over
                    v
                 rolled_back                    every step undone exactly once (final; markers pulled)

The claim: `owner` (a random id per attempt) and `claimed_at`, renewed by whoever holds the submission; one not
renewed for LEASE (2 minutes) is abandoned. The applying attempt renews it once per chunk (renew()) and commits
only while it still holds it, so an attempt that lost it gives up (ledger_conflict) instead of overwriting a
rollback. Undoing starts with a claim (_claim, one find_one_and_update on state and owner, so one claimant at a
time in any process); it may be taken from an attempt known to be dead (`previous_owner`: this process saw the
try fail), from a claim that lapsed or was never timed (an applying or a rolling-back one: a claimant that
stopped halfway is taken over), at start-up from one received before `stalled_before`, and, by rollback(), from
an accepted submission. The claimant renews the claim before each step that must not be done twice (_hold) and
stops as soon as another claimant has taken it over (_Lost). This process also remembers its own dead tries
(_unfinished) so that it finishes them as soon as the database is back, without waiting for the lease.

Undone exactly once: quota (`quota_usage.used_t`) and producer months (`production_periods`) are given back by
one update of their own document that is conditioned on, and adds, a `given_back: [submission id]` marker, so a
claimant taking over skips what the first one did; every other step restores a guarded pre-image from
`ledger_undo` (only while the document still holds what this submission wrote) or deletes by `submission_id`,
and repeating it changes nothing. Once rolled_back, no claim is possible any more and the markers are pulled,
found by the marker (indexed) rather than by this claimant's list.

Why compensate rather than use MongoDB transactions: the service also runs on the embedded mongomock store, which
has no sessions or transactions at all, and a submission may hold up to INTAKE_MAX_LINES (200,000) events written
chunk by chunk, more than a MongoDB transaction is meant to hold (one is aborted after 60 seconds by default, and
transactions need a replica set or a sharded cluster).
"""
import threading
import uuid
from datetime import datetime, timedelta, timezone

from pymongo.errors import PyMongoError

from inspector.ledger.errors import Conflict
from inspector.clock import CST, aware
from inspector.store.connection import find_by_ids

IN_FLIGHT = ("applying", "rolling_back")  # a submission in these states has events that are not stored yet
LEASE = timedelta(minutes=2)  # a claim (applying or undoing a submission) not renewed for this long is abandoned
# An attempt still applying is either alive (done within seconds) or dead (undone once its lease lapses): ask soon.
APPLYING_RETRY_SECONDS = 3
GIVEN_UP = "The submission took too long to apply and was given up."


def _clock():
    """Wall time for leases: a request's business clock may stand still (tests), a lease must not."""
    return datetime.now(timezone.utc)


# -- applying ---------------------------------------------------------------------------------------------------------
def reject(db, head, receipt):
    """Record a submission refused while checking: nothing of it was applied."""
    db.ledger_submissions.insert_one({**head, "state": "rejected", "receipt": receipt})


def begin(db, head, owner):
    """Record the submission as applying, claimed by this attempt; return when the claim was taken."""
    claimed_at = _clock()
    db.ledger_submissions.insert_one({**head, "state": "applying", "owner": owner, "claimed_at": claimed_at})
    return claimed_at


def renew(book):
    """Renew the applying attempt's claim now and then; a lost claim means another process undid the submission."""
    if _clock() - book.claimed_at < LEASE / 4:
        return
    book.claimed_at = _clock()
    done = book.db.ledger_submissions.update_one(
        {"_id": book.submission_id, "state": "applying", "owner": book.owner}, {"$set": {"claimed_at": book.claimed_at}})
    if done.matched_count != 1:
        raise Conflict(GIVEN_UP)


def booked(db, sid):
    """Note that the submission's producer months are booked: a rollback without its Book reads them back."""
    db.ledger_submissions.update_one({"_id": sid}, {"$set": {"booked": True}})


def accept(db, sid, owner, receipt, promise):
    """The commit point: applying -> accepted, only while this attempt still holds the claim."""
    done = db.ledger_submissions.update_one(
        {"_id": sid, "state": "applying", "owner": owner},
        {"$set": {"state": "accepted", "receipt": receipt, "audit_pending": promise}})
    if done.matched_count != 1:
        raise Conflict(GIVEN_UP)


# -- tries that died --------------------------------------------------------------------------------------------------
_unfinished = {}  # (database name, submission id) -> (owner, Book): a hint of this process's own abandoned tries
_unfinished_lock = threading.Lock()


def roll_back_or_remember(db, sid, book):
    """Roll a failed submission back; when the database is gone too, remember that this try is dead."""
    try:
        _undo(db, sid, book, previous_owner=book.owner)
    except PyMongoError:
        with _unfinished_lock:  # unless the rollback's own claim got through and is remembered already
            _unfinished.setdefault((db.name, sid), (book.owner, book))


def finish_earlier(db, sids):
    """Finish undoing the earlier tries whose events a submission names, when no live attempt holds them."""
    for sid in sorted(sids):
        with _unfinished_lock:
            owner, book = _unfinished.get((db.name, sid), (None, None))
        _undo(db, sid, book, previous_owner=owner)
        with _unfinished_lock:
            _unfinished.pop((db.name, sid), None)


def wait_for(db, sids):
    """Seconds worth waiting before a retry: a live apply ends in moments; an undoing holder may be gone (lease)."""
    found = find_by_ids(db.ledger_submissions, sorted(sids), {"claimed_at": 1, "state": 1})
    if all(s.get("state") == "applying" for s in found):
        return APPLYING_RETRY_SECONDS
    now = _clock()
    left = [(aware(s["claimed_at"]) + LEASE - now).total_seconds() for s in found if s.get("claimed_at")]
    return max(1, min(int(LEASE.total_seconds()), int(max(left, default=1)) + 1))


def resume_rollbacks(db):
    """Finish the rollbacks abandoned by this process's failed tries or by any process whose claim lapsed."""
    with _unfinished_lock:
        hinted = {key[1]: value for key, value in _unfinished.items() if key[0] == db.name}
    lapsed = [s["_id"] for s in db.ledger_submissions.find(
        {"state": {"$in": list(IN_FLIGHT)}, "claimed_at": {"$lt": _clock() - LEASE}}, {"_id": 1})]
    done = []
    for sid in dict.fromkeys([*hinted, *lapsed]):
        owner, book = hinted.get(sid, (None, None))
        if _undo(db, sid, book, previous_owner=owner):
            done.append(sid)
        with _unfinished_lock:  # undone, or claimed by another process: no longer this process's to finish
            _unfinished.pop((db.name, sid), None)
    return done


def rollback(db, sid, book=None):
    """Undo a stored submission, or an unfinished one no live attempt holds; False if another attempt holds it."""
    return _undo(db, sid, book, accepted=True)


def recover_stalled(db, now, older_than=timedelta(minutes=30)):
    """Roll back submissions a stopped process left unfinished (received long ago, or their claim lapsed)."""
    stalled = [s["_id"] for s in db.ledger_submissions.find({"state": {"$in": list(IN_FLIGHT)}}, {"_id": 1})]
    return [sid for sid in stalled if _undo(db, sid, stalled_before=now - older_than)]


# -- undoing ----------------------------------------------------------------------------------------------------------
def _claim(db, sid, previous_owner=None, stalled_before=None, accepted=False):
    """Take the undoing of a submission in the database: one claimant at a time, whichever process it runs in.

    An unfinished submission is taken from a try known to be dead (previous_owner), from a claim that lapsed, or,
    at start-up, from one received long ago; a claim on its undoing that lapsed is taken over the same way.
    """
    now = _clock()
    ways = [{"claimed_at": {"$lt": now - LEASE}}, {"claimed_at": None}]
    if previous_owner:
        ways.append({"owner": previous_owner})
    if stalled_before:
        ways.append({"received_at": {"$lt": stalled_before}})
    query = {"_id": sid, "state": {"$in": list(IN_FLIGHT)}, "$or": ways}
    if accepted:
        query = {"_id": sid, "$or": [{"state": "accepted"}, {"state": {"$in": list(IN_FLIGHT)}, "$or": ways}]}
    me = uuid.uuid4().hex
    taken = db.ledger_submissions.find_one_and_update(
        query, {"$set": {"state": "rolling_back", "owner": me, "claimed_at": now}})
    return me if taken else None


def _undo(db, sid, book=None, previous_owner=None, stalled_before=None, accepted=False):
    """Claim the submission's undoing, then undo each step exactly once, even when a crashed claimant did part of it.

    Quota and producer months are given back by one update of their own document that also marks the submission
    as given back there, so a second claimant skips what the first did; the other steps restore guarded pre-images
    or delete, and repeating them changes nothing.
    """
    me = _claim(db, sid, previous_owner, stalled_before, accepted)
    if me is None:
        return False
    try:
        _undo_steps(db, sid, book, me)
    except _Lost:
        return False
    except PyMongoError:
        with _unfinished_lock:  # this process may finish it as soon as the database is back, no need to wait
            _unfinished[(db.name, sid)] = (me, book)
        raise
    return True


def _undo_steps(db, sid, book, me):
    applied = dict(book.quota_applied) if book else {}
    imported = dict(book.imported_applied) if book else {}
    if book is None:
        for e in db.ledger_events.find({"submission_id": sid}, {"accounting": 1, "occurred_at": 1,
                                                                "enterprise_id": 1}):
            for field, into in (("quota", applied), ("imported_t", imported)):
                for category, t in (e.get("accounting") or {}).get(field, {}).items():
                    key = (e["enterprise_id"], e["occurred_at"].astimezone(CST).year, category)
                    into[key] = into.get(key, 0.0) + t
    for (eid, year, category), tonnes in applied.items():
        _hold(db, sid, me)
        key = {"enterprise_id": eid, "year": year, "category": category}
        given = {"used_t": -tonnes, **({"imported_t": -imported[(eid, year, category)]}
                                       if imported.get((eid, year, category)) else {})}
        db.quota_usage.update_one({**key, "given_back": {"$ne": sid}},
                                  {"$inc": given, "$addToSet": {"given_back": sid}})
    for eid, period, row in list(_booked(db, sid, book)):
        _hold(db, sid, me)
        key = {"enterprise_id": eid, "period": period}
        db.production_periods.update_one({**key, "given_back": {"$ne": sid}},
                                         {"$inc": {"output_reo_kg": -row["output_reo_kg"],
                                                   "input_reo_kg": -row["input_reo_kg"], "lots": -row["lots"]},
                                          "$addToSet": {"given_back": sid}})
    for u in db.ledger_undo.find({"submission_id": sid}):
        before = u["before"]
        sets = {k: v for k, v in before.items() if v is not None}
        unsets = {k: "" for k, v in before.items() if v is None}
        update = {**({"$set": sets} if sets else {}), **({"$unset": unsets} if unsets else {})}
        if u["collection"] == "production_periods":
            if u.get("created"):
                db.production_periods.delete_one({"_id": u["doc_id"], "lots": {"$lte": 0}})
            else:
                db.production_periods.update_one({"_id": u["doc_id"]}, update)
        elif "written" in u:  # a guarded write that never happened has nothing to undo
            db[u["collection"]].update_one({"_id": u["doc_id"], **u["written"]}, update)
    for name in ("batches", "movements", "transfer_claims", "ledger_events", "ledger_undo"):
        db[name].delete_many({"submission_id": sid})
    db.monthly_reports.delete_many({"first_submission_id": sid})
    db.ledger_submissions.update_one({"_id": sid, "state": "rolling_back", "owner": me},
                                     {"$set": {"state": "rolled_back"}})
    # No claim on a rolled-back submission is possible any more: the markers may go, leaving the documents as before.
    # Found by the marker, not by this claimant's list: an earlier claimant may have given back and died since.
    for collection in (db.quota_usage, db.production_periods):
        ids = [d["_id"] for d in collection.find({"given_back": sid}, {"_id": 1})]
        if ids:
            collection.update_many({"_id": {"$in": ids}}, {"$pull": {"given_back": sid}})
            collection.update_many({"_id": {"$in": ids}, "given_back": {"$size": 0}}, {"$unset": {"given_back": ""}})


class _Lost(Exception):
    """The claim on a submission's undoing lapsed and another claimant took it over."""


def _hold(db, sid, me):
    """Renew the claim before a step that must not be done twice; stop if another claimant took it over."""
    held = db.ledger_submissions.update_one({"_id": sid, "state": "rolling_back", "owner": me},
                                            {"$set": {"claimed_at": _clock()}})
    if held.matched_count != 1:
        raise _Lost(sid)


def _booked(db, sid, book):
    """The producer months a submission booked: known in-process, else read back from its events once booking ended."""
    if book is not None:
        return book.booked
    head = db.ledger_submissions.find_one({"_id": sid}, {"booked": 1}) or {}
    if not head.get("booked"):
        return []
    rows = {}
    for e in db.ledger_events.find({"submission_id": sid, "accounting.producer_id": {"$exists": True}},
                                   {"accounting": 1}):
        acc = e["accounting"]
        row = rows.setdefault((acc["producer_id"], acc["period"]), {"output_reo_kg": 0.0, "input_reo_kg": 0.0, "lots": 0})
        for k in row:
            row[k] += acc[k]
    return [(eid, period, row) for (eid, period), row in rows.items()]
