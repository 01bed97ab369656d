"""Trace a find back to the source where the problem entered, and recall everything that source reached."""
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.audit import chain as audit
from inspector.findings import records
from inspector.oversight import recall, recall_exports, trace

from .auth import BEARER, principal, require
from .context import db, now
from .downloads import content_disposition
from .errors import error_docs, fail
from .schemas.recall import RecallExportQuerySchema, RecallQuerySchema, RecallSchema, TraceListSchema, TraceSchema

blp = Blueprint("recall", __name__, url_prefix="/api",
                description="Trace a find to its source; recall every batch the source reached, with its share.")
SUPERVISORS = ("supervisor", "admin")
ERROR_ANSWERS = {
    401: "No valid access token: sign in.",
    403: "Your role may not do this (inspectors work through their tasks).",
    404: "No such batch, scan or finding within your scope; the answer is the same whether it exists or not.",
    422: "A bad query value.",
}
errors = error_docs(blp, ERROR_ANSWERS)


def _trace_or_404(code):
    found = trace.trace(db(), code)
    if found is None or not trace.visible(principal(), found):
        fail(404, "batch_not_found", f"No batch {code} among the ones you may see.")
    return found


@blp.route("/trace/batches/<code>")
class TraceBatch(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, TraceSchema)
    @errors(401, 403, 404)
    @require(*SUPERVISORS)
    def get(self, code):
        """Where the problem entered: the failing sources with their reasons and evidence, and the lineage graph."""
        return _trace_or_404(code)


@blp.route("/trace/scans/<scan_id>")
class TraceScan(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, TraceListSchema)
    @errors(401, 403, 404)
    @require(*SUPERVISORS)
    def get(self, scan_id):
        """The trace of the batch a scan read."""
        code = trace.batch_of_scan(db(), scan_id)
        if code is None:
            fail(404, "scan_not_found", "No scan of a registered batch with this id among the ones you may see.")
        return {"scan_id": scan_id, "finding_id": None, "traces": [_trace_or_404(code)]}


@blp.route("/trace/findings/<finding_id>")
class TraceFinding(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, TraceListSchema)
    @errors(401, 403, 404)
    @require(*SUPERVISORS)
    def get(self, finding_id):
        """The trace of every registered batch a finding names (within your scope)."""
        finding = records.find_visible(db(), principal(), finding_id)
        if finding is None:
            fail(404, "finding_not_found", "No finding with this id is visible to you.")
        traces = [t for t in (trace.trace(db(), c) for c in finding.get("batch_codes") or []) if t]
        return {"finding_id": finding["_id"], "scan_id": None, "traces": traces}


def _recall_or_404(code):
    found = recall.reach(db(), code)
    scoped = recall.scoped(db(), principal(), found) if found else None
    if scoped is None:
        fail(404, "batch_not_found", f"No batch {code} among the ones you may see.")
    return scoped


def _selected(found, query):
    return recall.select(found["rows"], query.get("status"), query.get("province"), query.get("holder_id"),
                         query.get("min_taint_pct"), query["sort"])


@blp.route("/recall/<code>")
class Recall(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(RecallQuerySchema, location="query")
    @blp.response(200, RecallSchema)
    @blp.paginate()
    @errors(401, 403, 404, 422)
    @require("supervisor", "admin", "enterprise")
    def get(self, query, pagination_parameters, code):
        """Every batch the source's material reached, with its share, holder, place and last scan; filtered, sorted,
        paged (X-Pagination). Enterprises: the recall of their own batches, and the reached batches they hold."""
        found = _recall_or_404(code)
        rows = _selected(found, query)
        pagination_parameters.item_count = len(rows)
        first = pagination_parameters.first_item
        return {"source": found["source"], "max_depth": found["max_depth"], "hidden": found["hidden"],
                "summary": recall.summary(rows), "items": rows[first:first + pagination_parameters.page_size]}


@blp.route("/recall/<code>/export")
class RecallExport(MethodView):
    @blp.doc(security=BEARER, responses={"200": {"description": "The whole recall list (filters apply).", "content": {
        "text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        "application/geo+json": {}, "application/ld+json": {}}}})
    @blp.arguments(RecallExportQuerySchema, location="query")
    @errors(401, 403, 404, 422)
    @require("supervisor", "admin", "enterprise")
    def get(self, query, code):
        """The recall list as one CSV or XLSX spreadsheet, GeoJSON for a map (holders' registered places), or the
        EPCIS 2.0 document of the ledger events of the source and every listed batch."""
        found = _recall_or_404(code)
        rows = _selected(found, query)
        audit.record(db(), principal(), "recall.export", f"batch:{found['source']['code']}",
                     {"format": query["format"], "rows": len(rows)})
        mimetype, extension, chunks = recall_exports.export_chunks(query["format"], found["source"], rows, db(),
                                                                    now())
        response = Response(chunks, content_type=mimetype)
        response.headers["Content-Disposition"] = content_disposition("attachment",
                                                                      f"recall-{found['source']['code']}.{extension}")
        return response
