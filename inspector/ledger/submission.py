"""Ledger submission: check every event of a submission against the ledger, then apply all of them or none.

dry_run() checks (nothing written); submit() checks, then applies chunk by chunk under a claim and commits at one
point, or rolls back (the protocol is in rollback.py). Also here: the reads of what submissions stored.
"""
import uuid
from itertools import islice

from pymongo.errors import DuplicateKeyError

from inspector.audit import promises
from inspector.ledger import effects, rollback as protocol
from inspector.ledger.book import Book
from inspector.ledger.errors import Conflict, EmptySubmission, InProgress, SubmissionRefused, TooManyLines
from inspector.ledger.events import LineError, read_event
from inspector.notifications import events as notifications
from inspector.offline.signing import keyring
from inspector.periods import period_of
from inspector.store.connection import atomic

CHUNK = 1000
MAX_LISTED_ERRORS = 1000


def label_signatures(settings, issued):
    """The authority's (8030) signature of every code issued, so the enterprise can print signed labels."""
    ring = keyring(settings)
    if ring is None or ring.signer is None:
        return {}
    return {code: ring.sign_label(code) for codes in issued.values() for code in codes}


def check_target(db, enterprise_id, period, now):
    """Refuse a month named without an enterprise, an enterprise not registered, or a month that has not begun."""
    if period and not enterprise_id:
        raise SubmissionRefused("Name the enterprise_id whose month this is.", code="enterprise_required")
    if enterprise_id and db.enterprises.count_documents({"_id": enterprise_id}, limit=1) == 0:
        raise SubmissionRefused(f"{enterprise_id} is not a registered enterprise.", code="unknown_enterprise")
    if period and period > period_of(now):
        raise SubmissionRefused(f"{period} has not begun yet; a month is reported once its flows happened.",
                                code="future_period")


# -- the whole submission ------------------------------------------------------------------------------------------
def _chunks(pairs, size):
    it = iter(pairs)
    while chunk := list(islice(it, size)):
        yield chunk


def _pass(book, lines, default_enterprise, max_lines, errors, counts, apply):
    total = 0
    for chunk in _chunks(lines(), CHUNK):
        events = []
        for line, raw in chunk:
            total += 1
            if total > max_lines:
                raise TooManyLines(max_lines)
            if isinstance(raw, LineError):
                raw.line = raw.line or line
                errors.append(raw)
                errors.extend(getattr(raw, "also", ()))
                continue
            try:
                events.append(read_event(raw, line, default_enterprise))
            except LineError as exc:
                errors.append(exc)
                errors.extend(getattr(exc, "also", ()))
        book.prefetch(events)
        for ev in events:
            try:
                effects.take(book, ev)
            except LineError as exc:
                exc.event_id, exc.line = exc.event_id or ev.event_id, exc.line or ev.line
                if apply:
                    raise
                errors.append(exc)
        if apply:
            protocol.renew(book)
            book.take_quota()
            book.flush()
    counts["lines"] = total


def dry_run(db, settings, actor, lines, now, default_enterprise=None, sid=None):
    """Check every line without writing anything; return (book, errors, counts)."""
    source = lines if callable(lines) else (lambda: iter(lines))
    errors, counts = [], {}
    book = Book(db, settings, actor, now, sid, apply=False)
    _pass(book, source, default_enterprise or actor.get("enterprise_id"), settings.intake_max_lines, errors, counts,
          apply=False)
    return book, errors, counts


def submit(db, settings, actor, lines, channel, now, period=None, enterprise_id=None, warnings=None, columns=None):
    """Check every line, then apply the submission atomically; return the receipt.

    A file channel passes the warnings its reader fills (a skipped title row, an ignored column) and `columns`, which
    names each error's field as the file's column (counterparty_id, never from_id).
    """
    source = lines if callable(lines) else (lambda: iter(lines))
    default_enterprise = enterprise_id or actor.get("enterprise_id")
    sid, owner = uuid.uuid4().hex, uuid.uuid4().hex
    # Undo abandoned tries first: checking against their leftovers would count them as stored.
    protocol.resume_rollbacks(db)
    check, errors, counts = dry_run(db, settings, actor, source, now, default_enterprise, sid)
    if check.in_flight:
        protocol.finish_earlier(db, check.in_flight)
        check, errors, counts = dry_run(db, settings, actor, source, now, default_enterprise, sid)
        if check.in_flight:
            raise InProgress(protocol.wait_for(db, check.in_flight))
    for earlier, promise in check.promises.items():  # a retry writes what its interrupted try promised
        promises.settle(db, "ledger_submissions", earlier, promise)
    if counts["lines"] == 0 and not period:
        raise EmptySubmission()
    receipt = {"submission_id": sid, "channel": channel, "received_at": now, "enterprise_id": default_enterprise,
               "events": counts["lines"], "duplicates": check.duplicates, "flags": [], "issued_codes": {}}
    if warnings is not None:
        receipt["warnings"] = list(warnings)
    head = {"_id": sid, "enterprise_id": default_enterprise, "submitted_by": actor.get("username"),
            "channel": channel, "received_at": now, "period": period}
    if errors:
        receipt.update(status="rejected", accepted=0, rejected=len(errors), periods=[],
                       errors=[(columns or _same)(e.as_dict()) for e in errors[:MAX_LISTED_ERRORS]])
        protocol.reject(db, head, receipt)
        return receipt
    book = Book(db, settings, actor, now, sid, apply=True, owner=owner)
    book.claimed_at = protocol.begin(db, head, owner)
    # The checking pass already read which events are stored; a race since then meets the unique _id and rolls back.
    book.events_seen, book.events_known = dict(check.stored_events), True
    del check
    try:
        with atomic(db):
            _pass(book, source, default_enterprise, settings.intake_max_lines, [], {}, apply=True)
            book.finish()
            protocol.booked(db, sid)
            declared = (default_enterprise, period) if period and default_enterprise else None
            periods = book.register(declared)
            receipt.update(status="accepted", accepted=book.accepted, rejected=0, duplicates=book.duplicates,
                           errors=[], flags=sorted(book.flags, key=lambda f: f["line"]), issued_codes=book.issued,
                           issued=book.issued_by_event, periods=periods,
                           label_signatures=label_signatures(settings, book.issued))
            promise = promises.pending(actor, "ledger.submit", {"submission_id": sid},
                                    {"channel": channel, "accepted": receipt["accepted"],
                                     "duplicates": receipt["duplicates"], "flags": len(receipt["flags"]),
                                     "periods": periods}, now)
            # The commit point: until this lands the submission is "applying", and rolled back if anything failed.
            # Only while this attempt still holds it: one whose claim lapsed may have been undone by another process.
            protocol.accept(db, sid, owner, receipt, promise)
    except LineError as exc:
        protocol.roll_back_or_remember(db, sid, book)
        raise Conflict(f"Line {exc.line}: {exc.message}") from None
    except DuplicateKeyError:
        protocol.roll_back_or_remember(db, sid, book)
        raise Conflict("Another submission registered the same batch code or event at the same time.") from None
    except Exception:
        protocol.roll_back_or_remember(db, sid, book)
        raise
    # Accepted: a failure from here on leaves the promise on the submission, for a retry or the start-up sweep.
    promises.settle(db, "ledger_submissions", sid, promise)
    _tell_supervisors(db, receipt, now)
    return receipt


def _tell_supervisors(db, receipt, now):
    """Receipt claims and unverified imports reach the supervisors of the enterprise's province."""
    wanted = [f for f in receipt["flags"] if f["code"] in ("receipt_without_shipment", "unverified_import")]
    enterprise = db.enterprises.find_one({"_id": receipt["enterprise_id"]}, {"name": 1, "province": 1}) if (
        wanted and receipt["enterprise_id"]) else None
    for flag in wanted if enterprise else ():
        kind = "receipt_claim" if flag["code"] == "receipt_without_shipment" else "unverified_import"
        notifications.notify_quietly(db, {
            "key": f"ledger:{receipt['submission_id']}:{flag['event_id']}:{flag['code']}", "kind": kind, "at": now,
            "enterprise_id": enterprise["_id"], "province": enterprise.get("province"),
            "link": {"type": "enterprise", "id": enterprise["_id"]},
            "params": {"enterprise": enterprise.get("name"), "from_id": flag.get("from_id"),
                       "doc_no": flag.get("doc_no"), "declaration_no": flag.get("declaration_no"),
                       "count": flag.get("batches")}})


def _same(error):
    return error


# -- reading what submissions stored ----------------------------------------------------------------------------------
def history(db, code):
    """Every recorded event that names the batch, oldest first (index ledger_events codes_occurred_at)."""
    return list(db.ledger_events.find({"codes": code}, {"accounting": 0}).sort([("occurred_at", 1), ("recorded_at", 1)]))


def batch_history(db, lookup):
    """The native code of the batch a read code's lookup finds, and its history; (None, []) when there is none."""
    batch = db.batches.find_one(lookup, {"_id": 1})
    if not batch:
        return None, []
    return batch["_id"], history(db, batch["_id"])


def submission(db, sid):
    """A stored submission with its receipt, or None."""
    return db.ledger_submissions.find_one({"_id": sid})


def receipt_of(found):
    """A stored submission's receipt; one still unfinished has only its id and state."""
    return found.get("receipt") or {"submission_id": found["_id"], "status": found["state"]}


def receipts(db, limit, **filters):
    """The receipts of the submissions matching filters (enterprise_id, or none for all), newest first.

    Served by the index ledger_submissions enterprise_received_at when an enterprise is named.
    """
    found = db.ledger_submissions.find(filters, {"receipt": 1, "state": 1, "received_at": 1}) \
        .sort("received_at", -1).limit(limit)
    return [receipt_of(s) for s in found]
