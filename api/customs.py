"""The customs declaration register: administrators load it (JSON or CSV); administrators and supervisors read it."""
import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from inspector.accounts import scope
from inspector.registry import customs

from .auth import BEARER, principal, require
from .context import db, now
from .errors import error_docs, fail

blp = Blueprint("customs", __name__, url_prefix="/api/registry/customs-declarations",
                description="The customs declaration register every import in the ledger is checked against.")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ERROR_ANSWERS = {
    401: "No valid access token: sign in.",
    403: "Your role may not do this: the register is loaded by administrators, read by them and supervisors.",
    404: "No such declaration within your scope.",
    413: "The file is larger than 5 MB, or holds more than 5,000 declarations: split it.",
    415: "The file is not CSV.",
    422: "A line has a problem (errors.lines lists every problem of every line); nothing was loaded.",
}
errors = error_docs(blp, ERROR_ANSWERS)
EXAMPLE = {"declaration_no": "530120261000001507", "declared_on": "2026-11-03", "importer_id": "ENT-SMT",
           "port": "Shanghai", "hs_code": "2846901910", "net_mass_kg": 2000, "origin_country": "MY"}


class DeclarationInSchema(ma.Schema):
    declaration_no = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    declared_on = ma.fields.Date(required=True)
    importer_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64),
                                   metadata={"description": "The importer's enterprise id or USCC."})
    port = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    hs_code = ma.fields.String(required=True, validate=validate.Length(min=6, max=13))
    net_mass_kg = ma.fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1e9))
    origin_country = ma.fields.String(required=True, validate=validate.Length(equal=2))


class LoadSchema(ma.Schema):
    declarations = ma.fields.List(ma.fields.Nested(DeclarationInSchema), required=True,
                                  validate=validate.Length(min=1, max=customs.MAX_ROWS))


class ChangedSchema(ma.Schema):
    code = ma.fields.String()
    declaration_no = ma.fields.String()
    verified = ma.fields.Boolean()


class LoadResultSchema(ma.Schema):
    created = ma.fields.Integer()
    updated = ma.fields.Integer(metadata={"description": "Declarations loaded again with other facts (audited)."})
    unchanged = ma.fields.Integer()
    imports_changed = ma.fields.List(ma.fields.Nested(ChangedSchema),
                                     metadata={"description": "Imported batches whose check changed with this load."})


class DeclarationSchema(ma.Schema):
    declaration_no = ma.fields.String()
    declared_on = ma.fields.Date()
    importer_id = ma.fields.String()
    port = ma.fields.String()
    hs_code = ma.fields.String()
    net_mass_kg = ma.fields.Float()
    origin_country = ma.fields.String()
    used_kg = ma.fields.Float(metadata={"description": "Kilograms of imported batches booked under it."})
    loaded_at = ma.fields.DateTime()
    loaded_by = ma.fields.String()


class DeclarationQuerySchema(ma.Schema):
    importer_id = ma.fields.String(validate=validate.Length(min=1, max=64))
    declaration_no = ma.fields.String(validate=validate.Length(min=1, max=64))


def _load(rows):
    try:
        return customs.load(db(), rows, principal(), now())
    except customs.CustomsError as exc:
        status = 413 if exc.kind == "too_large" else 422
        fail(status, exc.code, exc.message, **exc.details)


@blp.route("")
class Declarations(MethodView):
    @require("admin", "supervisor")
    @blp.doc(security=BEARER)
    @errors(401, 403)
    @blp.arguments(DeclarationQuerySchema, location="query")
    @blp.response(200, DeclarationSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """The register, newest declared first, with the mass booked under each; a supervisor sees its provinces."""
        visible = scope.visible_ids(db(), principal())
        if visible is not None:
            if query.get("importer_id") and query["importer_id"] not in visible:
                pagination_parameters.item_count = 0
                return []
            query = {**query, "importer_id": query.get("importer_id") or {"$in": visible}}
        docs, total = customs.page(db(), query, pagination_parameters.first_item, pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return docs

    @require("admin")
    @blp.doc(security=BEARER)
    @errors(401, 403, 422)
    @blp.arguments(LoadSchema, example={"declarations": [EXAMPLE]})
    @blp.response(201, LoadResultSchema)
    def post(self, body):
        """Load declarations: all or none; the imports they name are checked again."""
        return _load([(i + 1, row) for i, row in enumerate(body["declarations"])])


@blp.route("/upload")
class Upload(MethodView):
    @require("admin")
    @blp.doc(security=BEARER, requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {
            "type": "string", "format": "binary",
            "description": "CSV in UTF-8 or GBK; headers as FIELDS or in Chinese (报关单号, 申报日期, 境内收发货人, "
                           "进境口岸, 商品编码, 净重, 原产国)."}}}}}})
    @errors(401, 403, 413, 415, 422)
    @blp.response(201, LoadResultSchema)
    def post(self):
        """Load the register from a CSV file as customs exports it: all or none."""
        upload = request.files.get("file")
        if upload is None:
            fail(422, "invalid_upload", "Send the register as multipart/form-data in the field 'file'.",
                 files={"file": ["Missing data for required field."]})
        if not (upload.filename or "").lower().endswith((".csv", ".txt")) and upload.mimetype not in (
                "text/csv", "text/plain"):
            fail(415, "unsupported_file", "Upload the register as a .csv file.")
        data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            fail(413, "too_large", "The file is larger than 5 MB: split it.")
        try:
            rows = customs.read_csv(data)
        except customs.CustomsError as exc:
            fail(413 if exc.kind == "too_large" else 422, exc.code, exc.message, **exc.details)
        return _load(rows)


@blp.route("/<declaration_no>")
class Declaration(MethodView):
    @require("admin", "supervisor")
    @blp.doc(security=BEARER)
    @errors(401, 403, 404)
    @blp.response(200, DeclarationSchema)
    def get(self, declaration_no):
        """One declaration with the mass booked under it."""
        docs, _ = customs.page(db(), {"declaration_no": declaration_no}, 0, 1)
        visible = scope.visible_ids(db(), principal())
        if not docs or (visible is not None and docs[0]["importer_id"] not in visible):
            fail(404, "declaration_not_found", "No such declaration among the ones you may see.")
        return docs[0]
