"""A real gunicorn with our config on the embedded demo store, for the tests that need the server itself."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from bench.load import call

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_env(**extra):
    """The environment of a demo-store service: no MONGO_URI, the small dataset, the given settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "WEB_CONCURRENCY")}
    env.update(PYTHONUNBUFFERED="1", SEED_SCALE="small", **extra)
    return env


def start(tmp_path, env, ready_within=60):
    """Start gunicorn on a free port and wait for /readyz; return (process, port). Its log is tmp_path/gunicorn.log."""
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                                "--bind", f"127.0.0.1:{port}", "api:create_app()"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()  # the child holds its own copy
    deadline = time.monotonic() + ready_within
    while True:
        assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
        try:
            if call(SimpleNamespace(host="127.0.0.1", port=port), "GET", "/readyz")[0] == 200:
                return process, port
        except OSError:
            pass
        assert time.monotonic() < deadline, f"gunicorn was not ready within {ready_within} s"
        time.sleep(0.2)
