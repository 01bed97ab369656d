"""Monthly reporting compliance: each enterprise's ledger for a period is on time, late, missing or still open."""
import math
import re
from datetime import date, datetime

from inspector.clock import CST, aware
from inspector.errors import DomainError
from inspector.periods import deadline_of, next_period, period_of, previous_period

ON_TIME, LATE, MISSING, OPEN = "on_time", "late", "missing", "open"
STATUSES = (MISSING, LATE, OPEN, ON_TIME)  # worst first
FIRST_YEAR = 2000
MAX_MONTHS = 120
_PERIOD = re.compile(r"(\d{4})-(\d{2})")
ENTERPRISE_FIELDS = {"name": 1, "province": 1, "roles": 1, "registered_on": 1, "created_at": 1}
REPORT_FIELDS = {"enterprise_id": 1, "period": 1, "submitted_at": 1, "last_submitted_at": 1, "submissions": 1}


class PeriodError(DomainError, ValueError):
    """A period the reporting views cannot answer for; code is machine-readable."""

    def __init__(self, code, message):
        super().__init__(message, code=code, query={"period": [message]})


def parse_period(text, now):
    """Check a YYYY-MM period: a real month from 2000 up to the current one (China time)."""
    match = _PERIOD.fullmatch(text or "")
    if not match or not 1 <= int(match[2]) <= 12:
        raise PeriodError("invalid_period", "period must be a month written YYYY-MM, such as 2026-03.")
    if int(match[1]) < FIRST_YEAR:
        raise PeriodError("period_out_of_range", f"Monthly reports start in {FIRST_YEAR}; ask for a later period.")
    if text > period_of(now):
        raise PeriodError("period_in_future", f"{text} has not begun yet; the current period is {period_of(now)}.")
    return text


def reporting_period(now):
    """The period whose ledger is being entered now: last month (China time)."""
    return previous_period(period_of(now))


def recent_periods(now, months):
    """The `months` periods up to the one being entered now, newest first."""
    out, period = [], reporting_period(now)
    for _ in range(months):
        if int(period[:4]) < FIRST_YEAR:
            break
        out.append(period)
        period = previous_period(period)
    return out


def deadline_rule(day, inclusive):
    """The deadline in words."""
    if inclusive:
        return f"by the end of day {day} of the following month, Asia/Shanghai time (day {day} itself counts)"
    return f"before day {day} of the following month begins, Asia/Shanghai time"


def _local(moment):
    return aware(moment).astimezone(CST) if moment is not None else None


def registered_at(enterprise):
    """When the enterprise entered the registry, if recorded (registered_on or created_at)."""
    value = enterprise.get("registered_on") or enterprise.get("created_at")
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=CST)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=CST)
    return None


def expected(enterprise, period):
    """True when the enterprise was registered before the period ended, so it owes that period's ledger."""
    since = registered_at(enterprise)
    if since is None:
        return True
    end = next_period(period)
    return since < datetime(int(end[:4]), int(end[5:]), 1, tzinfo=CST)


def status_of(period, report, now, day, inclusive):
    """One enterprise's standing for one period: status, times in China time, and how late."""
    deadline = deadline_of(period, day, inclusive)
    submitted_at = aware((report or {}).get("submitted_at"))
    if submitted_at is None:
        status = MISSING if now > deadline else OPEN
        late_by = now - deadline if status == MISSING else None
    else:
        status = LATE if submitted_at > deadline else ON_TIME
        late_by = submitted_at - deadline if status == LATE else None
    seconds = late_by.total_seconds() if late_by is not None else None
    return {
        "period": period,
        "status": status,
        "deadline": deadline.replace(microsecond=0),
        "submitted_at": _local(submitted_at),
        "last_submitted_at": _local((report or {}).get("last_submitted_at")) or _local(submitted_at),
        "submissions": (report or {}).get("submissions", 1 if submitted_at else 0),
        # Late days count as begun: one second past the deadline is one day late.
        "late_by_hours": round(seconds / 3600, 2) if seconds is not None else None,
        "late_by_days": math.ceil(seconds / 86400) if seconds is not None else None,
    }


def worst_first(row):
    """Sort key: missing, late (latest first), open, on time; then by enterprise."""
    return STATUSES.index(row["status"]), -(row["late_by_hours"] or 0), row.get("enterprise_id", "")


def count_statuses(rows):
    """How many rows are in each status (every status present, zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row["status"]] += 1
    return counts


def _enterprise_row(enterprise, standing):
    return {"enterprise_id": enterprise["_id"], "enterprise_name": enterprise.get("name"),
            "province": enterprise.get("province"), "roles": enterprise.get("roles", []), **standing}


def compliance(db, period, now, enterprise_filter, day, inclusive):
    """Every enterprise matching the filter that owes the period, with its standing, worst first: two queries."""
    enterprises = list(db.enterprises.find(enterprise_filter, ENTERPRISE_FIELDS))
    reports = {r["enterprise_id"]: r for r in db.monthly_reports.find(
        {"enterprise_id": {"$in": [e["_id"] for e in enterprises]}, "period": period}, REPORT_FIELDS)}
    rows = [_enterprise_row(e, status_of(period, reports.get(e["_id"]), now, day, inclusive))
            for e in enterprises if e["_id"] in reports or expected(e, period)]
    return sorted(rows, key=worst_first)


def history(db, enterprise, periods, now, day, inclusive):
    """One enterprise's standing for each of the periods it owes, newest first: one query."""
    reports = {r["period"]: r for r in db.monthly_reports.find(
        {"enterprise_id": enterprise["_id"], "period": {"$in": list(periods)}}, REPORT_FIELDS)}
    return [status_of(p, reports.get(p), now, day, inclusive)
            for p in sorted(periods, reverse=True) if p in reports or expected(enterprise, p)]


def standings(db, enterprises, periods, now, day, inclusive):
    """{enterprise_id: [standing per owed period]} for many enterprises at once: one query."""
    by_id = {e["_id"]: e for e in enterprises}
    reports = {}
    for r in db.monthly_reports.find({"enterprise_id": {"$in": list(by_id)}, "period": {"$in": list(periods)}},
                                     REPORT_FIELDS):
        reports[(r["enterprise_id"], r["period"])] = r
    return {eid: [status_of(p, reports.get((eid, p)), now, day, inclusive) for p in periods
                  if (eid, p) in reports or expected(e, p)]
            for eid, e in by_id.items()}


def enterprise_filter(actor, province=None):
    """The enterprises an actor may see in these views (supervisors: their provinces), narrowed to a province."""
    clauses = []
    if actor.get("role") == "supervisor" and actor.get("provinces") is not None:
        clauses.append({"province": {"$in": list(actor["provinces"])}})
    elif actor.get("role") == "enterprise":
        clauses.append({"_id": actor.get("enterprise_id")})
    if province is not None:
        clauses.append({"province": province})
    return {"$and": clauses} if clauses else {}


def visible_enterprise(db, principal, enterprise_id):
    """The enterprise's reporting fields if the principal may see its reports, else None."""
    scope = enterprise_filter(principal)
    wanted = {"_id": enterprise_id}
    return db.enterprises.find_one({"$and": [wanted, scope]} if scope else wanted, ENTERPRISE_FIELDS)
