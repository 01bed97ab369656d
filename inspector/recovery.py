"""What a process finishes before it serves: rollbacks, half-applied submissions, audit promises; needs only a db."""
import logging

from inspector.audit import promises
from inspector.findings import attachments
from inspector.ledger import rollback as ledger_rollback
from inspector.store.indexes import apply_indexes
from inspector.verdict import scans

log = logging.getLogger(__name__)

# Where a document's promise needs more than its audit entry written: how to finish it as its retry would have.
FINISHERS = {"scans": scans.finish, "finding_attachments": attachments.finish_abandoned}
# Every collection whose documents carry audit promises (those not in FINISHERS just get their entry written).
PROMISED = ("scans", "findings", "finding_attachments", "ledger_submissions")


def resume_rollbacks(db):
    """Finish the ledger rollbacks an outage interrupted; return the submission ids finished."""
    resumed = ledger_rollback.resume_rollbacks(db)
    if resumed:
        log.warning("finished rolling back %d ledger submission(s) the database outage interrupted: %s",
                    len(resumed), ", ".join(resumed))
    return resumed


def recover_stalled(db, now):
    """Roll back the ledger submissions a stopped process left half-applied; return their ids."""
    stalled = ledger_rollback.recover_stalled(db, now)
    if stalled:
        log.warning("rolled back %d ledger submission(s) a stopped process left half-applied: %s",
                    len(stalled), ", ".join(stalled))
    return stalled


def sweep_promises(db, now):
    """Settle the audit promises of writes no client came back to retry; return how many were finished."""
    settled = promises.sweep(db, FINISHERS, now, PROMISED)
    if settled:
        log.warning("wrote the audit entries of %d write(s) no client came back to finish", settled)
    return settled


def at_start(db, now, done):
    """Run what this process has not finished yet and say what was finished; done records the steps already run.

    Rollbacks are resumed on every call (an outage may interrupt one at any time); indexes, stalled submissions and
    the promise sweep run once per process, and again if an outage cut them short (done is updated only on success).
    """
    finished = {"rollbacks_resumed": resume_rollbacks(db), "stalled_rolled_back": [], "promises_settled": 0}
    if not done.get("indexes_applied"):
        apply_indexes(db)
        done["indexes_applied"] = True
        finished["stalled_rolled_back"] = recover_stalled(db, now)
    if not done.get("promises_swept"):
        finished["promises_settled"] = sweep_promises(db, now)
        done["promises_swept"] = True
    return finished
