"""Error helpers and handlers: every failure leaves in flask-smorest's {code, status, message, errors} shape."""
import json
import logging

from flask import current_app, g, request
from flask_smorest import abort
from flask_smorest.error_handler import ErrorSchema
from werkzeug.exceptions import (InternalServerError, RequestEntityTooLarge, ServiceUnavailable,
                                 default_exceptions)
from werkzeug.wsgi import LimitedStream

from inspector.errors import DomainError
from inspector.store.connection import UNAVAILABLE_ERRORS

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MAX_JSON_DEPTH = 64
# The one place a domain error's kind becomes an HTTP status.
STATUS_OF_KIND = {"invalid": 422, "not_found": 404, "conflict": 409, "stale": 412, "forbidden": 403,
                  "unauthorized": 401, "too_large": 413, "unsupported": 415, "precondition_required": 428}
# A 401 for a bearer token that no longer works says how to authenticate again (RFC 6750).
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def fail(status, error_code, message, headers=None, **details):
    """Abort with a machine-readable error_code and a sentence a person can act on."""
    kwargs = {"message": message, "errors": {"error_code": error_code, **details}}
    if headers:
        kwargs["headers"] = headers
    abort(status, **kwargs)


def error_docs(blp, answers):
    """Return errors(*codes), a decorator documenting the error answers of blp's views from answers[status]."""
    def errors(*codes):
        """Document the error answers a view gives; all come in the {code, status, message, errors} shape."""
        def decorator(view):
            for code in codes:
                view = blp.alt_response(code, schema=ErrorSchema, description=answers[code])(view)
            return view
        return decorator
    return errors


def _domain_error(error):
    exc = default_exceptions[STATUS_OF_KIND[error.kind]]()
    exc.data = {"message": error.message, "errors": {"error_code": error.code, **error.details}}
    challenged = error.kind == "unauthorized" and getattr(error, "bearer", False)
    headers = {**(BEARER_CHALLENGE if challenged else {}), **error.headers}
    if headers:
        exc.data["headers"] = headers
    return current_app.extensions["smorest_api"].handle_http_exception(exc)


def _store_unavailable(error):
    log.warning("database unavailable: %s", error)
    exc = ServiceUnavailable()
    exc.data = {
        "message": "The database is unreachable right now; try again in a few seconds.",
        "errors": {"error_code": "database_unavailable"},
        "headers": {"Retry-After": str(RETRY_AFTER_SECONDS)},
    }
    return current_app.extensions["smorest_api"].handle_http_exception(exc)


def _too_large(error):
    if getattr(error, "data", None):  # a view's own 413 already says what was too large
        return current_app.extensions["smorest_api"].handle_http_exception(error)
    stream = request.__dict__.get("stream")
    over_body = (request.content_length or 0) > (request.max_content_length or float("inf")) or (
        isinstance(stream, LimitedStream) and stream._limit_is_max and stream.is_exhausted)
    if over_body or request.mimetype != "multipart/form-data":
        return current_app.extensions["smorest_api"].handle_http_exception(_body_too_large(request.max_content_length))
    field, parts = request.max_form_memory_size, request.max_form_parts
    exc = RequestEntityTooLarge()
    exc.data = {"message": f"A form field other than a file is larger than {_size(field)}, or the form has more "
                           f"than {parts} parts; send the text as a file or fewer fields.",
                "errors": {"error_code": "form_too_large", "limit_field_bytes": field, "limit_parts": parts}}
    return current_app.extensions["smorest_api"].handle_http_exception(exc)


def _size(limit):
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.4g} MB"
    return f"{limit / 1024:.4g} KB"


def _body_too_large(limit):
    exc = RequestEntityTooLarge()
    exc.data = {"message": f"The request is larger than the {_size(limit)} this endpoint accepts; send a smaller file "
                           "or split it.", "errors": {"error_code": "request_too_large", "limit_bytes": limit}}
    return exc


def large_body(view):
    """Let a view take bodies up to the upload limit (MAX_UPLOAD_BYTES) instead of MAX_JSON_BYTES."""
    view._large_body = True
    return view


def limit_body():
    """Hold the request body to its endpoint's limit, before anything reads it (a before_request).

    Uploads (multipart) and views marked large_body take MAX_CONTENT_LENGTH; every other body MAX_JSON_BYTES.
    """
    settings = current_app.config["SETTINGS"]
    request.max_form_memory_size = settings.max_form_memory_bytes
    request.max_form_parts = settings.max_form_parts
    multipart = request.mimetype == "multipart/form-data"
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    small = not multipart and not _takes_large_body()
    if small:
        limit = min(settings.max_json_bytes, limit)
    request.max_content_length = limit
    if request.content_length is None and not multipart and "wsgi.input_terminated" in request.environ:
        # A chunked body has no Content-Length, and werkzeug's get_data() silently stops reading it at the limit:
        # read one byte more to tell a body that fits from a cut one. (Form parsing itself raises past the limit.)
        request.max_content_length = limit + 1
        try:
            cut = len(request.get_data(cache=True)) > limit
        except RequestEntityTooLarge:
            cut = True
        if cut:
            raise _body_too_large(limit)
        request.max_content_length = limit
    elif small and (request.content_length or 0) > limit:
        # Uploads and captures are left to werkzeug's check when the view reads them, so that the view can say which
        # file was too large.
        raise _body_too_large(limit)


def _takes_large_body():
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
    return bool(getattr(view, "_large_body", False))


def _internal_error(error):
    # Flask has logged the traceback (with the request id); the caller gets the id to quote, never the trace.
    exc = InternalServerError()
    exc.data = {"message": "Something went wrong on our side, not in what you sent. Try again; if it happens again, "
                           "report it with the request id.",
                "errors": {"error_code": "internal_error", "request_id": g.get("request_id")}}
    return current_app.extensions["smorest_api"].handle_http_exception(exc)


def register_error_handlers(app, api):
    """Map domain errors by kind, database outages to 503 + Retry-After; everything else HTTP stays in the smorest shape."""
    app.extensions["smorest_api"] = api
    app.register_error_handler(DomainError, _domain_error)
    for error_type in UNAVAILABLE_ERRORS:
        app.register_error_handler(error_type, _store_unavailable)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    # Any exception no other handler takes (when not propagated, as in TESTING) answers 500 in the house shape.
    app.register_error_handler(InternalServerError, _internal_error)


def refuse_unusable_json():
    """Answer 400 for a JSON body that parses but that no view can use, before any view parses it (a before_request).

    Python's parser fails on such bodies with errors no view expects (every JSON endpoint answered 500): nesting
    deeper than the interpreter's recursion limit, and integers of more than 4,300 digits. A lone surrogate escape
    (\\ud800) parses, but it is not text: hashing or storing it fails later. Malformed JSON is left to the views.
    """
    if not request.is_json:
        return
    data = request.get_data(cache=True)
    if not data:
        return
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    except RecursionError:
        _unusable_json(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
    except ValueError:
        _unusable_json("The JSON body holds a number too long to read.")
    problem = _json_problem(body)
    if problem:
        _unusable_json(problem)


def _json_problem(body):
    pending = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            return f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "The JSON body holds a lone surrogate escape (such as \\ud800), which is not text."
    return None


def _unusable_json(message):
    fail(400, "invalid_json", message, json=[message])
