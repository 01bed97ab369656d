"""Inspection tasks: made from a recall list, a risk-ranking row, a finding or a list of batches; read in scope.

A task is one document: the enterprise (site) to visit, its province, the batches to check as items, a due date, the
assigned inspectors or a province's pool, and an `_etag` that every write replaces (the update filter holds the
ETag the caller read, as findings do, so two supervisors racing on one task cannot both win). Every change is audited.
"""
import uuid
from datetime import datetime, timedelta, timezone

from inspector.accounts import scope
from inspector.notifications import events as notifications
from inspector.audit import chain as audit
from inspector.clock import aware
from inspector.errors import DomainError
from inspector.findings import records as findings
from inspector.oversight import recall

OPEN, DONE, CANCELLED = "open", "done", "cancelled"
STATES = (OPEN, DONE, CANCELLED)
MAX_ITEMS = 500
MAX_DUE_DAYS = 366
BATCH_FIELDS = {"stage": 1, "product_type": 1, "holder_id": 1, "status": 1, "remaining_kg": 1, "mass_kg": 1}


class TaskError(DomainError):
    kind, code = "invalid", "invalid_task"


class TaskNotFound(TaskError):
    kind, code = "not_found", "task_not_found"

    def __init__(self):
        super().__init__("No task with this id is visible to you.")


class StaleTask(TaskError):
    kind, code = "stale", "stale_etag"

    def __init__(self):
        super().__init__("This task changed since you read it: reload it, check what changed, and try again.")


def new_etag():
    return uuid.uuid4().hex


def scope_filter(actor):
    """What the actor may see of tasks: inspectors their own and their pool's, limited supervisors their provinces."""
    role = actor.get("role")
    if role == "inspector":
        return {"$or": [{"assignees": actor["user_id"]}, {"pool": True, "assignees": []}]}
    if role in ("supervisor", "admin"):
        provinces = scope.provinces_of(actor)
        return {} if provinces is None else {"province": {"$in": provinces}}
    return {"_id": None}  # enterprises see no tasks


def find_visible(db, actor, task_id):
    """The task if it exists and the actor may see it; else TaskNotFound (the same either way)."""
    found = db.tasks.find_one({"$and": [{"_id": str(task_id)}, scope_filter(actor)]})
    if found is None:
        raise TaskNotFound()
    return found


def _enterprise(db, actor, enterprise_id):
    found = db.enterprises.find_one({"_id": enterprise_id}, {"name": 1, "province": 1, "city": 1, "location": 1})
    if found is None or not scope.sees(actor, found):
        raise TaskError(f"No enterprise {enterprise_id} among the ones you may see.", code="enterprise_not_found",
                        kind="not_found")
    return found


def _inspectors(db, usernames):
    names = list(dict.fromkeys(usernames or []))
    found = {u["username"]: u for u in db.users.find({"username": {"$in": names}}, {"username": 1, "role": 1,
                                                                                   "disabled": 1})}
    bad = [n for n in names if n not in found or found[n]["role"] != "inspector" or found[n].get("disabled")]
    if bad:
        raise TaskError("Assign tasks to active inspectors only.", code="unknown_inspector", field="assignees",
                        unknown=bad)
    return [found[n]["_id"] for n in names]


def _due(value, now):
    due = aware(value) if value else now + timedelta(days=7)
    if due <= now:
        raise TaskError("The due date must be in the future.", field="due_at")
    if due > now + timedelta(days=MAX_DUE_DAYS):
        raise TaskError(f"The due date must be within {MAX_DUE_DAYS} days.", field="due_at")
    return due


def _groups_from(db, actor, origin):
    """[(enterprise_id, [batch codes])] the origin asks to check, one group per enterprise (site) to visit."""
    kind = origin["type"]
    if kind == "recall":
        reached = recall.reach(db, origin["ref"])
        found = recall.scoped(db, actor, reached) if reached else None
        if found is None:
            raise TaskError(f"No batch {origin['ref']} among the ones you may see.", code="batch_not_found",
                            kind="not_found")
        rows = recall.select(found["rows"], status=["active"], min_taint_pct=origin.get("min_taint_pct"))
        groups = {}
        for row in rows:
            groups.setdefault(row["holder_id"], []).append(row["code"])
        return sorted(groups.items())
    if kind == "finding":
        finding = findings.find_visible(db, actor, origin["ref"])
        if finding is None:
            raise TaskError("No finding with this id is visible to you.", code="finding_not_found", kind="not_found")
        return [(finding["enterprise_id"], list(finding.get("batch_codes") or []))]
    _enterprise(db, actor, origin["ref"])  # outside the caller's scope answers as an unknown enterprise, first
    if kind == "risk":  # a row of the risk ranking: the enterprise's batches in circulation
        held = db.batches.find({"holder_id": origin["ref"], "status": "active"}, {"_id": 1}).sort("_id", 1)
        return [(origin["ref"], [b["_id"] for b in held.limit(MAX_ITEMS)])]
    return [(origin["ref"], list(origin.get("batch_codes") or []))]


def create(db, actor, body, now=None):
    """Make the tasks the request asks for (one per enterprise to visit); return them."""
    now = now or datetime.now(timezone.utc)
    origin = body["origin"]
    due = _due(body.get("due_at"), now)
    assignees = _inspectors(db, body.get("assignees"))
    pool = body.get("pool_province")
    if not assignees and not pool:
        raise TaskError("Assign inspectors, or name the province whose pool takes the task.", field="assignees")
    provinces = scope.provinces_of(actor)
    if pool and provinces is not None and pool not in provinces:
        raise TaskError(f"You may not send tasks to the {pool} pool.", code="province_out_of_scope", kind="forbidden")
    groups = [(e, list(dict.fromkeys(c))) for e, c in _groups_from(db, actor, origin)]
    groups = [(e, c) for e, c in groups if c]
    if not groups:
        raise TaskError("Nothing to check: the origin names no batch in circulation.", code="no_batches")
    tasks = []
    for enterprise_id, codes in groups:
        enterprise = _enterprise(db, actor, enterprise_id)
        if len(codes) > MAX_ITEMS:
            raise TaskError(f"A task checks at most {MAX_ITEMS} batches.", code="too_many_items")
        known = {b["_id"]: b for b in db.batches.find({"_id": {"$in": codes}}, BATCH_FIELDS)}
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise TaskError("Some batch codes are not registered.", code="unknown_batches", unknown=unknown)
        tasks.append({
            "_id": f"TSK-{uuid.uuid4().hex[:12]}", "title": body.get("title") or _title(origin, enterprise),
            "notes": body.get("notes"), "origin": origin, "enterprise_id": enterprise_id,
            "enterprise_name": enterprise.get("name"), "province": enterprise.get("province"),
            "site": body.get("site") or {"type": "warehouse", "name": enterprise.get("name")},
            "location": enterprise.get("location"), "due_at": due, "assignees": assignees,
            "pool": bool(pool) and not assignees, "pool_province": pool, "status": OPEN,
            "items": [{"batch_code": c, "stage": known[c]["stage"], "product_type": known[c]["product_type"],
                       "holder_id": known[c]["holder_id"], "remaining_kg": known[c]["remaining_kg"],
                       "status": OPEN, "scan_ids": [], "finding_ids": [], "done_at": None, "done_by": None}
                      for c in codes],
            "finding_ids": [], "repeat_every_days": body.get("repeat_every_days"), "created_by": actor["user_id"],
            "created_at": now, "updated_at": now, "_etag": new_etag(),
        })
    db.tasks.insert_many(tasks)
    for t in tasks:
        audit.record(db, actor, "task.create", f"task:{t['_id']}",
                     {"origin": origin, "items": len(t["items"]), "assignees": assignees, "pool_province": pool,
                      "due_at": due.isoformat()}, now=now)
        _tell_assignees(db, t, now)
    return tasks


def _tell_assignees(db, task, now):
    """The task-assigned event: keyed by the task, so only inspectors newly on it are told."""
    if task.get("assignees"):
        notifications.notify_quietly(db, {
            "key": f"task:{task['_id']}:assigned", "kind": "task_assigned", "at": now, "province": task.get("province"),
            "link": {"type": "task", "id": task["_id"]}, "inspector_ids": list(task["assignees"]),
            "params": {"title": task.get("title"), "deadline": notifications.day(task["due_at"])}})


def _title(origin, enterprise):
    what = {"recall": f"Recall of {origin['ref']}", "finding": f"Follow-up of finding {origin['ref']}",
            "risk": "Risk inspection"}.get(origin["type"], "Inspection")
    return f"{what} at {enterprise.get('name')}"


def list_query(actor, filters, now):
    """The MongoDB filter of the tasks the actor may see that match the list's filters."""
    clauses = [scope_filter(actor)]
    if filters.get("status"):
        clauses.append({"status": {"$in": list(filters["status"])}})
    if filters.get("overdue"):
        clauses.append({"status": OPEN, "due_at": {"$lt": now}})
    if filters.get("province"):
        clauses.append({"province": filters["province"]})
    if filters.get("enterprise_id"):
        clauses.append({"enterprise_id": filters["enterprise_id"]})
    if filters.get("assignee_id"):
        clauses.append({"assignees": filters["assignee_id"]})
    if filters.get("origin_ref"):
        clauses.append({"origin.ref": filters["origin_ref"]})
    clauses = [c for c in clauses if c]
    return {"$and": clauses} if clauses else {}


def list_tasks(db, actor, filters, skip, limit, now=None):
    """A page of the tasks the actor may see, soonest due first, and how many match."""
    query = list_query(actor, filters, now or datetime.now(timezone.utc))
    found = db.tasks.find(query).sort([("due_at", 1), ("_id", 1)]).skip(skip).limit(limit)
    # An unfiltered count comes from the collection's metadata instead of a read of every task.
    return list(found), db.tasks.count_documents(query) if query else db.tasks.estimated_document_count()


CHANGEABLE = ("title", "notes", "due_at", "assignees", "pool_province", "status", "repeat_every_days")


def change(db, actor, task, body, expected_etag, now=None):
    """Change a task's fields or cancel it, atomically against the ETag read; audited."""
    now = now or datetime.now(timezone.utc)
    if expected_etag != task["_etag"]:
        raise StaleTask()
    changes = {}
    for name in CHANGEABLE:
        if name in body:
            changes[name] = body[name]
    if "due_at" in changes:
        changes["due_at"] = _due(changes["due_at"], now)
    if "assignees" in changes:
        changes["assignees"] = _inspectors(db, changes["assignees"])
    if "pool_province" in changes or "assignees" in changes:
        pool = changes.get("pool_province", task.get("pool_province"))
        provinces = scope.provinces_of(actor)
        if pool and provinces is not None and pool not in provinces:
            raise TaskError(f"You may not send tasks to the {pool} pool.", code="province_out_of_scope",
                            kind="forbidden")
        assignees = changes.get("assignees", task["assignees"])
        if not assignees and not pool:
            raise TaskError("Assign inspectors, or name the province whose pool takes the task.", field="assignees")
        changes["pool"] = bool(pool) and not assignees
    if changes.get("status") not in (None, CANCELLED, OPEN) or (changes.get("status") == OPEN
                                                                  and task["status"] != CANCELLED):
        raise TaskError("A supervisor cancels a task (status cancelled) or reopens a cancelled one (open); items "
                        "are done by scanning them.", code="invalid_status", field="status")
    if not changes:
        raise TaskError("Nothing to change.", code="nothing_to_change")
    changes.update(_etag=new_etag(), updated_at=now)
    result = db.tasks.update_one({"_id": task["_id"], "_etag": expected_etag}, {"$set": changes})
    if result.matched_count != 1:
        raise StaleTask()
    audit.record(db, actor, "task.change", f"task:{task['_id']}",
                 {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in changes.items()
                  if k not in ("_etag", "updated_at")}, now=now)
    changed = db.tasks.find_one({"_id": task["_id"]})
    if "assignees" in changes:
        _tell_assignees(db, changed, now)
    return changed


def claim(db, actor, task, expected_etag, now=None):
    """An inspector takes a pool task: it becomes theirs (and leaves the other inspectors' lists); audited."""
    now = now or datetime.now(timezone.utc)
    if not task.get("pool") or task["status"] != OPEN:
        raise TaskError("Only an open pool task can be claimed.", code="not_a_pool_task", kind="conflict")
    if expected_etag != task["_etag"]:
        raise StaleTask()
    changes = {"assignees": [actor["user_id"]], "pool": False, "claimed_by": actor["user_id"], "claimed_at": now,
               "_etag": new_etag(), "updated_at": now}
    result = db.tasks.update_one({"_id": task["_id"], "_etag": expected_etag, "pool": True}, {"$set": changes})
    if result.matched_count != 1:
        raise StaleTask()
    audit.record(db, actor, "task.claim", f"task:{task['_id']}", {"pool_province": task.get("pool_province")},
                 now=now)
    return db.tasks.find_one({"_id": task["_id"]})
