"""Scans: a code or a photo in, a verdict with its reasons, provenance and quota out."""
import hashlib
import json

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.codes.labels import read_code
from inspector.codes.photos import decode_photo
from inspector.tasks import progress as tasks
from inspector.verdict.scans import ScanRequest, find_scan, list_scans, record_scan

from . import examples
from .auth import BEARER, principal, require
from .context import db, now as server_now, settings
from .errors import fail
from .schemas.scans import DecodeSchema, ScanListQuerySchema, ScanRequestSchema, ScanSchema

blp = Blueprint("scans", __name__, url_prefix="/api", description="Scan a code or a label photo and get a verdict.")

SCAN_EXAMPLE = {
    "code": "RE6LWUT4A5U", "client_id": "0b5c1a8e-8f77-4c4e-9a43-4f4c5b7e2d11", "scanned_at": "2026-11-20T09:30:00+08:00",
    "site": {"type": "market", "name": "Ganzhou rare-earth market"},
    "location": {"lat": 25.83, "lon": 114.93, "accuracy_m": 12}, "holder_enterprise_id": "ENT-GMT",
}
_FORM_JSON_FIELDS = ("site", "location")


def _form_payload(form):
    """The multipart fields as the JSON body would carry them."""
    payload = {k: v for k, v in form.items() if v != ""}
    for key in _FORM_JSON_FIELDS:
        if key in payload:
            try:
                payload[key] = json.loads(payload[key])
            except ValueError:
                fail(422, "invalid_field", f"The form field {key} must be JSON.", form={key: ["Not valid JSON."]})
    if "site" not in payload and "site_type" in payload:
        payload["site"] = {"type": payload.pop("site_type"), "name": payload.pop("site_name", None)}
    if "location" not in payload and "lat" in payload and "lon" in payload:
        payload["location"] = {"lat": payload.pop("lat"), "lon": payload.pop("lon"),
                               "accuracy_m": payload.pop("accuracy_m", None)}
    for key in ("site_type", "site_name", "lat", "lon", "accuracy_m"):
        payload.pop(key, None)
    return payload


def _read_photo(upload):
    """Decode every code in an uploaded photo; errors become 4xx with a reason."""
    data = upload.read(settings().max_upload_bytes + 1)
    if len(data) > settings().max_upload_bytes:
        fail(413, "file_too_large", f"The photo is larger than {settings().max_upload_bytes // (1024 * 1024)} MB.")
    if not data:
        fail(422, "empty_file", "The photo is empty.")
    return data, decode_photo(data, settings().max_image_pixels)


def _best_code(found):
    """The decoded text to judge: a valid native code first, then a valid GS1 code, then anything."""
    ranked = sorted(found, key=lambda c: {"native": 0, "gs1": 1}.get(read_code(c.text).kind, 2))
    return ranked[0].text


def _scan_request():
    location = "form" if request.mimetype == "multipart/form-data" else "json"
    if location == "form":
        raw = _form_payload(request.form)
    else:
        raw = request.get_json(silent=True)
        if not isinstance(raw, dict):
            fail(422, "invalid_body", "Send a JSON object, or multipart/form-data with the photo in 'image'.")
    try:
        body = ScanRequestSchema().load(raw)
    except ma.ValidationError as err:
        fail(422, "invalid_scan", "Some fields of the scan are missing or wrong.", **{location: err.messages})
    photo_codes, photo_sha = None, None
    upload = request.files.get("image") if location == "form" else None
    if upload is not None:
        data, result = _read_photo(upload)
        photo_sha = hashlib.sha256(data).hexdigest()
        photo_codes = [{"text": c.text, "format": c.format} for c in result.codes]
        if not result.codes and not body.get("code"):
            fail(422, "no_code_found", result.hint, hint=result.hint)
        if not body.get("code"):
            body["code"] = _best_code(result.codes)
    if not body.get("code"):
        fail(422, "invalid_scan", "Send the code, or a photo of the label in 'image'.",
             **{location: {"code": ["Missing data for required field."]}})
    return ScanRequest(client_id=str(body["client_id"]), code=body["code"], scanned_at=body["scanned_at"],
                       site=body["site"], location=body.get("location"), observed_mass_kg=body.get("observed_mass_kg"),
                       holder_enterprise_id=body.get("holder_enterprise_id"), photo_codes=photo_codes,
                       photo_sha256=photo_sha, queued_ms=body.get("queued_ms"),
                       queue_interrupted=body.get("queue_interrupted", False),
                       shown_status=body.get("shown_status")), server_now()


_SCAN_BODY_DOC = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": ScanRequestSchema, "example": SCAN_EXAMPLE},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "image": {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP photo of the label"},
            "code": {"type": "string"}, "client_id": {"type": "string", "format": "uuid"},
            "scanned_at": {"type": "string", "format": "date-time"},
            "site": {"type": "string", "description": 'JSON, e.g. {"type": "market", "name": "..."}'},
            "location": {"type": "string", "description": 'JSON, e.g. {"lat": 25.8, "lon": 114.9, "accuracy_m": 10}'},
            "observed_mass_kg": {"type": "number"}, "holder_enterprise_id": {"type": "string"},
            "queued_ms": {"type": "integer", "minimum": 0}, "queue_interrupted": {"type": "boolean"}}}},
    }},
}


@blp.route("/scans")
class Scans(MethodView):
    @blp.doc(security=BEARER, **_SCAN_BODY_DOC)
    @blp.response(201, ScanSchema, example=examples.SCAN,
                  description="The stored scan with its verdict (200 when a retry replays it).")
    @blp.alt_response(200, schema=ScanSchema, description="A retry of a stored scan (same client_id and content): the "
                                                           "stored scan comes back unchanged.")
    @blp.alt_response(409, description="The client_id was already used for a different scan.")
    @blp.alt_response(415, description="The photo is not JPEG, PNG or WebP (error_code unsupported_image).")
    @blp.alt_response(422, description="Bad fields, a photo with no code (error_code no_code_found), or a scan time "
                                       "that cannot be true: clock_ahead, scan_too_old or before_batch.")
    @require("inspector", "supervisor", "admin")
    def post(self):
        """Scan a code (JSON) or a label photo (multipart 'image') and get the verdict in one request."""
        req, now = _scan_request()
        scan, created, open_tasks = record_scan(db(), principal(), req, settings(), now)
        # Completes the open task items it checks (again on a replay), from the tasks read with the batch.
        tasks.link_scan(db(), principal(), scan, now, candidates=open_tasks)
        return scan, 201 if created else 200

    @blp.doc(security=BEARER)
    @blp.arguments(ScanListQuerySchema, location="query")
    @blp.response(200, ScanSchema(many=True))
    @blp.paginate()
    @require("inspector", "supervisor", "admin")
    def get(self, query, pagination_parameters):
        """List scans, newest first: inspectors see their own."""
        scans, pagination_parameters.item_count = list_scans(
            db(), principal(), query.get("batch_code"), pagination_parameters.page, pagination_parameters.page_size)
        return scans


@blp.route("/scans/<scan_id>")
class ScanById(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, ScanSchema, example=examples.SCAN)
    @blp.alt_response(404, description="No such scan among the ones you may see (inspectors see their own).")
    @require("inspector", "supervisor", "admin")
    def get(self, scan_id):
        """One scan with the verdict as it was when it was made."""
        scan = find_scan(db(), principal(), scan_id)
        if scan is None:
            fail(404, "scan_not_found", "No such scan among the ones you may see.")
        return scan


@blp.route("/decode")
class Decode(MethodView):
    @blp.doc(security=BEARER, requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"image": {"type": "string", "format": "binary"}}}}}})
    @blp.response(200, DecodeSchema, example={"codes": [{"text": "RE6LWUT4A5U", "format": "qr_code"}], "hint": None})
    @blp.alt_response(415, description="The photo is not JPEG, PNG or WebP (error_code unsupported_image).")
    @blp.alt_response(422, description="No photo in 'image' (invalid_upload), an empty one (empty_file), or one too "
                                       "damaged or too many pixels to read (broken_image, image_too_large).")
    @require("inspector", "supervisor", "admin")
    def post(self):
        """Read every code in a photo (the PWA's fallback when the phone cannot decode)."""
        upload = request.files.get("image")
        if upload is None:
            fail(422, "invalid_upload", "Send the photo as multipart/form-data in the field 'image'.",
                 files={"image": ["Missing data for required field."]})
        _, result = _read_photo(upload)
        return {"codes": [{"text": c.text, "format": c.format} for c in result.codes], "hint": result.hint}
