"""The deadline sweep: events no request raises, found by the clock (run by the worker or `flask notifications sweep`).

A finding's response due within 3 days, or passed; a task past due; a month's ledger not received by the deadline
(to the enterprise's clerks, then, ESCALATE_AFTER later, to the province's supervisors). Every event's key names
the deadline it is about, so sweeping again tells nobody twice, and a new deadline is a new event.
"""
from datetime import timedelta

from inspector.notifications.events import day, notify, short_id
from inspector.oversight import reporting
from inspector.periods import deadline_of, period_of, previous_period

SOON = timedelta(days=3)
RECENT = timedelta(days=14)  # a deadline passed longer ago than this was swept already (or is no news)
ESCALATE_AFTER = timedelta(days=3)
FINDING_FIELDS = {"enterprise_id": 1, "enterprise_name": 1, "province": 1, "deadline": 1, "inspector_id": 1,
                  "timeline.actor_id": 1, "timeline.role": 1}
AWAITING = "awaiting_response"


def _finding_event(finding, kind, now):
    supervisors = [e["actor_id"] for e in finding.get("timeline", []) if e.get("role") == "supervisor"]
    return {"key": f"finding:{finding['_id']}:{kind}:{finding['deadline'].isoformat()}", "kind": kind, "at": now,
            "enterprise_id": finding["enterprise_id"], "province": finding.get("province"),
            "link": {"type": "finding", "id": finding["_id"]}, "supervisor_ids": list(dict.fromkeys(supervisors)),
            "params": {"finding_id": short_id(finding["_id"]), "enterprise": finding.get("enterprise_name"),
                       "deadline": day(finding["deadline"])}}


def findings(db, now):
    """Deadline-soon and overdue events for findings awaiting a response (served by status, deadline)."""
    count = 0
    for f in db.findings.find({"status": AWAITING, "deadline": {"$gt": now, "$lte": now + SOON}}, FINDING_FIELDS):
        count += bool(notify(db, _finding_event(f, "finding_deadline_soon", now)))
    for f in db.findings.find({"status": AWAITING, "deadline": {"$gt": now - RECENT, "$lte": now}}, FINDING_FIELDS):
        count += bool(notify(db, _finding_event(f, "finding_overdue", now)))
    return count


def tasks(db, now):
    """Overdue events for open tasks past due (served by due_at)."""
    count = 0
    for task in db.tasks.find({"due_at": {"$gt": now - RECENT, "$lte": now}, "status": "open"},
                              {"title": 1, "due_at": 1, "assignees": 1, "created_by": 1, "province": 1}):
        count += bool(notify(db, {
            "key": f"task:{task['_id']}:overdue:{task['due_at'].isoformat()}", "kind": "task_overdue", "at": now,
            "province": task.get("province"), "link": {"type": "task", "id": task["_id"]},
            "inspector_ids": task.get("assignees", []), "supervisor_ids": [task.get("created_by")],
            "params": {"title": task.get("title"), "deadline": day(task["due_at"])}}))
    return count


def ledgers(db, settings, now):
    """Missing-ledger events for last month once its deadline has passed, escalated to supervisors later."""
    period = previous_period(period_of(now))
    deadline = deadline_of(period, settings.report_deadline_day, settings.report_deadline_inclusive)
    if now <= deadline:
        return 0
    count = 0
    rows = reporting.compliance(db, period, now, {}, settings.report_deadline_day, settings.report_deadline_inclusive)
    for row in rows:
        if row["status"] != reporting.MISSING:
            continue
        params = {"enterprise": row.get("enterprise_name"), "period": period, "province": row.get("province"),
                  "deadline": day(deadline)}
        base = {"at": now, "enterprise_id": row["enterprise_id"], "province": row.get("province"), "params": params}
        count += bool(notify(db, {**base, "key": f"ledger:{row['enterprise_id']}:{period}:missing",
                                  "kind": "ledger_missing", "link": {"type": "ledger", "id": period}}))
        if now > deadline + ESCALATE_AFTER:
            count += bool(notify(db, {**base, "key": f"ledger:{row['enterprise_id']}:{period}:escalated",
                                      "kind": "ledger_missing_escalated",
                                      "link": {"type": "enterprise", "id": row["enterprise_id"]}}))
    return count


def sweep(db, settings, now):
    """Every clock-found event due now; returns how many events reached someone, by source."""
    return {"findings": findings(db, now), "tasks": tasks(db, now), "ledgers": ledgers(db, settings, now)}
