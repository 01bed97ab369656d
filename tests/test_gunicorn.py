"""The service under real gunicorn with gunicorn.conf.py: it answers, drains in-flight requests on SIGTERM, and
refuses several workers on the embedded store."""
import http.client
import io
import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from bench.load import call
from gunicorn_server import embedded_env, free_port, start

ROOT = Path(__file__).resolve().parent.parent
GRACEFUL_TIMEOUT = 10


def _embedded_env(**extra):
    return embedded_env(GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT), **extra)


def _request(port, method, path, body=None, headers=None):
    return call(SimpleNamespace(host="127.0.0.1", port=port), method, path, body, headers)


@pytest.fixture
def server(tmp_path):
    """gunicorn with our config on the embedded demo store, on a free loopback port; yields (process, port)."""
    process, port = start(tmp_path, _embedded_env())
    yield process, port
    if process.poll() is None:
        process.kill()
        process.wait()


def _sign_in(port, username):
    status, body = _request(port, "POST", "/api/auth/login", json.dumps({"username": username, "password": "demo"}),
                            {"Content-Type": "application/json"})
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['access_token']}"}


def _label_photo():
    """A 12 MP JPEG with no code on it: the decoder runs every pass before it gives up."""
    image = Image.effect_noise((4000, 3000), 60).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def test_the_service_answers_health_and_scans_under_gunicorn(server):
    _, port = server
    assert _request(port, "GET", "/healthz")[0] == 200
    headers = {**_sign_in(port, "inspector"), "Content-Type": "application/json"}
    case = json.loads(_request(port, "GET", "/api/demo/cases")[1])[0]
    scan = {"client_id": str(uuid.uuid4()), "code": case["code"], "scanned_at": datetime.now(timezone.utc).isoformat(),
            **case["scan"]}
    status, body = _request(port, "POST", "/api/scans", json.dumps(scan), headers)
    assert status == 201, body
    assert json.loads(body)["verdict"]["status"] == case["expected_status"]


def test_a_phone_that_stops_reading_does_not_hold_up_the_others(server):
    """The demo store lets one request at a time into the app: a client gone mid-download must not keep it."""
    _, port = server
    stalled = []
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /vendor/zxing/zxing_reader.wasm HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        stalled.append(sock)  # never read further
    started = time.monotonic()
    assert _request(port, "GET", "/healthz")[0] == 200
    assert _request(port, "GET", "/api/meta")[0] == 200
    assert time.monotonic() - started < 5
    for sock in stalled:  # gone mid-response
        sock.close()
    assert _request(port, "GET", "/api/meta")[0] == 200


def test_sigterm_lets_the_request_in_flight_finish_then_exits_cleanly(server):
    process, port = server
    headers = _sign_in(port, "inspector")
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"label.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + _label_photo() + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=GRACEFUL_TIMEOUT + 20)
    conn.putrequest("POST", "/api/decode")
    for name, value in {**headers, "Content-Type": f"multipart/form-data; boundary={boundary}",
                        "Content-Length": str(len(body))}.items():
        conn.putheader(name, value)
    conn.endheaders()
    half = len(body) // 2
    conn.send(body[:half])
    time.sleep(0.5)  # the worker has the request and is reading its body
    stopped_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    conn.send(body[half:])
    response = conn.getresponse()
    answer = response.read()
    conn.close()
    assert response.status == 200, answer
    assert json.loads(answer)["codes"] == []
    assert process.wait(timeout=GRACEFUL_TIMEOUT + 5) == 0
    assert time.monotonic() - stopped_at < GRACEFUL_TIMEOUT + 2
    with pytest.raises(OSError):
        _request(port, "GET", "/healthz")


def test_two_workers_on_the_embedded_store_are_refused_with_the_reason():
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                             "--bind", f"127.0.0.1:{free_port()}", "api:create_app()"],
                            cwd=ROOT, env=_embedded_env(WEB_CONCURRENCY="2"), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "the embedded demo store lives inside one process, so it needs exactly one worker (got 2)" in result.stderr
    assert "set MONGO_URI" in result.stderr
