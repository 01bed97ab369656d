"""Notifications on the embedded store: events queued per second when a supervisor sends 1,000 findings (against
the same sends with notifications off, and against a plain insert_many of as many inbox items), e-mails per second
to a local SMTP server (aiosmtpd) against raw smtplib sends of the same messages, and the time from an event to its
inbox item against a plain find_one.

    python -m bench.notifications            # 1,000 findings, 500 e-mails
    python -m bench.notifications --quick    # 200 findings, 100 e-mails

Not a test: it prints figures.
"""
import argparse
import smtplib
import socket
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller  # noqa: E402

from api import context, create_app  # noqa: E402
from inspector.accounts import users as accounts  # noqa: E402
from inspector.findings import workflow  # noqa: E402
from inspector.notifications import events, inbox, mail  # noqa: E402
from seed import users as demo_users  # noqa: E402
from seed.enterprises import enterprise_docs  # noqa: E402

SUPERVISOR = {"user_id": "bench-supervisor", "username": "bench-supervisor", "role": "supervisor"}


class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(smtp_url=None):
    config = {"MONGO_DB": f"bench_{uuid.uuid4().hex}", "SEED_DEMO": False, "SECRET_KEY": "bench"}
    if smtp_url:
        config["SMTP_URL"] = smtp_url
    return create_app(config)


def _world(db, count):
    """The demo enterprises, a clerk with an address for each, and `count` confirmed findings spread over them."""
    enterprises = enterprise_docs()
    db.enterprises.insert_many(enterprises)
    demo_users.ensure_demo_users(db)
    hashed = accounts.hash_password("bench-password")
    now = datetime.now(timezone.utc)
    for e in enterprises:
        clerk = accounts.create_user(db, f"clerk-{e['_id'].lower()}", None, "enterprise", enterprise_id=e["_id"],
                                     password_hash=hashed)
        db.notification_settings.insert_one({"_id": clerk["_id"], "email": f"{clerk['username']}@example.com"})
    findings = [{"_id": str(uuid.uuid4()), "status": workflow.CONFIRMED, "_etag": workflow.new_etag(),
                 "enterprise_id": enterprises[i % len(enterprises)]["_id"], "enterprise_name": "bench",
                 "province": enterprises[i % len(enterprises)]["province"], "inspector_id": "bench-inspector",
                 "client_id": str(uuid.uuid4()),
                 "timeline": [], "attachments": [], "observed_at": now, "received_at": now} for i in range(count)]
    if findings:
        db.findings.insert_many(findings)
    return findings


def _send_all(db, findings):
    started = time.perf_counter()
    for f in findings:
        workflow.apply(db, f, SUPERVISOR, {"action": "send_to_enterprise"}, f["_etag"])
    return time.perf_counter() - started


@contextmanager
def _notifications_off():
    original = workflow.notifications.notify_quietly
    workflow.notifications.notify_quietly = lambda db, event: 0
    try:
        yield
    finally:
        workflow.notifications.notify_quietly = original


def bench_queueing(count):
    app = _app()
    with app.app_context():
        db = context.db()
        on = _send_all(db, _world(db, count))
        queued = db.notifications.count_documents({}), db.mail_outbox.count_documents({})
    app_off = _app()
    with app_off.app_context(), _notifications_off():
        db = context.db()
        off = _send_all(db, _world(db, count))
        items = [{"_id": uuid.uuid4().hex, "user_id": "u", "kind": "finding_sent", "key": str(i), "params": {},
                  "created_at": datetime.now(timezone.utc), "read_at": None} for i in range(count)]
        started = time.perf_counter()
        db.bench_inbox.insert_many(items)
        baseline = time.perf_counter() - started
    print(f"sending {count} findings: {count / on:,.0f} events/s queued with notifications "
          f"({queued[0]} inbox items, {queued[1]} e-mails queued); {count / off:,.0f} sends/s without "
          f"(notifications cost {on / off:.2f}x the send); plain insert_many of {count} inbox items "
          f"{count / baseline:,.0f}/s (the sends with their events take {on / baseline:,.0f}x as long)")


def bench_mail(count):
    sink, port = Sink(), _port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = _app(f"smtp://127.0.0.1:{port}")
        with app.app_context():
            db = context.db()
            settings = app.config["SETTINGS"]
            now = datetime.now(timezone.utc)
            for i in range(count):
                db.mail_outbox.insert_one({
                    "_id": uuid.uuid4().hex, "user_id": f"u{i}", "to": f"u{i}@example.com", "language": "en",
                    "kind": "finding_sent", "key": str(i), "params": {"finding_id": str(i), "deadline": "2026-12-17"},
                    "link": {"type": "finding", "id": str(i)}, "digest": False, "state": "pending", "attempts": 0,
                    "created_at": now, "next_try_at": now})
            messages = [mail.message([d], settings) for d in db.mail_outbox.find()]
            started = time.perf_counter()
            while mail.send_due(db, settings, now + timedelta(seconds=1))["sent"]:
                pass
            queued = time.perf_counter() - started
            sent = sink.count
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as server:
                for m in messages:
                    server.send_message(m)
            raw = time.perf_counter() - started
    finally:
        controller.stop()
    print(f"e-mail: {sent / queued:,.0f} messages/s from the queue to a local aiosmtpd ({sent} sent); raw smtplib "
          f"sends of the same messages {count / raw:,.0f}/s (the queue costs {queued / raw:.2f}x)")


def bench_latency(samples):
    app = _app()
    with app.app_context():
        db = context.db()
        _world(db, 0)
        clerk = db.users.find_one({"enterprise_id": "ENT-GMT", "role": "enterprise"})
        user = {"_id": clerk["_id"], "role": "enterprise"}
        to_inbox, lookups = [], []
        for i in range(samples):
            event = {"key": f"bench:{i}", "kind": "finding_sent", "at": datetime.now(timezone.utc),
                     "enterprise_id": "ENT-GMT", "province": "Jiangxi", "link": {"type": "finding", "id": str(i)},
                     "params": {"finding_id": str(i)}}
            started = time.perf_counter()
            events.notify(db, event)
            newest = inbox.items(db, user, "en", limit=1)[0][0]
            to_inbox.append(time.perf_counter() - started)
            assert newest["link"]["id"] == str(i)
            started = time.perf_counter()
            db.users.find_one({"_id": clerk["_id"]})
            lookups.append(time.perf_counter() - started)
    median, p95 = statistics.median(to_inbox), sorted(to_inbox)[int(len(to_inbox) * 0.95)]
    base = statistics.median(lookups)
    print(f"event to inbox item (recorded, then read as the app reads it): median {median * 1000:.2f} ms, "
          f"p95 {p95 * 1000:.2f} ms; a plain find_one {base * 1000:.3f} ms ({median / base:,.0f}x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    bench_queueing(200 if quick else 1000)
    bench_mail(100 if quick else 500)
    bench_latency(50 if quick else 200)


if __name__ == "__main__":
    main()
