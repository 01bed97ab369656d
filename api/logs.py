"""Structured logs: one JSON object a line, a request id on every line and response, secrets redacted.

Under gunicorn, set `logconfig_dict = GUNICORN_LOGCONFIG` (and `accesslog = None`) so that gunicorn's own lines are
JSON too and the app's access line is the only one per request.
"""
import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import g, has_app_context, request
from flask.logging import default_handler

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "user_id", "role", "remote_addr")
REDACTED = "[redacted]"

_REDACTIONS = [
    # Credentials inside a connection string: mongodb://user:pass@host
    (re.compile(r"(?i)\b(mongodb(?:\+srv)?://)[^@/\s'\"]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # key=value, key: value, 'key': 'value' for anything named like a password, token, secret or authorization.
    (re.compile(r"(?i)([\"']?[\w-]*(?:password|passwd|token|secret|authorization|api[_-]?key)[\w-]*[\"']?\s*[:=]\s*)"
                r"(\"[^\"]*\"|'[^']*'|[^\s,;&})\]]+)"), r"\1" + REDACTED),
    # Signed access tokens (payload.timestamp.signature) and 43-character random refresh tokens standing alone.
    (re.compile(r"\b[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]{0,42}[A-Z])(?=[A-Za-z0-9_-]{0,42}[a-z])[A-Za-z0-9_-]{43}"
                r"(?![A-Za-z0-9_-])"), REDACTED),
]
_known_secrets = set()


def remember_secret(value):
    """Redact this exact value (a SECRET_KEY, a database password) wherever it would appear in a log line."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(text):
    """The text with passwords, tokens, Authorization values and connection-string credentials replaced."""
    if not text:
        return text
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactFilter(logging.Filter):
    """Second line of defence: rewrite each record's message with secrets redacted before any handler sees it."""

    def filter(self, record):
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def current_request_id():
    """The id of the request being served, or None outside a request."""
    if has_app_context():
        return g.get("request_id")
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, access fields, and the traceback if any."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # Its message was redacted by RedactFilter, which every handler of ours carries: not again here.
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exc"] = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        elif record.exc_text:
            entry["exc"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (test runners swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def json_handler():
    """A stdout handler writing redacted JSON lines."""
    handler = _StdoutHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    return handler


GUNICORN_LOGCONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "api.logs.RedactFilter"}},
    "formatters": {"json": {"()": "api.logs.JsonFormatter"}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["redact"],
                          "stream": "ext://sys.stdout"}},
    "root": {"level": "INFO", "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False, "qualname": "gunicorn.error"},
        # The app's access line (api.access) is the one per request; gunicorn's would repeat it with the query string.
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False, "qualname": "gunicorn.access"},
    },
}


def configure_logging():
    """Send the root logger's records to stdout as JSON, unless a JSON handler is there already (gunicorn's)."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.addHandler(json_handler())
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)


def init_app(app):
    """JSON logs for this app, a request id on every request and response, and one access line per request."""
    configure_logging()
    app.logger.removeHandler(default_handler)
    remember_secret(app.config.get("SECRET_KEY"))
    uri = app.config["SETTINGS"].mongo_uri
    if uri:
        userinfo = urlsplit(uri).netloc.rpartition("@")[0]
        remember_secret(userinfo.partition(":")[2])
    app.before_request(_start)
    # Registered before every other after_request hook, so it runs last and logs the final status.
    app.after_request(_finish)


def request_id_from(header):
    """The caller's X-Request-ID when it is a sane token, else a new one."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _start():
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def _finish(response):
    if "request_id" not in g:
        _start()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    principal = g.get("principal") or {}
    duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
    fields = {"method": request.method, "path": request.path, "status": response.status_code,
              "duration_ms": duration_ms, "user_id": principal.get("user_id"), "role": principal.get("role"),
              "remote_addr": request.remote_addr}
    logging.getLogger("api.access").info("%s %s %s %.1f ms", request.method, request.path, response.status_code,
                                         duration_ms, extra=fields)
    return response

