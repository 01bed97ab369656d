"""Findings: log them with evidence, review them, hear the enterprise, resolve them; list, count and export them."""
from datetime import datetime, timezone

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from inspector.audit import chain as audit
from inspector.findings import attachments
from inspector.findings import exports
from inspector.findings import records
from inspector.findings import workflow
from inspector.tasks import progress as tasks

from .auth import BEARER, principal, require
from .context import db, settings
from .downloads import content_disposition
from .errors import error_docs, fail
from .preconditions import IF_MATCH, if_match_tags
from .schemas.findings import (CREATE_EXAMPLE, AttachmentSchema, ExportQuerySchema, FindingCreateSchema,
                                 FindingDraftSchema, FindingListQuerySchema, FindingSchema, FindingStatsSchema,
                                 FindingFilterSchema, PrefillQuerySchema, TransitionSchema)

# The blueprint name is the OpenAPI tag integrators already use, so it keeps its old word.
blp = Blueprint("inspections", __name__, url_prefix="/api/inspections",
                description="Findings: evidence, supervisor review, enterprise responses, exports.")

EVERYONE = ("inspector", "supervisor", "enterprise", "admin")
REVIEWERS = ("supervisor", "admin")
UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "JPEG, PNG, WebP or PDF, judged by content; at most MAX_UPLOAD_BYTES."}}}}}}


ERROR_ANSWERS = {
    401: "No valid access token: sign in.",
    403: "Your role may not do this, or you logged this finding yourself (separation of duties).",
    404: "No such finding (or attachment) within your scope; the answer is the same whether it exists or not.",
    409: "Not possible in the finding's current state (errors.allowed_actions lists what is), or client_id reused.",
    412: "If-Match holds an old ETag: someone changed the finding since you read it.",
    413: "The file is over MAX_UPLOAD_BYTES, or the photo has too many pixels.",
    415: "The file's content is not JPEG, PNG, WebP or PDF.",
    422: "The file is damaged or cut off, or no file was sent.",
    428: "If-Match is missing: read the finding and send its ETag.",
}


errors = error_docs(blp, ERROR_ANSWERS)


def _visible_or_404(finding_id):
    finding = records.find_visible(db(), principal(), finding_id)
    if finding is None:
        # The same answer whether it does not exist or is outside the caller's scope.
        fail(404, "finding_not_found", "No finding with this id is visible to you.")
    return finding


def _with_etag(finding, status=200):
    return records.view(finding, principal()), status, {"ETag": f'"{finding["_etag"]}"'}


def _expected_etag(finding):
    """The ETag from If-Match: 428 when absent, since a blind overwrite is what the header exists to prevent."""
    tags = if_match_tags("finding")
    return finding["_etag"] if finding["_etag"] in tags else tags[0]


def _filters(query):
    return {k: v for k, v in query.items() if k not in ("sort", "format", "lang")}


@blp.route("")
class Findings(MethodView):
    @require(*EVERYONE)
    @blp.doc(security=BEARER)
    @errors(401)
    @blp.arguments(FindingListQuerySchema, location="query")
    @blp.response(200, FindingSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List findings within your scope, filtered and sorted; pages are described in X-Pagination."""
        q = records.query_filter(principal(), _filters(query))
        docs, total = records.list_findings(db(), q, query["sort"], pagination_parameters.first_item,
                                             pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return [records.view(d, principal()) for d in docs]

    @require("inspector", "admin")
    @blp.doc(security=BEARER)
    @errors(401, 403, 409)
    @blp.arguments(FindingCreateSchema, example=CREATE_EXAMPLE)
    @blp.response(201, FindingSchema)
    @blp.alt_response(200, schema=FindingSchema, description="A replay: this client_id was already logged; the "
                                                             "stored finding comes back unchanged.")
    def post(self, body):
        """Log a finding (idempotent per client_id); fields left out are filled from the cited scans."""
        finding, created = records.create(db(), principal(), body)
        tasks.link_finding(db(), principal(), finding)  # kept on the tasks whose batches it cites (idempotent)
        return _with_etag(finding, 201 if created else 200)


@blp.route("/prefill")
class Prefill(MethodView):
    @require("inspector", "admin")
    @blp.doc(security=BEARER)
    @errors(401, 403)
    @blp.arguments(PrefillQuerySchema, location="query")
    @blp.response(200, FindingDraftSchema)
    def get(self, query):
        """Draft a finding from your scans: their reasons, codes, holder, site, place and time."""
        scans = records.visible_scans(db(), principal(), query["scan_id"])
        return records.draft_from_scans(scans)


@blp.route("/stats")
class Stats(MethodView):
    @require(*REVIEWERS)
    @blp.doc(security=BEARER)
    @errors(401, 403)
    @blp.arguments(FindingFilterSchema, location="query")
    @blp.response(200, FindingStatsSchema)
    def get(self, query):
        """Count findings in your scope by status, discrepancy, province and ISO week (same filters as the list)."""
        now = datetime.now(timezone.utc)
        return records.stats(db(), records.query_filter(principal(), query, now), now)


@blp.route("/export")
class Export(MethodView):
    @require(*REVIEWERS)
    @blp.doc(security=BEARER, responses={"200": {"description": "The filtered log, streamed.", "content": {
        "text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        "application/geo+json": {}}}})
    @errors(401, 403)
    @blp.arguments(ExportQuerySchema, location="query")
    def get(self, query):
        """Export the filtered log as CSV, XLSX or GeoJSON; spreadsheet cells cannot run as formulas."""
        now = datetime.now(timezone.utc)
        fmt = query["format"]
        filters = _filters(query)
        q = records.query_filter(principal(), filters, now)
        audit.record(db(), principal(), "finding.export", "findings",
                     {"format": fmt, "filters": {k: v if not isinstance(v, datetime) else v.isoformat()
                                                 for k, v in filters.items()}})
        docs = exports.export_documents(db(), q, query["sort"])
        mimetype, extension = exports.FORMATS[fmt]
        response = Response(exports.export_chunks(fmt, docs, now, query.get("lang")), content_type=mimetype)
        response.headers["Content-Disposition"] = content_disposition("attachment",
                                                                      f"findings-{now:%Y%m%d-%H%M}.{extension}")
        response.headers["Cache-Control"] = "no-store"
        return response


@blp.route("/<finding_id>")
class Finding(MethodView):
    @require(*EVERYONE)
    @blp.doc(security=BEARER)
    @errors(401, 404)
    @blp.response(200, FindingSchema)
    def get(self, finding_id):
        """Read one finding with its timeline and attachments; its ETag comes in the ETag header."""
        return _with_etag(_visible_or_404(finding_id))


@blp.route("/<finding_id>/transitions")
class Transitions(MethodView):
    @require("supervisor", "enterprise")
    @blp.doc(security=BEARER, parameters=[IF_MATCH])
    @errors(401, 403, 404, 409, 412, 428)
    @blp.arguments(TransitionSchema, example={"action": "send_to_enterprise", "comment": "Explain the transfer.",
                                              "deadline": "2025-03-05T23:59:00+08:00"})
    @blp.response(200, FindingSchema)
    def post(self, body, finding_id):
        """Move a finding on: confirm, dismiss, send_to_enterprise, respond, request_more or resolve."""
        finding = _visible_or_404(finding_id)
        updated = workflow.apply(db(), finding, principal(), body, _expected_etag(finding),
                                 response_days=settings().response_days)
        return _with_etag(updated)


@blp.route("/<finding_id>/attachments")
class Attachments(MethodView):
    @require("inspector", "supervisor", "enterprise")
    @blp.doc(security=BEARER, requestBody=UPLOAD_BODY)
    @errors(401, 403, 404, 409, 413, 415, 422)
    @blp.response(201, AttachmentSchema)
    @blp.alt_response(200, schema=AttachmentSchema, description="The same content was already attached: nothing changed.")
    def post(self, finding_id):
        """Attach a photo or PDF; the same content twice is kept once. Photos get a thumbnail and their EXIF kept."""
        finding = _visible_or_404(finding_id)
        workflow.check_attach(finding, principal())
        limit = settings().max_upload_bytes
        too_large = (413, "file_too_large", f"Files can be at most {limit // (1024 * 1024)} MB.")
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            fail(*too_large)
        if upload is None:
            fail(422, "file_missing", "Send the file as multipart/form-data in a field named 'file'.")
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            fail(*too_large)
        attachment, created = attachments.attach(db(), finding, principal(), data, upload.filename,
                                                    settings().max_image_pixels)
        return records.attachment_view(attachments.summary(attachment), principal()), 201 if created else 200


def _send_file(finding_id, attachment_id, thumbnail):
    finding = _visible_or_404(finding_id)
    attachment = attachments.find_attachment(db(), finding["_id"], attachment_id)
    if attachment is None:
        fail(404, "attachment_not_found", "No attachment with this id is on this finding.")
    file_id = attachment.get("thumbnail_id") if thumbnail else attachment["file_id"]
    if file_id is None:
        fail(404, "no_thumbnail", "Only photos have thumbnails.")
    etag = attachment["sha256"] + ("-thumbnail" if thumbnail else "")
    if etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    stored = attachments.open_stored(db(), file_id)
    if stored is None:
        fail(404, "attachment_not_found", "This file is no longer stored.")
    content_type = "image/jpeg" if thumbnail else attachment["content_type"]
    response = Response(iter(lambda: stored.read(256 * 1024), b""), content_type=content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(stored.length)
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Content-Disposition"] = content_disposition(
        "inline" if content_type.startswith("image/") else "attachment",
        ("thumbnail-" if thumbnail else "") + attachment["filename"])
    # Evidence is shown, never run: no sniffing, no scripts even if a file smuggles some in.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


FILE_RESPONSES = {"200": {"description": "The file's bytes.", "content": {
    "image/jpeg": {}, "image/png": {}, "image/webp": {}, "application/pdf": {}}}}


@blp.route("/<finding_id>/attachments/<attachment_id>")
class AttachmentFile(MethodView):
    @require(*EVERYONE)
    @blp.doc(security=BEARER, responses=FILE_RESPONSES)
    @errors(401, 404)
    def get(self, finding_id, attachment_id):
        """Download an attachment (only from a finding you may see)."""
        return _send_file(finding_id, attachment_id, thumbnail=False)


@blp.route("/<finding_id>/attachments/<attachment_id>/thumbnail")
class AttachmentThumbnail(MethodView):
    @require(*EVERYONE)
    @blp.doc(security=BEARER, responses={"200": {"description": "A JPEG at most 320 px on its longer side.",
                                                 "content": {"image/jpeg": {}}}})
    @errors(401, 404)
    def get(self, finding_id, attachment_id):
        """Download a photo's thumbnail."""
        return _send_file(finding_id, attachment_id, thumbnail=True)
