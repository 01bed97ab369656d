"""Ledger periods (YYYY-MM) and the 10th-of-month reporting deadline, in China Standard Time."""
from datetime import datetime, timedelta

from inspector.clock import CST

DEADLINE_DAY = 10


def period_of(moment: datetime) -> str:
    """Return the YYYY-MM period of a moment, in China time."""
    local = moment.astimezone(CST) if moment.tzinfo else moment
    return f"{local.year:04d}-{local.month:02d}"


def year_of(moment: datetime) -> int:
    """The quota year of a moment: its calendar year in China time."""
    return moment.astimezone(CST).year if moment.tzinfo else moment.year


def next_period(period: str) -> str:
    """Return the period after YYYY-MM."""
    year, month = int(period[:4]), int(period[5:])
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def previous_period(period: str) -> str:
    """Return the period before YYYY-MM."""
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def deadline_of(period: str, day: int = DEADLINE_DAY, inclusive: bool = True) -> datetime:
    """The last moment a period's ledger may be entered, China time.

    "每月10日前" counts the 10th itself (inclusive: up to the end of the 10th); the stricter reading "before the
    10th" ends at the start of that day.
    """
    nxt = next_period(period)
    if inclusive:
        return datetime(int(nxt[:4]), int(nxt[5:]), day, 23, 59, 59, 999999, tzinfo=CST)
    return datetime(int(nxt[:4]), int(nxt[5:]), day, tzinfo=CST) - timedelta(microseconds=1)


def settings_deadline(settings):
    """The (day, inclusive) deadline pair configured in the settings."""
    return {"day": settings.report_deadline_day, "inclusive": settings.report_deadline_inclusive}


def due_periods(now: datetime, count: int = 12, day: int = DEADLINE_DAY, inclusive: bool = True) -> list[str]:
    """The last `count` periods whose deadline has passed at `now`, newest first."""
    period = previous_period(period_of(now))
    if deadline_of(period, day, inclusive) >= now:
        period = previous_period(period)
    out = []
    for _ in range(count):
        out.append(period)
        period = previous_period(period)
    return out
