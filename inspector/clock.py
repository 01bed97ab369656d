"""Time as the service keeps it: China Standard Time for the ledger's days, and aware datetimes everywhere."""
from datetime import timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")  # China Standard Time: no daylight saving since 1991


def aware(moment):
    """The moment with a time zone: a naive one (as the embedded store and old documents keep them) read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def as_utc(moment):
    """The moment in UTC (a naive one read as UTC)."""
    return None if moment is None else aware(moment).astimezone(timezone.utc)


def china_date(moment):
    """The China calendar date of a moment, as shown to people (a naive moment is UTC); None stays None."""
    return None if moment is None else aware(moment).astimezone(CST).date()
