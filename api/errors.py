"""Error helpers and handlers: every failure leaves in flask-smorest's {code, status, message, errors} shape."""
import json
import logging

from flask import current_app, request
from flask_smorest import abort
from flask_smorest.error_handler import ErrorSchema
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, ServiceUnavailable

from inspector.store import UNAVAILABLE_ERRORS

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MAX_JSON_DEPTH = 64


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
    limit_mb = current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
    exc = RequestEntityTooLarge()
    exc.data = {"message": f"The request is larger than the {limit_mb:.0f} MB this service accepts; send a smaller "
                           "file or split it.", "errors": {"error_code": "request_too_large"}}
    return current_app.extensions["smorest_api"].handle_http_exception(exc)


def register_error_handlers(app, api):
    """Map database outages to 503 + Retry-After; everything else HTTP stays in the smorest shape."""
    app.extensions["smorest_api"] = api
    for error_type in UNAVAILABLE_ERRORS:
        app.register_error_handler(error_type, _store_unavailable)
    app.register_error_handler(RequestEntityTooLarge, _too_large)


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
