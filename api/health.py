"""Liveness and readiness probes."""
from flask import Blueprint, current_app, jsonify

from inspector.store.connection import StoreUnavailable, ping

from .context import db, ensure_ready

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """Answer 200 while the process is alive."""
    return jsonify(status="alive")


@blp.get("/readyz")
def readyz():
    """Answer 200 when the database answers a ping, 503 otherwise."""
    try:
        ping(db())
        ensure_ready()
    except StoreUnavailable as exc:
        current_app.logger.warning("not ready: %s", exc)
        return jsonify(status="unavailable", reason="database unreachable"), 503, {"Retry-After": "5"}
    return jsonify(status="ready", demo=current_app.config["SETTINGS"].demo)
