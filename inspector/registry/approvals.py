"""Whitelist approvals as an append-only history of actions: grant, suspend, reinstate, revoke.

Nothing is ever overwritten. Whether an enterprise is approved for a stage on a day is decided by replaying its
actions in the order they were recorded; each action speaks only for the days it covers:

- grant [from, to]: approved on those days (a later grant re-admits after a revocation);
- suspend [from, to or open]: not approved on those days, if approved until then;
- reinstate from: a suspension in force stops on that day;
- revoke from: not approved from that day on, until a later grant.

Days are China days (an approval "from 1 March" starts at midnight Beijing time).
"""
from datetime import date, datetime, timedelta, timezone

from pymongo.errors import DuplicateKeyError

from inspector.errors import DomainError
from inspector.clock import CST, aware

STAGES = ("mining", "separation", "import")
STAGE_ROLES = {"mining": "mine", "separation": "separator", "import": "importer"}
ACTIONS = ("grant", "suspend", "reinstate", "revoke")
NEEDS_REASON = ("suspend", "revoke")
TAKES_END = ("grant", "suspend")
# Why a stage is not approved on a day, in words.
STATE_TEXT = {
    "granted": "approved",
    "suspended": "approval suspended",
    "revoked": "approval revoked",
    "expired": "approval ended",
    "not_yet_in_force": "approval not yet in force",
    "never_granted": "never approved",
}


class ApprovalError(DomainError):
    """An approval action the history refuses; code is machine-readable, str() is for people."""

    def __init__(self, message, code, field=None, **details):
        super().__init__(message, code=code, **({"field": field, **details} if field else details))


class ApprovalConflict(ApprovalError):
    """The action does not fit the approval's state on its effective day."""

    kind = "conflict"


def as_day(value):
    """A stored or given effective date as a date (stored as midnight UTC of that date)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def china_day(moment):
    """The China calendar day of a moment (a naive moment is UTC), or the date itself."""
    if isinstance(moment, datetime):
        return aware(moment).astimezone(CST).date()
    return as_day(moment)


def stored_day(day):
    """How a day is stored: midnight UTC of that date."""
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def ordered(history):
    """Entries in the order they were recorded (entries without an action are grants, as embedded ones were)."""
    indexed = list(enumerate(history or []))
    indexed.sort(key=lambda pair: (pair[1].get("seq", 0), pair[0]))
    return [entry for _, entry in indexed]


def _covers(entry, day):
    end = as_day(entry.get("effective_to"))
    return as_day(entry["effective_from"]) <= day and (end is None or day <= end)


def state_on(history, stage, day):
    """(state, deciding entry) for a stage on a China day; state is one of STATE_TEXT's keys."""
    state, deciding, grants = "never_granted", None, []
    for entry in ordered(history):
        if entry.get("stage") != stage:
            continue
        action = entry.get("action", "grant")
        starts = as_day(entry["effective_from"])
        if action == "grant":
            grants.append(entry)
            if _covers(entry, day):
                state, deciding = "granted", entry
        elif action == "suspend" and state == "granted" and _covers(entry, day):
            state, deciding = "suspended", entry
        elif action == "reinstate" and state == "suspended" and starts <= day:
            state, deciding = "granted", entry
        elif action == "revoke" and state in ("granted", "suspended") and starts <= day:
            state, deciding = "revoked", entry
    if state == "never_granted" and grants:
        later = [g for g in grants if as_day(g["effective_from"]) > day]
        state, deciding = ("not_yet_in_force", later[0]) if later else ("expired", grants[-1])
    return state, deciding


def approved_on(history, stage, day):
    """True when the stage is approved on that China day."""
    return state_on(history, stage, day)[0] == "granted"


def view(entry):
    """An entry as clients see it: dates as dates."""
    return {
        "id": entry.get("_id"), "action": entry.get("action", "grant"), "stage": entry["stage"],
        "effective_from": as_day(entry["effective_from"]), "effective_to": as_day(entry.get("effective_to")),
        "reason": entry.get("reason"), "decision_no": entry.get("decision_no"),
        "recorded_at": entry.get("recorded_at"), "recorded_by": entry.get("recorded_by"),
    }


def today(history, day):
    """Each stage's state on a day, for the stages the history mentions."""
    stages = [s for s in STAGES if any(e.get("stage") == s for e in history or [])]
    out = []
    for stage in stages:
        state, _ = state_on(history, stage, day)
        out.append({"stage": stage, "approved": state == "granted", "state": state})
    return out


def history_of(db, enterprise_id):
    """An enterprise's approval history, oldest first."""
    return ordered(list(db.approvals.find({"enterprise_id": enterprise_id})))


def check(enterprise, history, action):
    """Raise ApprovalError unless the action (action, stage, effective_from, ...) may be recorded after the history."""
    kind, stage = action["action"], action["stage"]
    start, end = action["effective_from"], action.get("effective_to")
    if kind not in ACTIONS:
        raise ApprovalError(f"action must be one of {', '.join(ACTIONS)}.", "bad_action", "action")
    if stage not in STAGES:
        raise ApprovalError(f"stage must be one of {', '.join(STAGES)}.", "bad_stage", "stage")
    if end is not None and kind not in TAKES_END:
        raise ApprovalError(f"A {kind} takes effect from a day on; it has no effective_to.", "bad_field",
                            "effective_to")
    if end is not None and end < start:
        raise ApprovalError(f"effective_to ({end}) is before effective_from ({start}).", "bad_dates",
                            "effective_to")
    if kind in NEEDS_REASON and not (action.get("reason") or "").strip():
        raise ApprovalError(f"A {kind} needs a reason: it is what the enterprise and inspectors will read.",
                            "reason_required", "reason")
    role = STAGE_ROLES[stage]
    if kind == "grant" and role not in enterprise.get("roles", []):
        raise ApprovalError(f"{enterprise['name']} is not registered as a {role}, so it cannot be approved for "
                            f"{stage}; add the role first.", "role_mismatch", "stage", roles=enterprise.get("roles", []))
    if kind == "grant":
        clash = _approved_within(history, stage, start, end)
        if clash:
            raise ApprovalConflict(_conflict_text(kind, stage, clash[0], clash[1]), "approval_state_conflict",
                                   conflict_on=clash[0].isoformat(), state_on_that_day=clash[1])
        return
    state, _ = state_on(history, stage, start)
    if state not in {"suspend": ("granted",), "reinstate": ("suspended",), "revoke": ("granted", "suspended")}[kind]:
        raise ApprovalConflict(_conflict_text(kind, stage, start, state), "approval_state_conflict",
                               state_on_effective_from=state)


def _approved_within(history, stage, start, end):
    """The first day in [start, end] on which the stage is approved or suspended, with that state; None if none.

    The state only changes on the days entries start or the days after they end, so those are the days to look at.
    """
    days = {start}
    for e in history:
        if e.get("stage") == stage:
            days.add(as_day(e["effective_from"]))
            if e.get("effective_to") is not None:
                days.add(as_day(e["effective_to"]) + timedelta(days=1))
    for day in sorted(d for d in days if d >= start and (end is None or d <= end)):
        state, _ = state_on(history, stage, day)
        if state in ("granted", "suspended"):
            return day, state
    return None


def _conflict_text(kind, stage, day, state):
    if kind == "grant" and state == "granted":
        return (f"The enterprise is already approved for {stage} on {day}: a new grant must start after the current "
                f"one ends (or revoke that one first).")
    if kind == "grant":
        return f"The {stage} approval is suspended on {day}: reinstate it instead of granting it again."
    if kind == "reinstate":
        return f"There is no suspension of the {stage} approval in force on {day} to lift ({STATE_TEXT[state]})."
    return f"The enterprise is not approved for {stage} on {day} ({STATE_TEXT[state]}), so there is nothing to {kind}."


def record(db, enterprise, action, actor, now, attempts=5):
    """Append an action to the enterprise's history after checking it; return the stored entry.

    Each entry's _id carries its place in the history, so two administrators recording at once cannot both take
    the same place: the loser re-reads the history and is checked again.
    """
    for _ in range(attempts):
        history = history_of(db, enterprise["_id"])
        check(enterprise, history, action)
        seq = max((e.get("seq", 0) for e in history), default=0) + 1
        entry = {
            "_id": f"APR-{enterprise['_id']}-{seq:04d}", "enterprise_id": enterprise["_id"], "seq": seq,
            "action": action["action"], "stage": action["stage"],
            "effective_from": stored_day(action["effective_from"]),
            "effective_to": stored_day(action["effective_to"]) if action.get("effective_to") else None,
            "reason": (action.get("reason") or "").strip() or None, "decision_no": action.get("decision_no"),
            "recorded_at": now, "recorded_by": (actor or {}).get("username", "system"),
        }
        try:
            db.approvals.insert_one(entry)
        except DuplicateKeyError:
            continue
        return entry
    raise ApprovalConflict("The approval history kept changing while this was being recorded; try again.",
                           "approval_state_conflict")


STAGE_APPROVAL = {"ore": "mining", "compound": "separation"}


def approval_on(enterprise, stage, day):
    """True/False when the stage needs a whitelist approval on that day; None when it needs none.

    Decided from the enterprise's approval history (grants, suspensions, reinstatements, revocations).
    """
    needed = STAGE_APPROVAL.get(stage)
    if needed is None:
        return None
    return approved_on((enterprise or {}).get("approvals", []), needed, china_day(day))
