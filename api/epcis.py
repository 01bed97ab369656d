"""GS1 EPCIS 2.0 capture and export of batch histories."""
import json

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.accounts import scope
from inspector.codes.labels import read_code
from inspector.ledger import submission, transfers
from inspector.ledger.epcis import repository
from inspector.ledger.epcis.capture import event_list, read_document
from inspector.ledger.epcis.export import to_epcis
from inspector.ledger.epcis.identifiers import CONTEXT
from inspector.ledger.epcis.reasons import epcis_field, epcis_message, pointer

from .auth import BEARER, principal, require
from .context import db, now, settings
from .errors import error_docs, fail, large_body
from .ledger import EXAMPLE_RECEIPT, ReceiptSchema, run_submission

blp = Blueprint("epcis", __name__, url_prefix="/api",
                description="GS1 EPCIS 2.0 capture and export of batch histories.")
MEDIA_TYPES = ("application/ld+json", "application/json")
MAX_BYTES = 10 * 1024 * 1024
MAX_EVENTS = 10_000
READERS = ("inspector", "supervisor", "admin", "enterprise")

CAPTURE_EXAMPLE = {
    "@context": CONTEXT,
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-10-12T08:00:00+08:00",
    "epcisBody": {"eventList": [{
        "type": "ObjectEvent",
        "eventID": "urn:uuid:6f1d2c3e-0a51-4b8e-9a53-1c0a6f3d0003",
        "eventTime": "2026-10-12T07:45:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "quantityList": [{"epcClass": "https://id.gs1.org/01/06952101630034/10/RE6LWUT4A5U", "quantity": 6200,
                          "uom": "KGM"}],
        "sourceList": [{"type": "owning_party", "source": "urn:rare-earth-inspector:enterprise:ENT-BPS"}],
        "destinationList": [{"type": "owning_party", "destination": "urn:rare-earth-inspector:enterprise:ENT-TPE"}],
        "bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:rare-earth-inspector:doc:WB-2026-1012-01"}],
    }]},
}
DOCUMENT_SCHEMA = {"type": "object", "description": "An EPCISDocument, an EPCISQueryDocument or one EPCIS event "
                                                    "(JSON-LD); see inspector/ledger/epcis/capture.py for the mapping."}
HISTORY_EXAMPLE = {**CAPTURE_EXAMPLE, "epcisBody": {"eventList": [{
    **CAPTURE_EXAMPLE["epcisBody"]["eventList"][0], "recordTime": "2026-10-12T00:01:02.000Z",
    "epcList": [], "quantityList": [{"epcClass": "urn:rare-earth-inspector:batch:RE6LWUT4A5U", "quantity": 6200.0,
                                     "uom": "KGM"}],
    "rei:enterprise": "urn:rare-earth-inspector:enterprise:ENT-BPS"}]}}

ERROR_ANSWERS = {
    400: "The body is not JSON.",
    401: "No valid access token: sign in.",
    403: "Your role may not do this, or you named another enterprise than your own.",
    404: "No such batch, or none of its events involve your enterprise.",
    409: "The ledger changed while the capture was applied; nothing was stored, capture it again.",
    413: f"The document is over {MAX_BYTES // (1024 * 1024)} MB or holds more than {MAX_EVENTS:,} events.",
    415: "Send the document as application/ld+json or application/json.",
    422: "Not an EPCIS 2.0 document (error_code not_epcis, unsupported_schema_version), a malformed code, or a capture "
         "rejected line by line: the receipt, with every event's error, is in errors.receipt.",
}


errors = error_docs(blp, ERROR_ANSWERS)


class CaptureQuery(ma.Schema):
    period = ma.fields.String(validate=ma.validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$", error="A period is YYYY-MM."),
                              metadata={"description": "The month reported (YYYY-MM), optional."})
    enterprise_id = ma.fields.String(validate=ma.validate.Length(min=1, max=40),
                                     metadata={"description": "Administrators: the enterprise for events that do not "
                                                              "name one."})


def _in_epcis_names(error):
    """A ledger error as the EPCIS sender names things: eventTime, not occurred_at; its pointer in the document."""
    field = error.get("field")
    field = epcis_field(field) if field and field != "type" else field  # "type" is EPCIS's own word too
    out = {**error, "message": epcis_message(error.get("message"))}
    if field:
        line = error.get("line")
        out.update(field=field, params={**(error.get("params") or {}), "field": field})
        if isinstance(line, int):
            out["pointer"] = pointer(line - 1, field)
    return out


def _document():
    if request.mimetype not in MEDIA_TYPES:
        fail(415, "unsupported_media_type", "Send the EPCIS document as application/ld+json or application/json.")
    if (request.content_length or 0) > MAX_BYTES:
        _too_large()
    data = request.get_data(cache=True)
    if len(data) > MAX_BYTES:
        _too_large()
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        fail(400, "invalid_json", "The body is not valid JSON (UTF-8).")


def _too_large():
    fail(413, "document_too_large", f"An EPCIS capture holds at most {MAX_BYTES // (1024 * 1024)} MB; split the "
                                    "document.", limit_bytes=MAX_BYTES)


@blp.route("/epcis/capture")
class Capture(MethodView):
    @large_body  # documents up to MAX_BYTES
    @blp.doc(security=BEARER, requestBody={"required": True, "content": {
        media: {"schema": DOCUMENT_SCHEMA, "example": CAPTURE_EXAMPLE} for media in MEDIA_TYPES}})
    @blp.arguments(CaptureQuery, location="query")
    @blp.response(201, ReceiptSchema, example={**EXAMPLE_RECEIPT, "channel": "epcis"})
    @errors(400, 401, 403, 409, 413, 415, 422)
    @require("enterprise", "admin")
    def post(self, query):
        """Capture an EPCIS 2.0 JSON-LD document as ledger events: each event checked, then all stored or none."""
        doc = _document()
        limit = min(MAX_EVENTS, settings().intake_max_lines)
        events, _ = event_list(doc, limit)  # a body that is no EPCIS document is refused here, as a whole
        if not events and not query.get("period"):
            fail(422, "empty_submission", "The document holds no events; send at least one, or a period "
                                          "(?period=YYYY-MM) with none as a nil report.")
        return run_submission(lambda: read_document(doc, limit), "epcis", query.get("period"),
                              query.get("enterprise_id"), named=_in_epcis_names)


@blp.route("/epcis/batches/<path:code>/history")
class History(MethodView):
    @blp.doc(security=BEARER, responses={"200": {
        "description": "The batch's recorded events as an EPCIS 2.0 document, oldest first.",
        "content": {"application/ld+json": {"schema": DOCUMENT_SCHEMA, "example": HISTORY_EXAMPLE}}}})
    @errors(401, 403, 404, 422)
    @require(*READERS)
    def get(self, code):
        """A batch's ledger history as an EPCIS 2.0 document; capturing it again changes nothing."""
        found = read_code(code)
        if found.kind == "malformed":
            fail(422, "malformed_code", found.error, typo=found.typo)
        native, events = submission.batch_history(db(), found.lookup())
        me = principal()
        if me["role"] == "enterprise":  # only an enterprise that really held the batch, not a claimant
            allowed = bool(native) and transfers.really_held(db(), native, me.get("enterprise_id"))
        else:  # a province-limited supervisor: a batch one of whose events names an enterprise in scope
            visible = scope.visible_ids(db(), me)
            allowed = bool(native) and (visible is None or _touches(events, set(visible)))
        if not allowed:
            # The same answer whether the batch does not exist or is outside the caller's scope.
            fail(404, "unknown_code", f"Code {found.batch_code or code} has no history you may see.")
        ids = [e["payload"].get("event_id") for e in events]
        codes = {c for e in events for c in e.get("codes", [])} | {native}
        body = to_epcis(events, native, now(), repository.captured(db(), ids), repository.digital_links(db(), codes))
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/ld+json")


def _touches(events, enterprise_ids):
    """True when one of the enterprises reported one of the events or is the other party of one."""
    return any({e.get("enterprise_id"), e["payload"].get("to_id"), e["payload"].get("from_id")} & enterprise_ids
               for e in events)
