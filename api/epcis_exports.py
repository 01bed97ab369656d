"""Exports of the EPCIS events you may see, as CSV or JSON with UTC and China times (on the repository blueprint)."""
from flask import Response, request
from flask.views import MethodView

from inspector.audit import chain as audit
from inspector.ledger.epcis import export_table, query as repo_query

from .auth import BEARER, principal, require
from .context import db, now
from .downloads import content_disposition
from .epcis_rest import READERS, _viewers, answers, blp, problem

FORMATS = {"csv": ("text/csv; charset=utf-8", export_table.csv_chunks),
           "json": ("application/json", export_table.json_chunks)}
MAX_ROWS = 50_000


@blp.route("/exports/events")
class EventExport(MethodView):
    @blp.doc(security=BEARER, parameters=[{"in": "query", "name": "format", "required": True,
                                           "schema": {"type": "string", "enum": sorted(FORMATS)}}],
             responses={"200": {"description": "The events, oldest eventID first, each time in UTC and China time.",
                                "content": {"text/csv": {}, "application/json": {}}},
                        **{k: v for k, v in answers(200, "-", 400).items() if k != "200"}})
    @require(*READERS)
    def get(self):
        """The events you may see (the /events filters apply), as CSV or JSON, times in UTC and China time."""
        fmt = request.args.get("format")
        if fmt not in FORMATS:
            problem(400, "bad_format", "format must be csv or json.", exception="QueryParameterException",
                    field="format")
        args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "format"}
        try:
            filters = repo_query.parse_filters({k: v for k, v in args.items() if k not in repo_query.PAGING})
        except repo_query.QueryProblem as exc:
            problem(400, "bad_query", exc.message, exception="QueryParameterException", field=exc.field,
                    problems=getattr(exc, "problems", []))
        docs, more = repo_query.events(db(), _viewers(), filters, MAX_ROWS)
        audit.record(db(), principal(), "epcis.export", "epcis_events", {"format": fmt, "events": len(docs)})
        mimetype, chunks = FORMATS[fmt]
        response = Response(chunks(docs), content_type=mimetype)
        response.headers["Content-Disposition"] = content_disposition("attachment",
                                                                      f"epcis-events-{now():%Y%m%d-%H%M}.{fmt}")
        response.headers["Cache-Control"] = "no-store"
        if more:  # say so rather than hand over a silently short file
            response.headers["X-Export-Truncated"] = f"only the first {MAX_ROWS} events; narrow the filters"
        return response
