"""Ledger submissions: enterprises report their monthly product flows (JSON, CSV or XLSX), all or nothing.

Refusals the ledger explains (too many lines, an unreadable file, a conflict, a try still in progress, ...) are domain
errors that reach the one handler in api/errors.py; this module only checks who may report and what the request holds.
"""
import re
from datetime import timedelta

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.accounts import scope
from inspector.clock import aware
from inspector.ledger import submission, transfers
from inspector.ledger.files import events_from_rows, file_columns
from inspector.ledger.upload import LedgerFile
from inspector.ledger.template import template_csv, template_parties, template_xlsx

from .auth import BEARER, principal, require
from .context import db, now, settings
from .errors import fail, large_body

# The blueprint name is the OpenAPI tag integrators already use, so it keeps its old word.
blp = Blueprint("intake", __name__, url_prefix="/api/ledger",
                description="Ledger submissions: enterprises report their monthly product flows, all or nothing per "
                            "submission.")
REPORTERS = ("enterprise", "admin")
PERIOD = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_TYPE = "application/vnd.oasis.opendocument.spreadsheet"
NOT_YOURS = ("Your role may not report (forbidden_role), you named another enterprise than your own "
             "(not_your_enterprise), or your password must be changed first (password_change_required).")
LEDGER_CONFLICT = ("The ledger changed while the submission was applied; nothing was stored, submit it again "
                   "(ledger_conflict). Or an earlier try of these events is still being applied or undone; retry "
                   "after Retry-After seconds (submission_in_progress).")
IN_PROGRESS_HEADERS = {"Retry-After": {"description": "Seconds to wait (submission_in_progress only).",
                                       "schema": {"type": "integer"}}}

EXAMPLE_EVENTS = [
    {"event_id": "EV-2026-10-0001", "type": "production", "enterprise_id": "ENT-NSM", "occurred_at": "2026-10-03",
     "outputs": [{"stage": "ore", "product_type": "bastnaesite_concentrate", "mass_kg": 25000, "reo_pct": 55.5}]},
    {"event_id": "EV-2026-10-0002", "type": "shipment", "enterprise_id": "ENT-NSM", "occurred_at": "2026-10-04",
     "code": "RE6LWUT4A5U", "mass_kg": 25000, "to_id": "ENT-BPS", "doc_no": "WB-202610-0001"},
]
EXAMPLE_RECEIPT = {
    "submission_id": "8c5e0f7a9b1d4e2f8a6b3c1d0e9f7a5b", "status": "accepted", "channel": "json",
    "received_at": "2026-11-05T02:00:00+00:00", "enterprise_id": "ENT-NSM", "events": 2, "accepted": 2, "rejected": 0,
    "duplicates": 0, "errors": [], "periods": ["2026-10"],
    "flags": [{"event_id": "EV-2026-10-0001", "line": 1, "code": "over_quota", "year": 2026,
               "category": "mining_light", "allocated_t": 104000.0, "used_t": 104013.9,
               "message": "Production brings ENT-NSM's 2026 mining_light quota use to 104,013.9 t REO of 104,000.0 t "
                          "allocated."}],
    "issued_codes": {"EV-2026-10-0001": ["RE6LWUT4A5U"]},
}


def _period(value):
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not PERIOD.match(value):
        raise ma.ValidationError("A period is YYYY-MM, e.g. 2026-10.")
    return value


class SubmissionSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Raw(), required=True,
                            metadata={"description": "Canonical ledger events (docs/ledger-events.md); an empty list "
                                                     "with a period is a nil report."})
    period = ma.fields.String(validate=_period, metadata={"description": "The month reported (YYYY-MM), optional."})
    enterprise_id = ma.fields.String(validate=ma.validate.Length(min=1, max=40),
                                     metadata={"description": "Administrators reporting for an enterprise."})


class UploadFormSchema(ma.Schema):
    period = ma.fields.String(validate=_period)
    enterprise_id = ma.fields.String(validate=ma.validate.Length(min=1, max=40))


class ReceiptSchema(ma.Schema):
    submission_id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["accepted", "rejected"]})
    channel = ma.fields.String()
    received_at = ma.fields.DateTime()
    enterprise_id = ma.fields.String(allow_none=True)
    events = ma.fields.Integer(metadata={"description": "Events read (a CSV event may span several lines)."})
    accepted = ma.fields.Integer()
    rejected = ma.fields.Integer()
    duplicates = ma.fields.Integer()
    errors = ma.fields.List(ma.fields.Dict(), metadata={"description": "At most 1,000 listed; the counts are exact."})
    flags = ma.fields.List(ma.fields.Dict())
    issued_codes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                                  metadata={"description": "Codes the service issued, by event id."})
    label_signatures = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), metadata={
        "description": "The authority's signature of each issued code, to print on its label: GS1 AI (8030) beside "
                       "(01)+(21), and after ';' beside the code in the QR code (docs/offline.md)."})
    issued = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "The same, one entry per enterprise and event id (for submissions covering several)."})
    periods = ma.fields.List(ma.fields.String())
    warnings = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "Files: what was tolerated and not read (a title row, a second header row, an extra column), "
                       "each with code, params and message."})


class SubmissionListQuery(ma.Schema):
    enterprise_id = ma.fields.String(validate=ma.validate.Length(max=40))
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


def _actor_scope(enterprise_id):
    me = principal()
    if me["role"] == "admin":
        return enterprise_id
    if enterprise_id and enterprise_id != me.get("enterprise_id"):
        fail(403, "not_your_enterprise", f"You report for {me.get('enterprise_id')}, not for {enterprise_id}.")
    return me.get("enterprise_id")


def run_submission(lines, channel, period=None, enterprise_id=None, ledger_file=None, named=None):
    """Submit lines for the caller and answer like every ledger channel does: 201 accepted, 422 rejected.

    named(error) renames a refused line's fields as the channel's senders know them (EPCIS field names)."""
    me = principal()
    enterprise_id = _actor_scope(enterprise_id)
    submission.check_target(db(), enterprise_id, period, now())
    extra = {"warnings": ledger_file.warnings, "columns": file_columns} if ledger_file else {}
    receipt = submission.submit(db(), settings(), me, lines, channel, now(), period=period, enterprise_id=enterprise_id,
                                **extra)
    if receipt["status"] == "rejected":
        if named:
            receipt["errors"] = [named(e) for e in receipt["errors"]]
        fail(422, "submission_rejected", f"{receipt['rejected']} line(s) cannot be accepted; nothing of this "
                                         "submission was stored. Fix them and submit the whole file again.",
             receipt=receipt)
    return receipt


@blp.route("/submissions")
class Submissions(MethodView):
    @large_body  # a month of a big site's flows as JSON
    @blp.doc(security=BEARER)
    @blp.arguments(SubmissionSchema, example={"period": "2026-10", "events": EXAMPLE_EVENTS})
    @blp.response(201, ReceiptSchema, example=EXAMPLE_RECEIPT)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(409, description=LEDGER_CONFLICT, headers=IN_PROGRESS_HEADERS)
    @blp.alt_response(422, description="Rejected: the receipt with every line's error is in errors.receipt.")
    @require(*REPORTERS)
    def post(self, body):
        """Submit ledger events as JSON: every event is checked, then all are stored or none."""
        events = body["events"]
        if len(events) > settings().intake_max_lines:
            fail(413, "too_many_lines", f"A submission holds at most {settings().intake_max_lines:,} events.")
        if not events and not body.get("period"):
            fail(422, "empty_submission", "Send at least one event, or a period with no events as a nil report.")
        return run_submission([(i, e) for i, e in enumerate(events, start=1)], "json", body.get("period"),
                              body.get("enterprise_id"))

    @blp.doc(security=BEARER)
    @blp.arguments(SubmissionListQuery, location="query")
    @blp.response(200, ReceiptSchema(many=True))
    @require("enterprise", "supervisor", "admin")
    def get(self, query):
        """Your enterprise's submissions, newest first (supervisors see their provinces', administrators all)."""
        me = principal()
        filters = {}
        if me["role"] == "enterprise":
            filters["enterprise_id"] = me.get("enterprise_id")
        elif query.get("enterprise_id"):
            filters["enterprise_id"] = query["enterprise_id"]
        visible = scope.visible_ids(db(), me)
        if visible is not None and me["role"] != "enterprise":
            wanted = [filters["enterprise_id"]] if "enterprise_id" in filters else visible
            filters["enterprise_id"] = {"$in": sorted(set(wanted) & set(visible))}
        return submission.receipts(db(), query["limit"], **filters)


@blp.route("/submissions/<submission_id>")
class Submission(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, ReceiptSchema, example=EXAMPLE_RECEIPT)
    @blp.alt_response(404, description="No such submission among the ones you may see.")
    @require("enterprise", "supervisor", "admin")
    def get(self, submission_id):
        """The receipt of one submission."""
        found = submission.submission(db(), submission_id)
        me = principal()
        if not found or not scope.sees_id(db(), me, found.get("enterprise_id")):
            fail(404, "submission_not_found", "No such submission among the ones you may see.")
        return submission.receipt_of(found)


@blp.route("/uploads")
class Uploads(MethodView):
    @blp.doc(security=BEARER, requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "The ledger as CSV (UTF-8 or GBK), XLSX or ODS, "
                                                                          "in the template's columns."},
            "period": {"type": "string", "example": "2026-10"},
            "enterprise_id": {"type": "string"}}}}}})
    @blp.arguments(UploadFormSchema, location="form")
    @blp.response(201, ReceiptSchema, example={**EXAMPLE_RECEIPT, "channel": "csv"})
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(409, description=LEDGER_CONFLICT, headers=IN_PROGRESS_HEADERS)
    @blp.alt_response(415, description="The file is not .csv, .xlsx or .ods (error_code unsupported_file).")
    @blp.alt_response(422, description="Rejected: the receipt with every line's error is in errors.receipt; or no "
                                       "file, or one that cannot be read.")
    @require(*REPORTERS)
    def post(self, form):
        """Upload the monthly ledger as a CSV or XLSX file; it is read as a stream, checked, then stored all or none."""
        upload = request.files.get("file")
        if upload is None:
            fail(422, "invalid_upload", "Send the ledger file as multipart/form-data in the field 'file'.",
                 files={"file": ["Missing data for required field."]})
        name = (upload.filename or "").lower()
        stream, limit = upload.stream, settings().intake_max_lines
        if name.endswith(".xlsx") or upload.mimetype == XLSX_TYPE:
            channel = "xlsx"
        elif name.endswith(".ods") or upload.mimetype == ODS_TYPE:
            channel = "ods"
        elif name.endswith((".csv", ".txt")) or upload.mimetype in ("text/csv", "text/plain"):
            channel = "csv"
        else:
            fail(415, "unsupported_file", "Upload the ledger as .csv, .xlsx or .ods (download the template).")
        ledger_file = LedgerFile(stream, channel, limit)
        return run_submission(lambda: events_from_rows(ledger_file.rows()), channel, form.get("period"),
                              form.get("enterprise_id"), ledger_file)


def _template_parties():
    """The clerk's own enterprise for the example lines, and a registered other one to ship to (none for staff)."""
    return template_parties(db(), principal().get("enterprise_id"))


@blp.route("/template.csv")
class TemplateCsv(MethodView):
    @blp.doc(security=BEARER, responses={"200": {"description": "The CSV template.",
                                                 "content": {"text/csv": {"schema": {"type": "string"}}}}})
    @require("enterprise", "supervisor", "admin")
    def get(self):
        """The ledger template as CSV: the columns and an example of each common event."""
        return Response(template_csv(*_template_parties()), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=ledger-template.csv"})


@blp.route("/template.xlsx")
class TemplateXlsx(MethodView):
    @blp.doc(security=BEARER, responses={"200": {"description": "The XLSX template.",
                                                 "content": {XLSX_TYPE: {"schema": {"type": "string",
                                                                                     "format": "binary"}}}}})
    @require("enterprise", "supervisor", "admin")
    def get(self):
        """The ledger template as an XLSX workbook."""
        return Response(template_xlsx(*_template_parties()), mimetype=XLSX_TYPE,
                        headers={"Content-Disposition": "attachment; filename=ledger-template.xlsx"})


class ClaimSchema(ma.Schema):
    id = ma.fields.String(attribute="_id")
    batch_code = ma.fields.String()
    claimant_id = ma.fields.String(metadata={"description": "The enterprise that reported the receipt."})
    from_id = ma.fields.String(metadata={"description": "The sender the receipt names."})
    holder_id = ma.fields.String(metadata={"description": "The batch's holder when the receipt was reported."})
    doc_no = ma.fields.String()
    mass_kg = ma.fields.Float(allow_none=True)
    received_on = ma.fields.DateTime()
    recorded_at = ma.fields.DateTime()
    event_id = ma.fields.String()
    state = ma.fields.String(metadata={"enum": ["open"]})


class TransitSchema(ma.Schema):
    batch_code = ma.fields.String(attribute="_id")
    from_id = ma.fields.String()
    to_id = ma.fields.String()
    doc_no = ma.fields.String()
    mass_kg = ma.fields.Float()
    since = ma.fields.DateTime(metadata={"description": "When the shipment left."})
    overdue = ma.fields.Boolean(metadata={"description": "Not received within IN_TRANSIT_DAYS."})


class TransfersSchema(ma.Schema):
    in_transit_days = ma.fields.Integer()
    claims = ma.fields.List(ma.fields.Nested(ClaimSchema), metadata={
        "description": "Open claims: receipts no shipment of the holder backs; they moved nothing. Newest first."})
    in_transit = ma.fields.List(ma.fields.Nested(TransitSchema), metadata={
        "description": "Batches shipped and not yet received, oldest first."})


class TransfersQuery(ma.Schema):
    enterprise_id = ma.fields.String(validate=ma.validate.Length(max=40),
                                     metadata={"description": "Supervisors and administrators: one enterprise."})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=200))


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(TransfersQuery, location="query")
    @blp.response(200, TransfersSchema)
    @blp.alt_response(403, description="Inspectors do not see transfers (forbidden_role).")
    @require("enterprise", "supervisor", "admin")
    def get(self, query):
        """Open receipt claims and shipments in transit; an enterprise sees those it sent, received or is claimed from."""
        me = principal()
        scope = me.get("enterprise_id") if me["role"] == "enterprise" else query.get("enterprise_id")
        limit, days = query["limit"], settings().in_transit_days
        overdue_before = now() - timedelta(days=days)
        moving = []
        for b in transfers.in_transit(db(), scope, limit):
            t = b["in_transit"]
            moving.append({"_id": b["_id"], **{k: t[k] for k in ("from_id", "to_id", "doc_no", "mass_kg", "since")},
                           "overdue": aware(t["since"]) < overdue_before})
        return {"in_transit_days": days, "claims": transfers.claims(db(), scope, limit), "in_transit": moving}
