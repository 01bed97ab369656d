"""A task's progress: scans and findings by its inspectors complete its items; the view says what is open, done, due.

Linking is idempotent, so a retried scan or finding (answered as a replay) links what an interrupted first try did
not. A scan of a task's batch by an inspector the task is assigned to (or by any inspector, for a pool task) marks the
item done and keeps the scan id; a finding citing a task's batch is kept on the item and the task, and completes the
item too. When the last item is done the task is done; a recurring one then gets its next round, due
`repeat_every_days` after this one. Each step is audited and replaces the task's ETag.
"""
import uuid
from datetime import datetime, timedelta, timezone

from inspector.audit import chain as audit
from inspector.clock import aware
from inspector.tasks.records import CANCELLED, DONE, OPEN, new_etag


def _open_tasks_for(db, actor, codes, candidates=None):
    """The open tasks of this inspector (or their pool) with an open item for one of the codes; from candidates (the
    open tasks naming the codes, already read) when given."""
    if actor.get("role") != "inspector" or not codes:
        return []
    if candidates is None:
        candidates = db.tasks.find({"items.batch_code": {"$in": sorted(codes)}, "status": OPEN,
                                    "$or": [{"assignees": actor["user_id"]}, {"pool": True, "assignees": []}]})
    mine = [t for t in candidates if t["status"] == OPEN
            and (actor["user_id"] in t["assignees"] or (t.get("pool") and not t["assignees"]))]
    return [t for t in mine if any(i["batch_code"] in codes and i["status"] == OPEN for i in t["items"])]


def _complete(db, actor, task, codes, now, scan_id=None, finding_id=None):
    items = task["items"]
    touched, linked = [], False
    for item in items:
        if item["batch_code"] not in codes:
            continue
        if scan_id and scan_id not in item["scan_ids"]:
            item["scan_ids"].append(scan_id)
            linked = True
        if finding_id and finding_id not in item["finding_ids"]:
            item["finding_ids"].append(finding_id)
            linked = True
        if item["status"] == OPEN:
            item.update(status=DONE, done_at=now, done_by=actor["user_id"])
            touched.append(item["batch_code"])
    if not touched and not linked:
        return True  # a retry of a scan or finding already linked: nothing to write
    changes = {"items": items, "_etag": new_etag(), "updated_at": now}
    if finding_id and finding_id not in task["finding_ids"]:
        changes["finding_ids"] = task["finding_ids"] + [finding_id]
    finished = all(i["status"] == DONE for i in items)
    if finished:
        changes.update(status=DONE, done_at=now)
    # The ETag read is in the filter: a concurrent change (another scan, a supervisor's edit) makes this miss, and
    # the caller reads the task again.
    result = db.tasks.update_one({"_id": task["_id"], "_etag": task["_etag"]}, {"$set": changes})
    if result.matched_count != 1:
        return False
    audit.record(db, actor, "task.progress", f"task:{task['_id']}",
                 {"done": touched, "scan_id": scan_id, "finding_id": finding_id, "finished": finished}, now=now)
    if finished and task.get("repeat_every_days"):
        _next_round(db, actor, task, now)
    return True


def _record(db, actor, codes, now, candidates=None, **link):
    linked = []
    for task in _open_tasks_for(db, actor, codes, candidates):
        for _ in range(5):  # a lost race re-reads the task and tries again
            if _complete(db, actor, task, set(codes), now, **link):
                linked.append(task["_id"])
                break
            task = db.tasks.find_one({"_id": task["_id"]})
            if task is None or task["status"] != OPEN:
                break
    return linked


def link_scan(db, actor, scan, now=None, candidates=None):
    """Complete the open items this scan checks; return the ids of the tasks it advanced. candidates: the open tasks
    naming its batch if already read (a stale one is re-read: the ETag guards the write)."""
    if not scan.get("batch_code"):
        return []
    return _record(db, actor, {scan["batch_code"]}, now or datetime.now(timezone.utc), candidates,
                   scan_id=scan["_id"])


def link_finding(db, actor, finding, now=None):
    """Keep a finding on the tasks whose batches it cites, completing those items; return the task ids."""
    return _record(db, actor, set(finding.get("batch_codes") or []), now or datetime.now(timezone.utc),
                   finding_id=finding["_id"])


def _next_round(db, actor, task, now):
    every = timedelta(days=task["repeat_every_days"])
    due = aware(task["due_at"]) + every
    while due <= now:
        due += every
    nxt = {**task, "_id": f"TSK-{uuid.uuid4().hex[:12]}", "status": OPEN, "due_at": due, "finding_ids": [],
           "items": [{**i, "status": OPEN, "scan_ids": [], "finding_ids": [], "done_at": None, "done_by": None}
                     for i in task["items"]],
           "previous_id": task["_id"], "created_at": now, "updated_at": now, "_etag": new_etag()}
    nxt.pop("done_at", None)
    db.tasks.insert_one(nxt)
    audit.record(db, actor, "task.repeat", f"task:{nxt['_id']}", {"previous_id": task["_id"],
                                                                 "due_at": due.isoformat()}, now=now)


def view(task, now=None):
    """The task as clients see it, with its progress (open, done, overdue) and what it found."""
    now = now or datetime.now(timezone.utc)
    done = sum(i["status"] == DONE for i in task["items"])
    due = aware(task["due_at"])
    return {**{k: v for k, v in task.items() if k not in ("_id", "_etag")}, "id": task["_id"], "due_at": due,
            "progress": {"total": len(task["items"]), "done": done, "open": len(task["items"]) - done,
                         "overdue": task["status"] == OPEN and due < now},
            "cancelled": task["status"] == CANCELLED}
