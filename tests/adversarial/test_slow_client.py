"""Attack: one slow client stalls everyone on the embedded store (a trickled upload, a download never read).

Through a real gunicorn with gunicorn.conf.py on the embedded store, where requests take turns inside the app.
"""
import http.client
import json
import os
import select
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gunicorn_server import embedded_env, start

ROOT = Path(__file__).resolve().parents[2]
BODY_READ_TIMEOUT = 8
SEND_TIMEOUT = 3
PATIENCE = 45  # how long a client here waits for any answer: far above what the service needs, even on a loaded machine


def _call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def port(tmp_path):
    """gunicorn on the embedded demo store, on a free loopback port, with short client deadlines."""
    process, port = start(tmp_path, embedded_env(BODY_READ_TIMEOUT_SECONDS=str(BODY_READ_TIMEOUT),
                                                  SEND_TIMEOUT_SECONDS=str(SEND_TIMEOUT)), ready_within=90)
    yield port
    process.kill()
    process.wait()


def _sign_in(port, username):
    status, body = _call(port, "POST", "/api/auth/login", json.dumps({"username": username, "password": "demo"}),
                         {"Content-Type": "application/json"})
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['access_token']}"}


def _read_answer(sock):
    """Everything the server sends until it closes or a whole JSON answer came."""
    sock.settimeout(PATIENCE)
    data = b""
    while True:
        try:
            piece = sock.recv(65536)
        except OSError:
            break
        if not piece:
            break
        data += piece
        head, _, body = data.partition(b"\r\n\r\n")
        length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
        if length and len(body) >= length[0]:
            break
    return data


def test_an_upload_trickled_a_byte_at_a_time_holds_no_one_up_and_gets_408(port):
    headers = _sign_in(port, "inspector")
    events, answers = [], {}
    trickler = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
    trickler.sendall(f"POST /api/inspections HTTP/1.1\r\nHost: x\r\nAuthorization: {headers['Authorization']}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n".encode())

    def trickle():
        for _ in range(200):  # one byte every half second: 100 s for the whole body, unless the server gives up
            trickler.sendall(b" ")
            if select.select([trickler], [], [], 0.5)[0]:
                break
        answers["trickler"] = _read_answer(trickler)
        events.append("trickler answered")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    time.sleep(1.5)  # the server has the request and is waiting for its body
    assert thread.is_alive()
    answers["healthz"] = _call(port, "GET", "/healthz")
    events.append("healthz answered")
    answers["meta"] = _call(port, "GET", "/api/meta")
    events.append("meta answered")
    thread.join(PATIENCE + 60)
    assert events == ["healthz answered", "meta answered", "trickler answered"]
    assert answers["healthz"][0] == 200 and answers["meta"][0] == 200
    head, _, body = answers["trickler"].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answers["trickler"][:300]
    error = json.loads(body)
    assert error["code"] == 408 and error["status"] == "Request Timeout" and error["message"]
    assert error["errors"]["error_code"] == "body_timeout"
    assert b"connection: close" in head.lower()
    trickler.close()


def _attach_large_file(port, headers, size):
    finding = {"client_id": str(uuid.uuid4()), "enterprise_id": "ENT-GMT",
               "site": {"type": "market", "name": "Ganzhou rare-earth market, stall 14"},
               "location": {"lat": 25.8412, "lon": 114.9396, "accuracy_m": 8.0},
               "observed_at": (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat(),
               "batch_codes": ["RE5Q7KX2M"], "discrepancies": ["label_missing_or_damaged"],
               "observed_mass_kg": 480.0, "severity": "high", "notes": "Scanned delivery note attached."}
    status, body = _call(port, "POST", "/api/inspections", json.dumps(finding),
                         {**headers, "Content-Type": "application/json"})
    assert status == 201, body
    finding_id = json.loads(body)["id"]
    pdf = b"%PDF-1.4\n" + os.urandom(size) + b"\n%%EOF\n"
    boundary = uuid.uuid4().hex
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"delivery-note.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
    status, body = _call(port, "POST", f"/api/inspections/{finding_id}/attachments", form,
                         {**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 201, body
    return f"/api/inspections/{finding_id}/attachments/{json.loads(body)['id']}", len(pdf)


def test_a_download_never_read_holds_no_one_up_and_is_cut_off(port):
    headers = _sign_in(port, "inspector")
    path, size = _attach_large_file(port, headers, 10 * 1024 * 1024)  # far more than the sockets' buffers hold
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    reader.settimeout(PATIENCE)
    reader.connect(("127.0.0.1", port))
    reader.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {headers['Authorization']}\r\n\r\n".encode())
    received = len(reader.recv(1024))
    assert received  # the answer has started; from now on the client reads nothing
    assert _call(port, "GET", "/healthz")[0] == 200
    assert _call(port, "GET", "/api/meta")[0] == 200
    time.sleep(SEND_TIMEOUT * 3)  # long past the send timeout
    while True:
        try:
            piece = reader.recv(1 << 20)
        except OSError:
            break
        if not piece:
            break
        received += len(piece)
    reader.close()
    assert received < size, "the server kept the stalled download open"
    assert _call(port, "GET", "/healthz")[0] == 200
