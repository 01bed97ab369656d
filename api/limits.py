"""Sign-in throttling: a backoff per (username, address) after wrong passwords, and a looser limit per address.

A stranger guessing from elsewhere slows only their own pair, so the owner's right password from their own address
still works; an administrator's password reset starts the user's pairs afresh (the user's sign_in_epoch).
"""
import logging
import math
import time

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import MongoDBStorage
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

PAIR_KEY = "pair:"
BLOCK_KEY = "block:"
# The first pause after the free wrong passwords; each further wrong one doubles it, up to the whole window.
FIRST_PAUSE_SECONDS = 60
# Wrong passwords of a pair are remembered this long (a right one forgets them at once).
MEMORY_SECONDS = 24 * 3600
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
    # Made once per app: the key function reads the request, so concurrent sign-ins never share a limit object.
    app.extensions["login_limiter"] = limiter
    app.extensions["login_limits"] = limiter.limit(
        f"{settings.login_address_failure_limit} {window}", deduct_when=_failed, scope="address",
        error_message="Too many wrong passwords from this network: sign-in from it is paused. Wait for the time "
                      "in Retry-After, or sign in from another network.")
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)
    app.register_error_handler(_Paused, _too_many_attempts)


def _failed(response):
    return response.status_code == 401


def _window_seconds():
    return current_app.config["SETTINGS"].login_failure_minutes * 60


def _pair(username, user):
    epoch = (user or {}).get("sign_in_epoch", "")
    return f"{username}:{epoch}:{request.remote_addr or '-'}"


def _store(operation, *args):
    """One call on the limiter's store; None when the store fails (the throttle is optional, sign-in is not)."""
    try:
        return getattr(current_app.extensions["login_limiter"].storage, operation)(*args)
    except Exception:  # noqa: BLE001 - an unreachable limiter store must not fail a sign-in
        log.warning("the sign-in throttle store failed on %s", operation, exc_info=True)
        return None


def guard_login(username, user):
    """Refuse (429) a sign-in while its (username, address) pair or its address is paused."""
    g.login_pair = _pair(username, user)
    if _store("get", BLOCK_KEY + g.login_pair):
        expiry = _store("get_expiry", BLOCK_KEY + g.login_pair)
        retry_after = _clamped(expiry - time.time() if expiry else _window_seconds())
        raise _Paused(retry_after)
    # As a context manager the address limit is checked here and charged after the response, only when it is a 401.
    with current_app.extensions["login_limits"]:
        pass


def count_failure():
    """Charge a wrong password to its pair; past the free ones it pauses the pair, twice as long each time."""
    failures = _store("incr", PAIR_KEY + g.login_pair, MEMORY_SECONDS)
    free = current_app.config["SETTINGS"].login_failure_limit
    if failures and failures >= free:
        pause = min(_window_seconds(), FIRST_PAUSE_SECONDS * 2 ** min(failures - free, 30))
        _store("incr", BLOCK_KEY + g.login_pair, pause)


def forget_failures():
    """After a correct password, the pair's count of wrong ones starts again (the per-address count stays)."""
    _store("clear", PAIR_KEY + g.login_pair)


def _clamped(seconds):
    """Whole seconds to wait: rounded up, at least 1, never more than the window."""
    return min(_window_seconds(), max(1, math.ceil(seconds)))


class _Paused(TooManyRequests):
    """A paused (username, address) pair, answered like an exceeded limit."""

    def __init__(self, retry_after):
        super().__init__("Too many wrong passwords for this account from this address: sign-in is paused. Wait for "
                         "the time in Retry-After, or ask an administrator to reset the password.")
        self.retry_after = retry_after


def _retry_after_seconds(limiter, error):
    if getattr(error, "retry_after", None):
        return error.retry_after
    try:
        return _clamped(limiter.current_limit.reset_at - time.time())
    except Exception:  # noqa: BLE001 - fall back to the whole window when the store cannot say
        return _window_seconds()


def _too_many_attempts(error):
    limiter = current_app.extensions["login_limiter"]
    retry_after = _retry_after_seconds(limiter, error)
    error.data = {"message": error.description,
                  "errors": {"error_code": "too_many_attempts", "retry_after_seconds": retry_after},
                  "headers": {"Retry-After": str(retry_after)}}
    return current_app.extensions["smorest_api"].handle_http_exception(error)
