"""Gunicorn settings: bind from $PORT, and refuse several workers on the embedded demo store."""
import os
import sys

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2" if os.environ.get("MONGO_URI") else "1"))
# The embedded store (mongomock) is not safe under concurrent writers, so it gets one thread.
threads = int(os.environ.get("GUNICORN_THREADS", "4" if os.environ.get("MONGO_URI") else "1"))
timeout = 60
accesslog = "-"
errorlog = "-"
# Loading the app in the master would open the MongoDB client before fork; each worker opens its own.
preload_app = False


def on_starting(server):
    """Stop before forking when the embedded store would be split across workers."""
    if not os.environ.get("MONGO_URI") and server.cfg.workers > 1:
        sys.stderr.write(
            "refusing to start: the embedded demo store lives inside one process, so it needs exactly one "
            f"worker (got {server.cfg.workers}); set MONGO_URI for a real MongoDB or use --workers 1\n"
        )
        sys.exit(1)
