"""The findings state machine: which action moves a finding from which state, by whom, and what it records.

submitted -> confirmed | dismissed -> (confirmed) awaiting_response -> responded -> resolved | awaiting_response.
Every change is one update_one whose filter holds the ETag the caller read (Eve's pattern), so two
reviewers racing on the same finding cannot both win.
"""
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from inspector.clock import aware
from inspector.errors import DomainError
from inspector.audit import promises
from inspector.notifications import events as notifications
from inspector.store.connection import durable

SUBMITTED = "submitted"
CONFIRMED = "confirmed"
DISMISSED = "dismissed"
AWAITING_RESPONSE = "awaiting_response"
RESPONDED = "responded"
RESOLVED = "resolved"
STATES = (SUBMITTED, CONFIRMED, DISMISSED, AWAITING_RESPONSE, RESPONDED, RESOLVED)
FINAL_STATES = (DISMISSED, RESOLVED)
# An enterprise sees a finding only once a supervisor has sent it: unreviewed or dismissed ones are internal.
SENT_STATES = (AWAITING_RESPONSE, RESPONDED, RESOLVED)

DISMISS_REASONS = ("insufficient_evidence", "duplicate", "not_a_violation", "data_error", "other")
OUTCOMES = ("accepted", "penalty_recommended", "referred")
RESPONSE_TYPES = ("explanation", "dispute")
MAX_DEADLINE_DAYS = 365
MAX_ATTACHMENTS = 50  # per finding: enough for any case, and keeps the finding document well under 16 MB


@dataclass(frozen=True)
class Action:
    """One transition: its source and target states, the role that may take it, and the fields it takes."""

    name: str
    source: str
    target: str
    role: str
    fields: tuple = ()
    comment_required: bool = False


ACTIONS = {a.name: a for a in [
    Action("confirm", SUBMITTED, CONFIRMED, "supervisor"),
    Action("dismiss", SUBMITTED, DISMISSED, "supervisor", ("reason",)),
    Action("send_to_enterprise", CONFIRMED, AWAITING_RESPONSE, "supervisor", ("deadline",)),
    Action("respond", AWAITING_RESPONSE, RESPONDED, "enterprise", ("response_type", "attachment_ids"),
           comment_required=True),
    Action("request_more", RESPONDED, AWAITING_RESPONSE, "supervisor", ("deadline",), comment_required=True),
    Action("resolve", RESPONDED, RESOLVED, "supervisor", ("outcome",)),
]}
EXTRA_FIELDS = ("deadline", "reason", "outcome", "response_type", "attachment_ids")


class WorkflowError(DomainError):
    """A transition or attachment the rules refuse; code is machine-readable, str() is for people."""

    kind, code = "conflict", "workflow_error"

    def __init__(self, message, **details):
        super().__init__(message, **details)


class StaleFinding(WorkflowError):
    kind, code = "stale", "stale_etag"


class NotAllowedInState(WorkflowError):
    kind, code = "conflict", "invalid_transition"


class WrongRole(WorkflowError):
    kind, code = "forbidden", "forbidden_action"


class OwnFinding(WorkflowError):
    kind, code = "forbidden", "separation_of_duties"


class BadTransitionInput(WorkflowError):
    kind, code = "invalid", "invalid_transition_input"


class TooManyAttachments(WorkflowError):
    kind, code = "conflict", "too_many_attachments"


def new_etag():
    """A fresh entity tag: every write to a finding stores a new one."""
    return uuid.uuid4().hex


def actions_from(state):
    """The action names valid from a state, whoever asks."""
    return [a.name for a in ACTIONS.values() if a.source == state]


def is_submitter(finding, actor):
    """True when the actor logged this finding."""
    return finding.get("inspector_id") == actor.get("user_id")


def allowed_actions(finding, actor):
    """The actions this actor may take on the finding now."""
    return [a.name for a in ACTIONS.values()
            if a.source == finding["status"] and a.role == actor.get("role")
            and not (a.role == "supervisor" and is_submitter(finding, actor))]


def is_overdue(finding, now):
    """True when the enterprise's deadline has passed without a response."""
    deadline = finding.get("deadline")
    return finding["status"] == AWAITING_RESPONSE and deadline is not None and aware(deadline) < now


def check_attach(finding, actor):
    """Raise unless the actor may add a file to the finding in its current state."""
    role = actor.get("role")
    if finding["status"] in FINAL_STATES:
        raise NotAllowedInState(f"This finding is {finding['status']}: no more files can be added.",
                                current_status=finding["status"])
    if role == "enterprise":
        if finding["status"] != AWAITING_RESPONSE:
            raise NotAllowedInState("Enterprises add documents while a response is awaited.", current_status=finding["status"])
        return
    if role == "supervisor" or is_submitter(finding, actor):
        return
    raise WrongRole("Only the submitting inspector, a supervisor or the enterprise may add files to this finding.")


def plan(finding, actor, request, expected_etag, now, response_days):
    """Check a transition request against the rules; return (action, $set fields, timeline entry) or raise."""
    if expected_etag != finding["_etag"]:
        # No current ETag in the answer: the caller should read what changed, not retry blindly.
        raise StaleFinding("This finding changed since you read it: reload it, check what changed, and try again.")
    action = ACTIONS.get(request.get("action"))
    if action is None or action.source != finding["status"]:
        raise NotAllowedInState(
            f"{request.get('action')!r} is not possible while the finding is {finding['status']}.",
            current_status=finding["status"], allowed_actions=actions_from(finding["status"]))
    if actor.get("role") != action.role:
        raise WrongRole(f"Only a {action.role} may {action.name.replace('_', ' ')} a finding.")
    if action.role == "supervisor" and is_submitter(finding, actor):
        raise OwnFinding("You logged this finding, so another supervisor must review it.")
    for name in EXTRA_FIELDS:
        if request.get(name) is not None and name not in action.fields:
            raise BadTransitionInput(f"{name} does not apply to {action.name}.", field=name)
    comment = (request.get("comment") or "").strip()
    if action.comment_required and not comment:
        raise BadTransitionInput(f"{action.name.replace('_', ' ').capitalize()} needs a comment.", field="comment")

    changes = {"status": action.target}
    entry = {"at": now, "action": action.name, "from": finding["status"], "to": action.target,
             "actor_id": actor.get("user_id"), "actor": actor.get("username"), "role": actor.get("role"),
             "device_id": actor.get("device_id"), "comment": comment or None}
    _fill_specifics(action, finding, request, now, response_days, changes, entry)
    return action, changes, entry


def _fill_specifics(action, finding, request, now, response_days, changes, entry):
    if action.name == "dismiss":
        reason = request.get("reason")
        if reason not in DISMISS_REASONS:
            raise BadTransitionInput(f"Dismissing needs a reason: one of {', '.join(DISMISS_REASONS)}.", field="reason")
        if reason == "other" and not entry["comment"]:
            raise BadTransitionInput("Dismissing for 'other' needs a comment saying why.", field="comment")
        changes["dismiss_reason"] = entry["reason"] = reason
    elif action.name in ("send_to_enterprise", "request_more"):
        deadline = _deadline(request.get("deadline"), now, response_days)
        changes["deadline"] = entry["deadline"] = deadline
        if action.name == "send_to_enterprise":
            changes["sent_at"] = now
    elif action.name == "respond":
        response_type = request.get("response_type") or "explanation"
        if response_type not in RESPONSE_TYPES:
            raise BadTransitionInput(f"response_type must be one of {', '.join(RESPONSE_TYPES)}.", field="response_type")
        ids = list(dict.fromkeys(request.get("attachment_ids") or []))
        theirs = {a["id"] for a in finding.get("attachments", []) if a.get("uploaded_role") == "enterprise"}
        unknown = [i for i in ids if i not in theirs]
        if unknown:
            raise BadTransitionInput("Some attachment_ids are not documents your enterprise added to this finding.",
                                     field="attachment_ids", unknown=unknown)
        late = is_overdue(finding, now)
        entry.update(response_type=response_type, attachment_ids=ids, late=late)
        changes.update(response_type=response_type, responded_at=now, responded_late=late)
    elif action.name == "resolve":
        outcome = request.get("outcome")
        if outcome not in OUTCOMES:
            raise BadTransitionInput(f"Resolving needs an outcome: one of {', '.join(OUTCOMES)}.", field="outcome")
        changes["outcome"] = entry["outcome"] = outcome
        changes["resolved_at"] = now


def _deadline(requested, now, response_days):
    if requested is None:
        return now + timedelta(days=response_days)
    requested = aware(requested)
    if requested <= now:
        raise BadTransitionInput("The deadline must be in the future.", field="deadline")
    if requested > now + timedelta(days=MAX_DEADLINE_DAYS):
        raise BadTransitionInput(f"The deadline must be within {MAX_DEADLINE_DAYS} days.", field="deadline")
    return requested


def apply(db, finding, actor, request, expected_etag, now=None, response_days=14):
    """Take a transition atomically; return the updated finding, or raise a WorkflowError.

    A retry of a transition that went through (same action, same caller, the ETag it was made from) is answered with
    the finding as it stands, so a lost answer never turns into a 412.
    """
    now = now or datetime.now(timezone.utc)
    findings = durable(db, "findings")
    if finding.get("audit_pending"):  # an interrupted write: its audit entry comes before anything else
        promises.settle(db, "findings", finding["_id"], finding.pop("audit_pending"))
    try:
        action, changes, entry = plan(finding, actor, request, expected_etag, now, response_days)
    except StaleFinding:
        if _already_taken(finding, actor, request, expected_etag):
            return _told(db, findings.find_one({"_id": finding["_id"]}), request, now)
        raise
    promise = promises.pending(actor, f"finding.{action.name}", f"finding:{finding['_id']}",
                            {"from": action.source, "to": action.target, "comment": entry["comment"],
                             **{k: entry[k] for k in EXTRA_FIELDS + ("late",) if k in entry}}, now=now)
    changes.update(_etag=new_etag(), updated_at=now, audit_pending=promise,
                   last_change={"from_etag": expected_etag, "action": action.name, "actor_id": actor.get("user_id"),
                                "request": request_digest(request)})
    with promises.exclusive("finding-transition", finding["_id"]):
        # The ETag and the state the plan was made for are in the filter: a concurrent change makes this match nothing.
        result = findings.update_one({"_id": finding["_id"], "_etag": expected_etag, "status": action.source},
                                     {"$set": changes, "$push": {"timeline": entry}})
        if result.matched_count != 1:
            current = findings.find_one({"_id": finding["_id"]}) or finding
            if _already_taken(current, actor, request, expected_etag):  # the same request won a moment ago
                return _told(db, current, request, now)
            raise StaleFinding("This finding changed while you were saving: reload it and try again.")
        promises.settle(db, "findings", finding["_id"], promise)
    return _told(db, findings.find_one({"_id": finding["_id"]}), request, now)


def _told(db, finding, request, now):
    """The finding, after recording the event its change raises (again on a replay: the key makes it once)."""
    event = notifications.finding_event(finding, request.get("action"), now)
    if event:
        notifications.notify_quietly(db, event)
    return finding


def request_digest(request):
    """A digest of what a transition request asks for (its action, the fields it takes, its comment), normalised."""
    action = ACTIONS.get(request.get("action"))
    asked = {"action": request.get("action"), "comment": (request.get("comment") or "").strip() or None}
    for name in EXTRA_FIELDS:
        value = request.get(name)
        if isinstance(value, datetime):
            value = aware(value).astimezone(timezone.utc).isoformat()
        elif name == "attachment_ids" and value is not None:
            value = list(dict.fromkeys(value))
        if value is not None or (action and name in action.fields):
            asked[name] = value
    if request.get("action") == "respond":
        asked["response_type"] = asked.get("response_type") or "explanation"
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def _already_taken(finding, actor, request, expected_etag):
    # Only the very same request is answered with its result: different fields with the old ETag are a new
    # decision made on a stale read, and get the 412 that says so.
    last = finding.get("last_change") or {}
    return (last.get("from_etag") == expected_etag and last.get("action") == request.get("action")
            and last.get("actor_id") == actor.get("user_id") and last.get("request") == request_digest(request))
