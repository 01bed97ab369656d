"""Who each kind of notification concerns, by role."""
# Who each kind concerns. Enterprise: the enterprise's own users; supervisor: the supervisors named on the event
# (else every supervisor whose provinces include the event's); inspector: the inspectors named on the event.
AUDIENCES = {
    "finding_sent": ("enterprise",),
    "finding_deadline_soon": ("enterprise",),
    "finding_overdue": ("enterprise", "supervisor"),
    "finding_responded": ("supervisor",),
    "finding_resolved": ("enterprise", "inspector"),
    "ledger_missing": ("enterprise",),
    "ledger_missing_escalated": ("supervisor",),
    "receipt_claim": ("supervisor",),
    "unverified_import": ("supervisor",),
    "task_assigned": ("inspector",),
    "task_overdue": ("inspector", "supervisor"),
    "scan_verdict_differs": ("inspector",),
}
KINDS = tuple(AUDIENCES)


def kinds_for(role):
    """The kinds of event a role can receive."""
    return [k for k, audience in AUDIENCES.items() if role in audience]
