"""Gunicorn settings, each overridable from the environment; exactly one worker on the embedded demo store."""
import os
import sys

EMBEDDED = not os.environ.get("MONGO_URI")


def _env_int(name, default):
    """An integer setting from the environment; a bad value stops the start with one line."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.stderr.write(f"configuration error: {name} must be a whole number, got {raw!r}\n")
        sys.exit(2)


bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = _env_int("WEB_CONCURRENCY", 1 if EMBEDDED else 2)
# Threaded workers keep answering the arbiter's heartbeat during a long request (a photo decode), so `timeout`
# never kills a worker mid-request, and kept-alive connections wait in the poller instead of holding a thread.
worker_class = "gthread"
# On the embedded store the threads take turns inside the app (see post_worker_init); on MongoDB they overlap I/O.
threads = _env_int("GUNICORN_THREADS", 4)
# Seconds a worker may go silent before the arbiter replaces it; silent means stuck, not busy (see worker_class).
timeout = _env_int("GUNICORN_TIMEOUT", 60)
# On SIGTERM a worker stops accepting and finishes the requests in flight for at most this long.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Phones and the load bench reuse connections; a little above a phone's pause between requests.
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# The heartbeat file is touched every second: keep it in memory, not on a possibly slow or full disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
if EMBEDDED:
    # Recycling a worker would throw away the demo data, which lives in it.
    max_requests = 0
    max_requests_jitter = 0
else:
    # A fresh worker now and then returns memory that image decoding fragments; jitter keeps workers from recycling at once.
    max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000)
    max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Our longest request lines are filtered listings; 8 kB is gunicorn's cap too, and nothing of ours needs more fields.
limit_request_line = _env_int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
limit_request_fields = _env_int("GUNICORN_LIMIT_REQUEST_FIELDS", 100)
limit_request_field_size = _env_int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 8190)
# No proxy is trusted unless FORWARDED_ALLOW_IPS names it (the app reads the same setting for X-Forwarded-For), so a
# client cannot pick the address the sign-in limits count, nor claim HTTPS, by sending the headers itself.
forwarded_allow_ips = ",".join(a.strip() for a in os.environ.get("FORWARDED_ALLOW_IPS", "").split(",") if a.strip())
# The app writes one structured line per request (with its request id); gunicorn's access log would repeat it.
from api.logs import GUNICORN_LOGCONFIG as logconfig_dict  # noqa: E402,F401 - gunicorn's own lines as JSON, its access line dropped

accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Loading the app in the master would open the MongoDB client before fork; each worker opens its own.
preload_app = False
# gunicorn's control socket has one path per user: two instances on a machine (tests, demos) would fight over it.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


def on_starting(server):
    """Stop before forking when the embedded store would be split across workers."""
    if EMBEDDED and server.cfg.workers > 1:
        sys.stderr.write(
            "refusing to start: the embedded demo store lives inside one process, so it needs exactly one "
            f"worker (got {server.cfg.workers}); set MONGO_URI for a real MongoDB or use --workers 1\n"
        )
        sys.exit(1)


def post_worker_init(worker):
    """On the embedded store, let one request at a time into the app, its body read before and its answer sent after."""
    if EMBEDDED:
        # mongomock updates stored documents in place without a lock: a read copying a document while another
        # thread updates it can fail, and its guarded updates are not atomic. MongoDB needs none of this.
        from api.one_at_a_time import OneAtATime

        app = worker.wsgi
        settings = app.config["SETTINGS"]
        worker.wsgi = OneAtATime(app, max_body_bytes=app.config["MAX_CONTENT_LENGTH"],
                                 read_timeout=settings.body_read_timeout_seconds,
                                 send_timeout=settings.send_timeout_seconds)
