"""E-mail to a real SMTP server (aiosmtpd) and webhooks to a real HTTP receiver, both started here: sent by the
worker, never by the request; retried when the server is down until it is back, never twice; signed; and nothing
reaches the wrong enterprise's or province's address."""
import hashlib
import hmac
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from conftest import gen_batch
from finding_helpers import act, log_finding, sent_finding
from inspector.notifications import mail, webhooks
from notification_helpers import World


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler keeping every message it accepted."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"

    def to(self, address):
        return [m for rcpt, m in self.messages if address in rcpt]


class SmtpServer:
    """A real SMTP server on a fixed local port that a test can stop and start again."""

    def __init__(self):
        self.port, self.box, self.controller = _free_port(), Mailbox(), None

    def start(self):
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()
        self.controller = None


class Receiver(BaseHTTPRequestHandler):
    """Records each POST; answers with the next planned status (200 when none is planned)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.append((self.path, dict(self.headers), body))
        status = self.server.plan.pop(0) if self.server.plan else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    if server.controller:
        server.stop()


@pytest.fixture(scope="module")
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.got, server.plan = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def world(smtp):
    made = World(SMTP_URL=f"smtp://127.0.0.1:{smtp.port}", MAIL_FROM="inspector@field.example.org",
                 APP_URL="https://field.example.org")
    yield made
    made.close()


@pytest.fixture
def crew(world, smtp, receiver):
    world.clear()
    smtp.box.messages.clear()
    receiver.got.clear()
    receiver.plan.clear()
    if smtp.controller is None:
        smtp.start()
    return world


def _settings(world):
    return world.app.config["SETTINGS"]


def _email(client, headers, address, **more):
    r = client.put("/api/notifications/settings", json={"email": address, **more}, headers=headers)
    assert r.status_code == 200, r.json


def _subject(message):
    return str(make_header(decode_header(message["Subject"])))


def _text(message):
    return message.get_payload(decode=True).decode(message.get_content_charset())


def test_an_email_waits_out_a_server_that_is_down_and_is_sent_once_in_the_users_language(crew, smtp):
    client = crew.client
    _email(client, crew["enterprise"], "clerk@gmt.example.com", language="fr")
    _email(client, crew["enterprise2"], "clerk@bmm.example.com")
    smtp.stop()
    finding = log_finding(client, crew["inspector"], notes="Seen by Li Wei at stall 14")
    assert act(client, crew["supervisor"], finding["id"], "confirm").status_code == 200
    # The request succeeds with the mail server down: it only queues the message.
    assert act(client, crew["supervisor"], finding["id"], "send_to_enterprise").status_code == 200
    queued = list(crew.db.mail_outbox.find())
    assert [(m["to"], m["state"]) for m in queued] == [("clerk@gmt.example.com", "pending")]

    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert mail.send_due(crew.db, _settings(crew), now) == {"sent": 0, "failed": 1}
    item = crew.db.mail_outbox.find_one()
    assert item["state"] == "pending" and item["attempts"] == 1 and item["last_error"]
    smtp.start()
    # Back, but the retry waits for its backoff; then it goes, once, however often the worker runs.
    assert mail.send_due(crew.db, _settings(crew), now + timedelta(seconds=10))["sent"] == 0
    assert mail.send_due(crew.db, _settings(crew), now + timedelta(minutes=2))["sent"] == 1
    for later in (3, 60, 600):
        assert mail.send_due(crew.db, _settings(crew), now + timedelta(minutes=later))["sent"] == 0

    (message,) = smtp.box.to("clerk@gmt.example.com")
    assert _subject(message) == f"Le constat {finding['id'][:8]} attend votre réponse"
    text = _text(message)
    assert f"https://field.example.org/#/case/{finding['id']}" in text and "Répondez avant le" in text
    assert "Li Wei" not in text and "stall 14" not in text and message["Message-ID"]
    assert message["Content-Language"] == "fr" and message["Auto-Submitted"] == "auto-generated"
    assert smtp.box.to("clerk@bmm.example.com") == []
    assert crew.db.mail_outbox.find_one()["state"] == "sent"


def test_a_digest_user_gets_one_message_at_eight_in_china_and_unchosen_kinds_none(crew, smtp):
    client = crew.client
    _email(client, crew["enterprise"], "clerk@gmt.example.com", mode="digest", language="zh-CN")
    _email(client, crew["inspector"], "li@field.example.org", email_kinds=[])
    first, second = sent_finding(client, crew), sent_finding(client, crew)
    for finding_id in (first, second):
        assert act(client, crew["enterprise"], finding_id, "respond", comment="See the weighing slip.").status_code == 200
        assert act(client, crew["supervisor"], finding_id, "resolve", outcome="accepted").status_code == 200
    now = datetime.now(timezone.utc)
    assert mail.send_due(crew.db, _settings(crew), now)["sent"] == 0
    due = crew.db.mail_outbox.find_one({"to": "clerk@gmt.example.com"})["next_try_at"].replace(tzinfo=timezone.utc)
    assert due.astimezone(timezone(timedelta(hours=8))).hour == 8
    assert mail.send_due(crew.db, _settings(crew), due)["sent"] == 1
    (digest,) = smtp.box.to("clerk@gmt.example.com")
    assert _subject(digest) == "现场检查系统的 4 条通知"
    assert f"#/case/{first}" in _text(digest) and f"#/case/{second}" in _text(digest) and "解释已接受" in _text(digest)
    # The inspector chose no kinds by e-mail: the resolutions are in the inbox only.
    assert smtp.box.to("li@field.example.org") == []
    assert len(client.get("/api/notifications", headers=crew["inspector"]).json) == 2


def test_emails_about_an_enterprise_reach_only_the_supervisors_of_its_province(crew, smtp):
    client = crew.client
    for who in ("sup-im", "sup-jx", "enterprise", "clerk-bps"):
        _email(client, crew[who], f"{who}@example.com")
    code = gen_batch(crew.db, stage="ore", producer_id="ENT-NSM",
                     produced_on=datetime(2026, 10, 1, tzinfo=timezone.utc))["_id"]
    r = client.post("/api/ledger/submissions", headers=crew["clerk-bps"], json={"events": [
        {"event_id": "W9", "type": "receipt", "occurred_at": "2026-11-04", "code": code, "from_id": "ENT-NSM",
         "doc_no": "WB-405"}]})
    assert r.status_code == 201, r.json
    mail.send_due(crew.db, _settings(crew), datetime.now(timezone.utc))
    assert [_subject(m) for m in smtp.box.to("sup-im@example.com")] == ["Receipt without a shipment at Baotou Plains "
                                                                       "Separation"]
    for elsewhere in ("sup-jx", "enterprise", "clerk-bps"):
        assert smtp.box.to(f"{elsewhere}@example.com") == []


def _verify(secret, headers, body):
    expected = "sha256=" + hmac.new(secret.encode(), f"{headers['X-Inspector-Timestamp']}.".encode() + body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Inspector-Signature"])


def test_webhooks_are_signed_retried_logged_and_reach_only_their_enterprise_or_province(crew, receiver):
    client, admin = crew.client, crew["admin"]
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    hooks = {}
    for name, scope in (("gmt", {"enterprise_id": "ENT-GMT"}), ("bmm", {"enterprise_id": "ENT-BMM"}),
                        ("jx", {"province": "Jiangxi"}), ("im", {"province": "Inner Mongolia"})):
        r = client.post("/api/notifications/webhooks", json={"url": f"{base}/{name}", **scope}, headers=admin)
        assert r.status_code == 201, r.json
        hooks[name] = r.json
    receiver.plan[:] = [500]  # the enterprise's ERP fails the first try
    finding_id = sent_finding(client, crew)
    assert receiver.got == []  # nothing is POSTed from inside the request
    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert webhooks.deliver_due(crew.db, now) == {"delivered": 0, "failed": 1}
    assert webhooks.deliver_due(crew.db, now + timedelta(seconds=5)) == {"delivered": 0, "failed": 0}
    assert webhooks.deliver_due(crew.db, now + timedelta(minutes=2)) == {"delivered": 1, "failed": 0}
    assert [path for path, _, _ in receiver.got] == ["/gmt", "/gmt"]
    path, headers, body = receiver.got[-1]
    assert _verify(hooks["gmt"]["secret"], headers, body)
    assert not _verify(hooks["bmm"]["secret"], headers, body)
    payload = json.loads(body)
    assert payload["kind"] == "finding_sent" and payload["subject"] == {"type": "finding", "id": finding_id}
    assert "inspector" not in body.decode() and headers["X-Inspector-Event"] == "finding_sent"
    log = client.get(f"/api/notifications/webhooks/{hooks['gmt']['id']}/deliveries", headers=admin).json
    assert [(d["state"], d["attempts"], [a["status"] for a in d["log"]]) for d in log] == [
        ("delivered", 2, [500, 200])]

    # The response concerns the supervisors: the province's system hears of it, not the enterprise's, not elsewhere.
    assert act(client, crew["enterprise"], finding_id, "respond", comment="Attached.").status_code == 200
    webhooks.deliver_due(crew.db, now + timedelta(minutes=3))
    assert [path for path, _, _ in receiver.got[2:]] == ["/jx"]
    assert _verify(hooks["jx"]["secret"], receiver.got[2][1], receiver.got[2][2])
    assert client.get(f"/api/notifications/webhooks/{hooks['bmm']['id']}/deliveries", headers=admin).json == []
    assert client.get(f"/api/notifications/webhooks/{hooks['im']['id']}/deliveries", headers=admin).json == []
