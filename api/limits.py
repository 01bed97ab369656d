"""Login throttling with flask-limiter: wrong passwords in a row per username, and per client address."""
import logging
import math
import time

from flask import current_app, g
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import MongoDBStorage

log = logging.getLogger(__name__)

USER_KEY = "user:"
SCHEME_PREFIX = "inspector+"


class _MongoStorage(MongoDBStorage):
    """limits' MongoDB storage, registered under our own scheme so its __del__ cannot connect."""

    STORAGE_SCHEME = [SCHEME_PREFIX + "mongodb", SCHEME_PREFIX + "mongodb+srv"]

    def __init__(self, uri, **options):
        super().__init__(uri.removeprefix(SCHEME_PREFIX), **options)

    def __del__(self):
        # The parent's __del__ reads a lazy property: an app that never counted a sign-in would connect and build
        # indexes while being garbage-collected, and stall or warn when the server is down.
        if self._storage is not None:
            self._storage.close()


def init_app(app):
    """Give this app its own limiter, so counters never leak between apps (or tests)."""
    settings = app.config["SETTINGS"]
    if settings.demo:
        storage_uri, options = "memory://", {}
    else:
        # Shared by every gunicorn worker; kept in the service's own database, which its user can write.
        timeout = settings.server_selection_timeout_ms
        storage_uri = SCHEME_PREFIX + settings.mongo_uri
        options = {"database_name": settings.mongo_db, "counter_collection_name": "login_throttle",
                   "window_collection_name": "login_throttle_windows", "serverSelectionTimeoutMS": timeout,
                   "connectTimeoutMS": timeout, "socketTimeoutMS": max(timeout, 5000)}
    # swallow_errors: an unreachable store lets sign-in go on (to a clean 503 from the user lookup), never a 500.
    limiter = Limiter(get_remote_address, storage_uri=storage_uri, storage_options=options, swallow_errors=True,
                      strategy="fixed-window", key_prefix="login", headers_enabled=False)
    limiter.init_app(app)
    window = f"per {settings.login_failure_minutes} minutes"
    message = ("Too many wrong passwords: sign-in is paused for this account or network. "
               "Wait for the time in Retry-After, or ask an administrator to reset the password.")
    # Made once per app: the key functions read the request, so concurrent sign-ins never share a limit object.
    app.extensions["login_limiter"] = limiter
    app.extensions["login_limits"] = (
        limiter.limit(f"{settings.login_address_failure_limit} {window}", deduct_when=_failed,
                      error_message=message, scope="address"),
        limiter.limit(f"{settings.login_failure_limit} {window}", key_func=_username_key, deduct_when=_failed,
                      error_message=message, scope="user"),
    )
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)


def _failed(response):
    return response.status_code == 401


def _username_key():
    return USER_KEY + g.login_username


def guard_login(username):
    """Refuse (429) a sign-in after too many wrong passwords in a row; count this attempt if it fails."""
    g.login_username = username
    per_address, per_user = current_app.extensions["login_limits"]
    # As context managers the limits are checked here and charged after the response, only when it is a 401.
    with per_address:
        pass
    with per_user:
        pass


def forget_failures():
    """After a correct password, the count of wrong ones in a row starts again (the per-address count stays)."""
    limiter = current_app.extensions["login_limiter"]
    for request_limit in limiter.current_limits:
        if any(str(arg).startswith(USER_KEY) for arg in request_limit.request_args):
            try:
                limiter.limiter.clear(request_limit.limit, *request_limit.request_args)
            except Exception:  # noqa: BLE001 - the limiter store is optional; it must not fail a good sign-in
                log.warning("could not reset the failed sign-in count", exc_info=True)


def _retry_after_seconds(limiter, error):
    try:
        return max(1, math.ceil(limiter.current_limit.reset_at - time.time()))
    except Exception:  # noqa: BLE001 - fall back to the whole window when the store cannot say
        return int(error.limit.limit.get_expiry())


def _too_many_attempts(error):
    limiter = current_app.extensions["login_limiter"]
    retry_after = _retry_after_seconds(limiter, error)
    error.data = {"message": error.description,
                  "errors": {"error_code": "too_many_attempts", "retry_after_seconds": retry_after},
                  "headers": {"Retry-After": str(retry_after)}}
    return current_app.extensions["smorest_api"].handle_http_exception(error)
