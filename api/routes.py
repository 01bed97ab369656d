"""Every API blueprint, registered in one place, and the answers they share documented once."""
from apispec import BasePlugin
from flask_smorest.error_handler import ErrorSchema

from . import (auth, batches, customs, epcis, epcis_rest, findings, ledger, meta, notifications, offline, recall,
               registry, reporting, scans, tasks, users)
from . import epcis_exports, epcis_queries  # noqa: F401 - their views go on epcis_rest.blp, registered below

ANY_SIGNED_IN = "any signed-in user"
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
WWW_AUTHENTICATE = {"description": "Bearer, with error=\"invalid_token\" when the token stopped working.",
                    "schema": {"type": "string"}}
# What the shared layers answer (the sign-in guard, the JSON body check, the request size limit, the store), by status.
SHARED_ANSWERS = {
    400: "The body is not valid JSON, or JSON no view can use: nested too deep, a number too long, a lone surrogate "
         "escape (error_code invalid_json).",
    401: "No valid access token: sign in (error_code not_signed_in), or the token expired or was revoked "
         "(invalid_token).",
    403: "Your role may not do this (error_code forbidden_role), or your password was reset and must be changed "
         "first (password_change_required).",
    413: "The request is larger than this service accepts (error_code request_too_large, or a view's own code).",
    503: "The database is unreachable right now; try again after Retry-After seconds (error_code "
         "database_unavailable).",
}
SHARED_HEADERS = {401: {"WWW-Authenticate": WWW_AUTHENTICATE}, 503: {"Retry-After": RETRY_AFTER}}


def register(app, api):
    """Register the resource blueprints on the smorest Api."""
    # Each operation documents the statuses it really answers, not a catch-all "default" that any status matches.
    api.DEFAULT_ERROR_RESPONSE_NAME = None
    _pagination_header_is_json(api.spec)
    plugin = SharedAnswers()
    plugin.init_spec(api.spec)
    # First, so that the marshmallow plugin resolves the error schema it adds.
    api.spec.plugins = [plugin, *api.spec.plugins]
    api.register_blueprint(meta.blp)
    api.register_blueprint(auth.blp)
    api.register_blueprint(users.blp)
    api.register_blueprint(scans.blp)
    api.register_blueprint(batches.blp)
    api.register_blueprint(findings.blp)
    api.register_blueprint(registry.blp)
    api.register_blueprint(customs.blp)
    api.register_blueprint(ledger.blp)
    api.register_blueprint(epcis.blp)
    api.register_blueprint(epcis_rest.blp)
    api.register_blueprint(reporting.blp)
    api.register_blueprint(recall.blp)
    api.register_blueprint(tasks.blp)
    api.register_blueprint(offline.blp)
    api.register_blueprint(notifications.blp)


def _pagination_header_is_json(spec):
    """X-Pagination carries JSON text: say so with content, as OpenAPI 3 asks, not as a plain header schema."""
    header = spec.components.headers_lazy.get("PAGINATION")
    if header and "schema" in header:
        header["content"] = {"application/json": {"schema": header.pop("schema")}}


class SharedAnswers(BasePlugin):
    """Adds to each operation the error answers of the layers every request goes through, where they apply."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status in _shared_statuses(operation):
                _add(responses, status)
            for status, response in responses.items():
                # Every error leaves in the {code, status, message, errors} shape, documented or not by its view.
                if int(status) >= 400 and isinstance(response, dict) and "content" not in response:
                    response["content"] = {"application/json": {"schema": ErrorSchema}}


def _shared_statuses(operation):
    statuses = []
    roles = operation.get("x-roles")
    body = (operation.get("requestBody") or {}).get("content", {})
    if any(_is_json(media_type) for media_type in body):
        statuses.append(400)
    if roles:
        statuses.append(401)
        if roles != [ANY_SIGNED_IN]:
            statuses.append(403)
    if body:
        statuses.append(413)
    if roles:
        statuses.append(503)
    return statuses


def _is_json(media_type):
    return media_type == "application/json" or media_type.endswith("+json")


def _add(responses, status):
    """Document a shared answer; a view's own description of that status stands."""
    own = responses.get(str(status), responses.get(status))
    shared = {"description": SHARED_ANSWERS[status], "content": {"application/json": {"schema": ErrorSchema}}}
    if status in SHARED_HEADERS:
        shared["headers"] = dict(SHARED_HEADERS[status])
    if own is None:
        responses[str(status)] = shared
    elif isinstance(own, dict):
        own.setdefault("content", shared["content"])
        if "headers" in shared:
            own.setdefault("headers", {}).update(shared["headers"])
