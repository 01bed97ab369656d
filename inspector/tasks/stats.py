"""How the tasks in a reader's scope stand: counts by status, overdue, items checked, findings, per province.

One aggregation over the scoped, filtered tasks (the same filters as the list), grouped by province and status, so a
supervisor following a recall sees its progress without paging through every task.
"""
from datetime import datetime, timezone

from inspector.tasks.records import CANCELLED, DONE, OPEN, list_query


def _blank():
    return {OPEN: 0, DONE: 0, CANCELLED: 0, "overdue": 0, "items": 0, "items_done": 0, "findings": 0}


def task_stats(db, actor, filters, now=None):
    """{total, by_status, overdue, items, items_done, findings, provinces: [{province, ...counts}]} in scope."""
    now = now or datetime.now(timezone.utc)
    rows = db.tasks.aggregate([
        {"$match": list_query(actor, filters, now)},
        {"$project": {"province": 1, "status": 1, "items": "$items.status", "findings": {"$size": "$finding_ids"},
                      "overdue": {"$cond": [{"$and": [{"$eq": ["$status", OPEN]}, {"$lt": ["$due_at", now]}]}, 1, 0]}}},
    ])
    # Items are summed here, not in the pipeline: a task holds at most records.MAX_ITEMS, and the projection keeps
    # only their statuses.
    by_province = {}
    for row in rows:
        counts = by_province.setdefault(row.get("province"), _blank())
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        counts["overdue"] += row["overdue"]
        counts["items"] += len(row["items"])
        counts["items_done"] += sum(s == DONE for s in row["items"])
        counts["findings"] += row["findings"]
    total = _blank()
    for counts in by_province.values():
        for key, value in counts.items():
            total[key] += value
    return {"total": total[OPEN] + total[DONE] + total[CANCELLED],
            "by_status": {s: total[s] for s in (OPEN, DONE, CANCELLED)}, "overdue": total["overdue"],
            "items": total["items"], "items_done": total["items_done"], "findings": total["findings"],
            "provinces": [{"province": p, "total": c[OPEN] + c[DONE] + c[CANCELLED], **c}
                          for p, c in sorted(by_province.items(), key=lambda kv: kv[0] or "~")]}
