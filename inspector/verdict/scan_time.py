"""A scan's time: the window it must fall in, and whether the phone's clocks agree about how long it waited."""
from datetime import timedelta

from inspector.clock import aware
from inspector.errors import DomainError
from inspector.registry.approvals import china_day

CONSISTENT, UNVERIFIED, DISAGREES = "consistent", "unverified", "disagrees"


class ScanTimeRefused(DomainError):
    """The scan's time cannot be true: before the batch existed, ahead of the server, or older than any offline wait."""

    kind = "invalid"

    def __init__(self, code, message, **details):
        super().__init__(message, code=code, field="scanned_at", **details)


def check_window(scanned_at, now, settings):
    """Refuse a scan time ahead of the server beyond the clock skew, or older than the longest offline wait."""
    latest = now + timedelta(minutes=settings.clock_skew_minutes)
    if scanned_at > latest:
        raise ScanTimeRefused("clock_ahead", f"The scan time is more than {settings.clock_skew_minutes} minutes ahead "
                              "of the server: check the phone's clock and date.", latest=latest.isoformat())
    earliest = now - timedelta(days=settings.max_offline_days)
    if scanned_at < earliest:
        raise ScanTimeRefused("scan_too_old", f"The scan time is more than {settings.max_offline_days} days ago, longer "
                              "than a scan may wait offline: check the phone's clock and date.",
                              earliest=earliest.isoformat())


def check_batch_existed(scanned_at, existed_from):
    """Refuse a scan dated (China day) before the batch's production or first ledger record."""
    if existed_from is not None and china_day(scanned_at) < china_day(existed_from):
        day = china_day(existed_from).isoformat()
        raise ScanTimeRefused("before_batch", f"The scan time is before {day}, when this batch was first recorded: "
                              "check the phone's clock and date.", existed_from=day)


def earliest_record(batch):
    """When the ledger first knew the batch: its production day or its earliest movement, whichever came first."""
    moments = [aware(batch["produced_on"])] + [aware(m["date"]) for m in batch.get("movements", []) if m.get("date")]
    return min(moments)


def time_check(scanned_at, received_at, queued_ms, interrupted, settings):
    """Compare the wait the scan's time claims (received - scanned) with the wait the phone measured in its outbox.

    consistent: they agree within the tolerance (a live scan needs no report); disagrees: the phone's wall clock and
    its monotonic clock contradict each other (a changed clock or a forged time); unverified: no full measurement.
    """
    claimed_s = (received_at - scanned_at).total_seconds()
    tolerance_s = settings.scan_time_tolerance_minutes * 60
    check = {"claimed_wait_s": round(claimed_s, 1), "reported_wait_s": None if queued_ms is None else queued_ms / 1000,
             "interrupted": bool(interrupted), "tolerance_s": tolerance_s}
    if queued_ms is None:
        status = CONSISTENT if abs(claimed_s) <= tolerance_s else UNVERIFIED
    else:
        reported_s = queued_ms / 1000
        if claimed_s < reported_s - tolerance_s:
            status = DISAGREES  # the scan claims to be younger than the time it is known to have waited
        elif claimed_s <= reported_s + tolerance_s:
            status = CONSISTENT
        else:
            # A wait the app measured only in part (it was closed meanwhile) is a lower bound, not a contradiction.
            status = UNVERIFIED if interrupted else DISAGREES
    return {"status": status, **check}
