"""The notification worker: sweep the deadlines, send the e-mails due, POST the webhooks due; again every interval."""
import logging
import time
from datetime import datetime, timezone

from inspector.notifications import mail, sweep, webhooks

log = logging.getLogger(__name__)


def run_once(db, settings, now=None):
    """One round: what the sweep found, and what was sent and delivered."""
    now = now or datetime.now(timezone.utc)
    return {"events": sweep.sweep(db, settings, now), "mail": mail.send_due(db, settings, now),
            "webhooks": webhooks.deliver_due(db, now)}


def run_forever(db, settings, interval_seconds=60, rounds=None, clock=None):
    """Rounds every interval until stopped (or for a number of rounds); one failed round is logged, not fatal."""
    done = 0
    while rounds is None or done < rounds:
        try:
            log.info("notifications round: %s", run_once(db, settings, clock() if clock else None))
        except Exception:  # noqa: BLE001 - a database or network hiccup: the next round tries again
            log.exception("notifications round failed")
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval_seconds)
