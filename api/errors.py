"""Error helpers and handlers: every failure leaves in flask-smorest's {code, status, message, errors} shape."""
import logging

from flask import current_app
from flask_smorest import abort
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from inspector.store import UNAVAILABLE_ERRORS

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def fail(status, error_code, message, headers=None, **details):
    """Abort with a machine-readable error_code and a sentence a person can act on."""
    kwargs = {"message": message, "errors": {"error_code": error_code, **details}}
    if headers:
        kwargs["headers"] = headers
    abort(status, **kwargs)


def _store_unavailable(error):
    log.warning("database unavailable: %s", error)
    exc = ServiceUnavailable()
    exc.data = {
        "message": "The database is unreachable right now; try again in a few seconds.",
        "errors": {"error_code": "database_unavailable"},
        "headers": {"Retry-After": str(RETRY_AFTER_SECONDS)},
    }
    return current_app.extensions["smorest_api"].handle_http_exception(exc)


def register_error_handlers(app, api):
    """Map database outages to 503 + Retry-After; everything else HTTP stays in the smorest shape."""
    app.extensions["smorest_api"] = api
    for error_type in UNAVAILABLE_ERRORS:
        app.register_error_handler(error_type, _store_unavailable)
