"""The EPCIS 2.0 REST bindings over the repository: capture jobs and the query interface, under /api/epcis/v2.

Errors come as RFC 7807 problems (`application/problem+json`: type `epcisException:...`, title, status, detail),
as the bindings specify, and carry this service's `code`, `message` and `errors.error_code` too. Every answer
names the versions it speaks (`GS1-EPCIS-Version`, `GS1-CBV-Version`); a request asking for another EPCIS major
version is 406.
"""
import json
from urllib.parse import urlencode

from flask import Response, abort, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.accounts import scope
from inspector.ledger.epcis import query as repo_query, repository, schema
from inspector.ledger.epcis.capture import DocumentError
from inspector.ledger.epcis.identifiers import EPCIS_CONTEXT

from .auth import BEARER, principal, require
from .context import db, now, settings
from .epcis import MAX_BYTES, MAX_EVENTS, MEDIA_TYPES
from .errors import large_body

ROOT = "/api/epcis/v2"
blp = Blueprint("epcis-repository", __name__, url_prefix=ROOT,
                description="The GS1 EPCIS 2.0 repository (REST bindings): capture jobs, events and their queries.")
VERSION_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0", "GS1-EPCIS-Min": "2.0.0",
                   "GS1-EPCIS-Max": "2.0.0", "GS1-CBV-Min": "2.0.0", "GS1-CBV-Max": "2.0.0",
                   "GS1-EPCIS-Capture-Limit": str(MAX_EVENTS),
                   "GS1-EPCIS-Capture-File-Size-Limit": str(MAX_BYTES)}
READERS = ("inspector", "supervisor", "admin", "enterprise")
COLLECTIONS = {"bizSteps": "biz_step", "bizLocations": "biz_location", "readPoints": "read_point",
               "dispositions": "disposition"}
FILTER_OF = {"eventTypes": "eventType", "bizSteps": "EQ_bizStep", "bizLocations": "EQ_bizLocation",
             "readPoints": "EQ_readPoint", "dispositions": "EQ_disposition"}
EXCEPTIONS = {400: "ValidationException", 401: "SecurityException", 403: "SecurityException",
              404: "NoSuchResourceException", 406: "NotAcceptableException", 409: "ConflictException",
              413: "CaptureLimitExceededException", 415: "UnsupportedMediaTypeException"}
JSON_LD = "application/ld+json"
DOC = {"type": "object", "description": "EPCIS 2.0 JSON-LD (the official schema)."}
PROBLEM = {"type": "object", "required": ["type", "title", "status", "detail", "code", "message", "errors"],
           "description": "An RFC 7807 problem (the bindings' EPCIS exception) with this service's error fields.",
           "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                          "detail": {"type": "string"}, "instance": {"type": "string"},
                          "code": {"type": "integer"}, "message": {"type": "string"},
                          "errors": {"type": "object", "required": ["error_code"],
                                     "properties": {"error_code": {"type": "string"}}}}}
PROBLEM_ANSWERS = {400: "A document or query the repository cannot take (ValidationException, "
                        "QueryParameterException); every reason in errors.problems.",
                   404: "No such resource among the ones you may see (NoSuchResourceException).",
                   406: "A GS1-EPCIS-Version other than 2.x was asked for.",
                   413: "Over the capture limits (GS1-EPCIS-Capture-Limit, GS1-EPCIS-Capture-File-Size-Limit).",
                   415: "Send application/ld+json or application/json."}
SMOREST = {"schema": {"type": "object", "description": "The service's {code, status, message, errors} shape."}}


def answers(ok_status, ok_description, *problems):
    """The responses a view documents: its success as JSON-LD and its problems (RFC 7807, or the shared shape)."""
    out = {str(ok_status): {"description": ok_description, "content": {JSON_LD: {"schema": DOC}}}}
    for status in sorted(set(problems) | {406}):
        out[str(status)] = {"description": PROBLEM_ANSWERS[status],
                            "content": {"application/problem+json": {"schema": PROBLEM}, "application/json": SMOREST}}
    return out


@blp.after_request
def _versions(response):
    for name, value in VERSION_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@blp.before_request
def _version_asked():
    asked = request.headers.get("GS1-EPCIS-Version")
    if asked and not asked.strip().startswith("2"):
        problem(406, "unsupported_version", f"This repository speaks EPCIS 2.0; GS1-EPCIS-Version {asked[:20]!r} "
                                            "cannot be served.", exception="ImplementationException")


def problem(status, error_code, detail, exception=None, headers=None, **details):
    """Abort with an RFC 7807 problem that also has the project's {code, message, errors} fields."""
    title = exception or EXCEPTIONS.get(status, "ImplementationException")
    body = {"type": f"epcisException:{title}", "title": title, "status": status, "detail": detail,
            "instance": request.path, "code": status, "message": detail,
            "errors": {"error_code": error_code, **details}}
    response = Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                        mimetype="application/problem+json", headers=headers or {})
    abort(response)


def _answer(body, status=200, headers=None):
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=JSON_LD,
                    headers=headers or {})


def _viewers():
    me = principal()
    if me["role"] == "enterprise":
        return [me.get("enterprise_id") or "-"]
    return scope.visible_ids(db(), me)


def _document():
    if request.mimetype not in MEDIA_TYPES:
        problem(415, "unsupported_media_type", "Send the EPCIS document as application/ld+json or application/json.")
    if (request.content_length or 0) > MAX_BYTES or len(request.get_data(cache=True)) > MAX_BYTES:
        problem(413, "document_too_large", f"A capture holds at most {MAX_BYTES // (1024 * 1024)} MB; split the "
                                           "document.", limit_bytes=MAX_BYTES)
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        problem(400, "invalid_json", "The body is not valid JSON (UTF-8).")


# -- capture ---------------------------------------------------------------------------------------------------------
def _job_view(job):
    out = {k: v for k, v in job.items() if k not in ("_id", "document", "captured_by", "enterprise_id")}
    out["captureID"] = job["_id"]
    for key in ("createdAt", "finishedAt"):
        out[key] = repo_query.utc_text(job[key])
    return out


def _may_see_job(job):
    viewers = _viewers()
    return viewers is None or job.get("enterprise_id") in viewers


@blp.route("/capture")
class Capture(MethodView):
    @large_body
    @blp.doc(security=BEARER, parameters=[{"in": "header", "name": "GS1-Capture-Error-Behaviour",
                                           "schema": {"type": "string", "enum": ["rollback", "proceed"]}}],
             requestBody={"required": True, "content": {m: {"schema": DOC} for m in MEDIA_TYPES}},
             responses={**answers(202, "The capture job (done at once): every event's outcome; its URL is in "
                                       "Location.", 400, 413, 415),
                        "409": {"description": "The ledger changed while the capture was applied; capture again.",
                                "content": {"application/json": SMOREST}},
                        "422": {"description": "The ledger refused the capture as a whole (an unknown enterprise).",
                                "content": {"application/json": SMOREST}}})
    @require("enterprise", "admin")
    def post(self):
        """Capture an EPCIS 2.0 document: stored as received, each event applied, stored or refused with reasons."""
        doc = _document()
        behaviour = (request.headers.get("GS1-Capture-Error-Behaviour") or "rollback").strip().lower()
        if behaviour not in repository.BEHAVIOURS:
            problem(400, "bad_capture_error_behaviour", "GS1-Capture-Error-Behaviour must be rollback or proceed.")
        try:
            repository.event_list(doc, min(MAX_EVENTS, settings().intake_max_lines))
        except DocumentError as exc:
            problem(413 if exc.kind == "too_large" else 400, exc.code, exc.message, **exc.details)
        problems = schema.problems(doc)
        if problems:
            problem(400, "schema_invalid", f"The document breaks the EPCIS 2.0 JSON schema in {len(problems)} "
                                           "place(s); nothing was captured.", problems=problems)
        job = repository.capture(db(), settings(), principal(), doc, now(), behaviour,
                                 min(MAX_EVENTS, settings().intake_max_lines))
        location = url_for("epcis-repository.CaptureJob", capture_id=job["_id"])
        return _answer(_job_view(job), 202, {"Location": location})

    @blp.doc(security=BEARER, responses=answers(200, "Capture jobs.", 400))
    @require("enterprise", "supervisor", "admin")
    def get(self):
        """The latest capture jobs you may see (an enterprise: its own; a supervisor: its provinces'), newest first."""
        jobs = repository.jobs(db(), _viewers(), _per_page())
        return _answer({"@context": [EPCIS_CONTEXT], "type": "Collection", "member": [_job_view(j) for j in jobs]})


@blp.route("/capture/<capture_id>")
class CaptureJob(MethodView):
    @blp.doc(security=BEARER, responses=answers(200, "The capture job.", 404))
    @require("enterprise", "supervisor", "admin")
    def get(self, capture_id):
        """One capture job: running, success, captureErrorBehaviour, errors and every event's outcome."""
        job = repository.job(db(), capture_id)
        if job is None or not _may_see_job(job):
            problem(404, "unknown_capture", "No capture job with this id among the ones you may see.")
        return _answer(_job_view(job))


# -- queries ---------------------------------------------------------------------------------------------------------
def _per_page():
    try:
        return repo_query.per_page(request.args.get("perPage"))
    except repo_query.QueryProblem as exc:
        problem(400, "bad_query", exc.message, exception="QueryParameterException", field=exc.field)


def _events_answer(extra=None, query_name="SimpleEventQuery"):
    args = request.args.to_dict(flat=False)
    try:
        filters = repo_query.parse_filters(args)
        if extra:
            filters = {"$and": [filters, extra]} if filters else extra
        limit = repo_query.per_page(request.args.get("perPage"))
        key = repo_query.query_key(request.path, args)
        token = request.args.get("nextPageToken")
        after = repo_query.after_of(token, key) if token else None
    except repo_query.QueryProblem as exc:
        problem(400, "bad_query", exc.message, exception="QueryParameterException", field=exc.field,
                problems=getattr(exc, "problems", [{"field": exc.field, "message": exc.message}]))
    docs, more = repo_query.events(db(), _viewers(), filters, limit, after)
    headers = {}
    if more:
        following = {k: v for k, v in args.items() if k != "nextPageToken"}
        following["nextPageToken"] = [repo_query.token_of(docs[-1]["_id"], key)]
        link = f"{request.path}?{urlencode(following, doseq=True)}"
        headers = {"Link": f'<{link}>; rel="next"', "GS1-Next-Page-Token-Expires": "never"}
    return _answer(repo_query.query_document(docs, now(), query_name), headers=headers)


@blp.route("/")
class Root(MethodView):
    @blp.doc(security=BEARER, responses=answers(200, "The top-level resources."))
    @require(*READERS)
    def get(self):
        """The repository's top-level resources."""
        return _answer({"@context": [EPCIS_CONTEXT], "type": "Collection",
                        "member": ["capture", "events", "eventTypes", "epcs", "bizSteps", "bizLocations",
                                   "readPoints", "dispositions", "queries"]})


@blp.route("/events")
class Events(MethodView):
    @blp.doc(security=BEARER, responses=answers(200, "An EPCISQueryDocument; Link: rel=next when more follow.", 400))
    @require(*READERS)
    def get(self):
        """Events you may see, filtered by the SimpleEventQuery parameters, perPage at a time (Link: next)."""
        return _events_answer()


@blp.route("/events/<path:event_id>")
class Event(MethodView):
    @blp.doc(security=BEARER, responses=answers(200, "The event as captured.", 404))
    @require(*READERS)
    def get(self, event_id):
        """One event as captured (its eventID URL-encoded)."""
        if request.query_string and "?" not in event_id:  # an unencoded ni:///...?ver=CBV2.0 hash id
            event_id = f"{event_id}?{request.query_string.decode('utf-8', 'replace')}"
        found = repo_query.one(db(), _viewers(), event_id)
        if found is None:
            problem(404, "unknown_event", "No event with this eventID among the ones you may see.")
        event = repo_query.as_event(found)
        return _answer({"@context": json.loads(found.get("context") or "null") or [EPCIS_CONTEXT], **event})


@blp.route("/eventTypes")
class EventTypes(MethodView):
    @blp.doc(security=BEARER, responses=answers(200, "A Collection of event types."))
    @require(*READERS)
    def get(self):
        """The event types this repository stores."""
        return _answer({"@context": [EPCIS_CONTEXT], "type": "Collection", "member": list(repo_query.EVENT_TYPES)})


@blp.route("/epcs/<path:epc>/events")
class EpcEvents(MethodView):
    @blp.doc(security=BEARER, responses=answers(200, "An EPCISQueryDocument.", 400))
    @require(*READERS)
    def get(self, epc):
        """Events naming an EPC (in any EPC list, as parentID, or as an epcClass)."""
        return _events_answer({"$or": [{"epcs": epc}, {"epc_classes": epc}]})


def _collection_view(name):
    def get(self):
        values = repo_query.values_of(db(), _viewers(), COLLECTIONS[name])
        return _answer({"@context": [EPCIS_CONTEXT], "type": "Collection", "member": values})
    get.__doc__ = f"The {name} of the events you may see."
    view = blp.doc(security=BEARER, responses=answers(200, f"A Collection of {name}."))(require(*READERS)(get))
    return type(name, (MethodView,), {"get": view})


def _sub_events_view(name):
    def get(self, value):
        try:
            wanted = repo_query.normalised(FILTER_OF[name], value)
        except repo_query.QueryProblem as exc:
            problem(400, "bad_query", exc.message, exception="QueryParameterException", field=exc.field)
        field = "type" if name == "eventTypes" else repo_query.LIST_FILTERS[FILTER_OF[name]]
        return _events_answer({field: wanted})
    get.__doc__ = f"Events of one of the {name}."
    view = blp.doc(security=BEARER, responses=answers(200, "An EPCISQueryDocument.", 400))(require(*READERS)(get))
    return type(f"{name}Events", (MethodView,), {"get": view})


for _name in COLLECTIONS:
    blp.route(f"/{_name}")(_collection_view(_name))
for _name in FILTER_OF:
    blp.route(f"/{_name}/<path:value>/events")(_sub_events_view(_name))
