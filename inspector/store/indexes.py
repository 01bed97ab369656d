"""Every MongoDB index the service relies on, declared in one place and applied idempotently."""
from pymongo import ASCENDING as ASC, DESCENDING as DESC, IndexModel

INDEXES = {
    "enterprises": [
        IndexModel([("province", ASC)], name="province"),
        IndexModel([("roles", ASC)], name="roles"),
        IndexModel([("uscc", ASC)], name="uscc", unique=True, sparse=True),
        IndexModel([("glns", ASC)], name="glns", sparse=True),  # EPCIS parties and places (epcis/repository.py)
    ],
    "quotas": [
        IndexModel([("enterprise_id", ASC), ("year", ASC), ("category", ASC), ("issue_batch", ASC)],
                   name="enterprise_year_category_issue", unique=True),
        IndexModel([("year", ASC), ("category", ASC)], name="year_category"),
    ],
    "batches": [
        IndexModel([("gs1.gtin", ASC), ("gs1.lot", ASC)], name="gs1_lot", sparse=True),
        IndexModel([("gs1.gtin", ASC), ("gs1.serial", ASC)], name="gs1_serial", sparse=True),
        # Forward trace: $graphLookup from a batch to its children walks parent_codes.
        IndexModel([("parent_codes", ASC)], name="parent_codes"),
        IndexModel([("producer_id", ASC), ("produced_on", ASC)], name="producer_produced_on"),
        IndexModel([("holder_id", ASC), ("status", ASC)], name="holder_status"),
        IndexModel([("holder_id", ASC), ("_id", ASC)], name="holder_code"),  # a clerk's own batches, page by page
        IndexModel([("submission_id", ASC)], name="submission", sparse=True),  # rolling back a failed submission
        # Imports booked under a customs declaration: its used mass, and the recheck when the register is loaded.
        IndexModel([("import_check.declaration_no", ASC), ("produced_on", ASC)], name="import_declaration",
                   sparse=True),
        # Shipments waiting for their receipt (ledger.transfers): all, oldest first and overdue; or by either side.
        IndexModel([("in_transit.since", ASC)], name="in_transit_since", sparse=True),
        IndexModel([("in_transit.from_id", ASC), ("in_transit.since", ASC)], name="in_transit_from", sparse=True),
        IndexModel([("in_transit.to_id", ASC), ("in_transit.since", ASC)], name="in_transit_to", sparse=True),
    ],
    "customs_declarations": [
        IndexModel([("importer_id", ASC), ("declared_on", DESC)], name="importer_declared_on"),
        IndexModel([("declared_on", DESC), ("_id", ASC)], name="declared_on"),
    ],
    "transfer_claims": [
        # Receipts no shipment backs (ledger.transfers): on a batch (submission, scan), listed, ranked, rolled back.
        IndexModel([("batch_code", ASC), ("state", ASC)], name="batch_state"),
        IndexModel([("parties", ASC), ("state", ASC), ("recorded_at", DESC)], name="parties_state_recorded_at"),
        IndexModel([("state", ASC), ("recorded_at", DESC)], name="state_recorded_at"),
        IndexModel([("submission_id", ASC)], name="submission"),
    ],
    "movements": [
        IndexModel([("batch_code", ASC), ("date", ASC)], name="batch_date"),
        IndexModel([("from_id", ASC), ("period", ASC)], name="from_period"),
        IndexModel([("to_id", ASC), ("period", ASC)], name="to_period"),
        IndexModel([("doc_no", ASC)], name="doc_no"),
        IndexModel([("submission_id", ASC)], name="submission", sparse=True),
    ],
    "ledger_undo": [
        IndexModel([("submission_id", ASC)], name="submission"),
    ],
    "monthly_reports": [
        IndexModel([("enterprise_id", ASC), ("period", ASC)], name="enterprise_period", unique=True),
    ],
    "production_periods": [
        IndexModel([("enterprise_id", ASC), ("period", ASC)], name="enterprise_period", unique=True),
        IndexModel([("given_back", ASC)], name="given_back", sparse=True),  # an undone submission's markers
    ],
    "approvals": [
        IndexModel([("enterprise_id", ASC), ("stage", ASC), ("effective_from", ASC)], name="enterprise_stage_from"),
    ],
    "penalties": [
        IndexModel([("enterprise_id", ASC), ("year", ASC)], name="enterprise_year"),
    ],
    "quota_usage": [
        IndexModel([("enterprise_id", ASC), ("year", ASC), ("category", ASC)], name="enterprise_year_category",
                   unique=True),
        IndexModel([("given_back", ASC)], name="given_back", sparse=True),  # an undone submission's markers
    ],
    "ledger_events": [
        # _id is a hash of (enterprise_id, event_id), which makes the pair unique; this index serves lookups.
        IndexModel([("enterprise_id", ASC), ("event_id", ASC)], name="enterprise_event_id"),
        # A batch's history (EPCIS export: ledger.submission.history) and a submission's events (ledger.rollback).
        IndexModel([("codes", ASC), ("occurred_at", ASC)], name="codes_occurred_at"),
        IndexModel([("submission_id", ASC)], name="submission"),
        # Risk ranking: flagged events in a recent window.
        IndexModel([("flags.code", ASC), ("occurred_at", ASC)], name="flags_occurred_at"),
    ],
    # Offline packs kept per user for their deltas (inspector/offline/delta.py), newest first.
    "offline_packs": [IndexModel([("user_id", ASC), ("built_at", DESC)], name="user_built_at")],
    # The EPCIS repository (ledger/epcis/repository.py, query.py): pages in eventID order, scoped by viewers.
    "epcis_events": [
        IndexModel([("viewers", ASC), ("_id", ASC)], name="viewers_id"),
        IndexModel([("type", ASC), ("_id", ASC)], name="type_id"),
        IndexModel([("event_time", ASC)], name="event_time"),
        IndexModel([("record_time", ASC)], name="record_time"),
        IndexModel([("biz_step", ASC), ("_id", ASC)], name="biz_step_id"),
        IndexModel([("disposition", ASC), ("_id", ASC)], name="disposition_id"),
        IndexModel([("read_point", ASC), ("_id", ASC)], name="read_point_id"),
        IndexModel([("biz_location", ASC), ("_id", ASC)], name="biz_location_id"),
        IndexModel([("epcs", ASC), ("_id", ASC)], name="epcs_id"),
        IndexModel([("epc_list", ASC), ("_id", ASC)], name="epc_list_id"),
        IndexModel([("epc_classes", ASC), ("_id", ASC)], name="epc_classes_id"),
        IndexModel([("capture_id", ASC)], name="capture"),
    ],
    # Named queries and their webhook subscriptions (ledger/epcis/named_queries.py, delivery.py).
    "epcis_queries": [IndexModel([("owner", ASC), ("name", ASC)], name="owner_name", unique=True)],
    "epcis_subscriptions": [IndexModel([("query_id", ASC), ("created_at", ASC)], name="query_created_at"),
                            IndexModel([("owner", ASC)], name="owner")],
    "epcis_captures": [
        IndexModel([("enterprise_id", ASC), ("createdAt", DESC), ("_id", DESC)], name="enterprise_created_at"),
        IndexModel([("createdAt", DESC), ("_id", DESC)], name="created_at"),
    ],
    "ledger_submissions": [
        # An enterprise's submissions, newest first (ledger.submission.receipts).
        IndexModel([("enterprise_id", ASC), ("received_at", DESC)], name="enterprise_received_at"),
        IndexModel([("state", ASC)], name="state"),
        IndexModel([("audit_pending.at", ASC)], name="audit_pending_at", sparse=True),  # the start-up sweep
    ],
    "users": [
        IndexModel([("username", ASC)], name="username", unique=True),
        IndexModel([("enterprise_id", ASC)], name="enterprise", sparse=True),
        IndexModel([("role", ASC)], name="role"),  # the supervisors a notification reaches (notifications.events)
    ],
    # Notifications (inspector.notifications): a user's inbox newest first and unread; the e-mail and webhook
    # queues by what is due; a webhook's delivery log; the webhooks an event's enterprise or province matches.
    "notifications": [
        IndexModel([("user_id", ASC), ("created_at", DESC), ("_id", DESC)], name="user_created_at_id"),
        IndexModel([("user_id", ASC), ("read_at", ASC)], name="user_read_at"),
    ],
    "mail_outbox": [IndexModel([("state", ASC), ("next_try_at", ASC)], name="state_next_try_at")],
    "webhook_deliveries": [
        IndexModel([("state", ASC), ("next_try_at", ASC)], name="state_next_try_at"),
        IndexModel([("hook_id", ASC), ("created_at", DESC)], name="hook_created_at"),
    ],
    "webhooks": [
        IndexModel([("enterprise_id", ASC)], name="enterprise", sparse=True),
        IndexModel([("province", ASC)], name="province", sparse=True),
    ],
    "sessions": [
        IndexModel([("refresh_hash", ASC)], name="refresh_hash", unique=True),
        IndexModel([("user_id", ASC), ("device_id", ASC)], name="user_device"),
        # Sessions past their refresh expiry are dead; a week later they are cleared away.
        IndexModel([("refresh_expires_at", ASC)], name="refresh_expiry_ttl", expireAfterSeconds=7 * 86400),
    ],
    "findings": [
        IndexModel([("inspector_id", ASC), ("client_id", ASC)], name="inspector_client_id", unique=True),
        # Listings sort on (field, _id) so pages stay stable: each index ends with the sort and _id, which lets
        # MongoDB read a page in order instead of sorting every match (tests/test_query_coverage.py checks them).
        IndexModel([("status", ASC), ("observed_at", DESC), ("_id", DESC)], name="status_observed_at_id"),
        # One enterprise's findings (its own list, or a reviewer's filter); the status of its scope is checked
        # on the entries read in order.
        IndexModel([("enterprise_id", ASC), ("observed_at", DESC), ("_id", DESC)], name="enterprise_observed_at_id"),
        IndexModel([("enterprise_id", ASC), ("received_at", DESC), ("_id", DESC)], name="enterprise_received_at_id"),
        IndexModel([("province", ASC), ("observed_at", DESC), ("_id", DESC)], name="province_observed_at_id"),
        IndexModel([("province", ASC), ("status", ASC), ("observed_at", DESC), ("_id", DESC)],
                   name="province_status_observed_at_id"),
        IndexModel([("inspector_id", ASC), ("observed_at", DESC), ("_id", DESC)], name="inspector_observed_at_id"),
        IndexModel([("inspector_id", ASC), ("received_at", DESC), ("_id", DESC)], name="inspector_received_at_id"),
        IndexModel([("discrepancies", ASC), ("observed_at", DESC), ("_id", DESC)], name="discrepancies_observed_at_id"),
        IndexModel([("severity", ASC), ("observed_at", DESC), ("_id", DESC)], name="severity_observed_at_id"),
        IndexModel([("site.type", ASC), ("observed_at", DESC), ("_id", DESC)], name="site_type_observed_at_id"),
        IndexModel([("status", ASC), ("deadline", ASC), ("_id", ASC)], name="status_deadline_id"),  # overdue
        # A reviewer's log in each sort order it offers.
        IndexModel([("observed_at", DESC), ("_id", DESC)], name="observed_at_id"),
        IndexModel([("received_at", DESC), ("_id", DESC)], name="received_at_id"),
        IndexModel([("updated_at", DESC), ("_id", DESC)], name="updated_at_id"),
        IndexModel([("deadline", ASC), ("_id", ASC)], name="deadline_id"),
        # Promises no request came back to settle, found by the sweep at process start (few, so sparse).
        IndexModel([("audit_pending.at", ASC)], name="audit_pending_at", sparse=True),
    ],
    "finding_attachments": [
        IndexModel([("finding_id", ASC), ("sha256", ASC)], name="finding_sha256", unique=True),
        # Promises no request came back to settle, found by the sweep at process start (few, so sparse).
        IndexModel([("audit_pending.at", ASC)], name="audit_pending_at", sparse=True),
    ],
    "tasks": [
        # Inspection tasks (inspector.tasks): a supervisor's list soonest due first, whole or by province; an
        # inspector's own and the pools'; the open tasks a scan or finding of a batch completes.
        IndexModel([("due_at", ASC), ("_id", ASC)], name="due_at_id"),
        IndexModel([("province", ASC), ("due_at", ASC), ("_id", ASC)], name="province_due_at_id"),
        IndexModel([("assignees", ASC), ("status", ASC), ("due_at", ASC), ("_id", ASC)],
                   name="assignees_status_due_at_id"),
        IndexModel([("pool", ASC), ("status", ASC), ("due_at", ASC), ("_id", ASC)], name="pool_status_due_at_id"),
        IndexModel([("items.batch_code", ASC), ("status", ASC)], name="item_batch_status"),
        # The tasks sent out for one recall (or finding, or risk row), for its progress.
        IndexModel([("origin.ref", ASC), ("due_at", ASC), ("_id", ASC)], name="origin_ref_due_at_id"),
    ],
    "audit_log": [
        # An entry written for a promise carries its key: a second try at the same promise cannot write it again.
        IndexModel([("key", ASC)], name="promise_key", unique=True, sparse=True),
    ],
    "scans": [
        IndexModel([("inspector_id", ASC), ("client_id", ASC)], name="inspector_client_id", unique=True),
        # A batch's earlier scans (the scan's cloned-code look-back joins on batch_code) and its scan list.
        IndexModel([("batch_code", ASC), ("received_at", DESC)], name="batch_received_at"),
        IndexModel([("received_at", DESC)], name="received_at"),  # a reviewer's scan list, newest first
        IndexModel([("province", ASC), ("received_at", DESC)], name="province_received_at"),  # a province's reviewer
        IndexModel([("inspector_id", ASC), ("received_at", DESC)], name="inspector_received_at"),
        # Risk ranking: failing verdicts in a recent window.
        IndexModel([("verdict.status", ASC), ("received_at", DESC)], name="verdict_received_at"),
        # Scan review (oversight.scan_review): cloned-code hits and contradicted scan times in a recent window.
        IndexModel([("verdict.reasons.code", ASC), ("received_at", DESC)], name="reason_received_at"),
        IndexModel([("time_check.status", ASC), ("received_at", DESC)], name="time_check_received_at"),
        # Promises no request came back to settle, found by the sweep at process start (few, so sparse).
        IndexModel([("audit_pending.at", ASC)], name="audit_pending_at", sparse=True),
    ],
}


def apply_indexes(db, declared=None):
    """Create every declared index; re-running is a no-op because names and keys match."""
    created = {}
    for collection, models in (declared or INDEXES).items():
        created[collection] = db[collection].create_indexes(models)
    return created
