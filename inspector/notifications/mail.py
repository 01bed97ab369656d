"""The e-mail queue in MongoDB, sent over SMTP (stdlib smtplib) by a worker, never from inside a request.

An item's states: pending --claimed--> sending --SMTP accepted--> sent
                                          \\--refused or unreachable--> pending (next_try_at backs off) ... failed
A claim moves next_try_at a lease ahead, so two workers never send one item; a worker that died mid-send leaves an
item whose lease runs out and is sent again with the same Message-ID (the one case a reader could see it twice,
and one their mail client folds). Digest items wait until 08:00 China time and leave as one message per user.
"""
import hashlib
import smtplib
from collections import defaultdict
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from inspector.notifications.texts import app_link, language, mail_text, render

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 10
BATCH = 200


def backoff(attempts):
    """How long to wait before try number attempts+1: one minute, doubling, at most six hours."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def smtp_target(url):
    """(ssl, host, port, user, password) from smtp://[user:password@]host[:port] or smtps://."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL looks like smtp://host:port or smtps://user:password@host:465")
    ssl = parts.scheme == "smtps"
    return (ssl, parts.hostname, parts.port or (465 if ssl else 25),
            unquote(parts.username) if parts.username else None, unquote(parts.password) if parts.password else None)


def _connect(url, timeout):
    ssl, host, port, user, password = smtp_target(url)
    server = (smtplib.SMTP_SSL if ssl else smtplib.SMTP)(host, port, timeout=timeout)
    if user:
        server.login(user, password or "")
    return server


def message(items, settings):
    """The e-mail for one item, or the digest of several for one user, in the user's language."""
    lang = language(items[0]["language"])
    lines, titles = [], []
    for item in items:
        title, body = render(item["kind"], item.get("params"), lang)
        titles.append(title)
        lines += [title, body, mail_text("open", lang, link=app_link(settings.app_url, item.get("link"))), ""]
    msg = EmailMessage()
    msg["Subject"] = titles[0] if len(items) == 1 else mail_text("digest", lang, count=len(items))
    msg["From"] = settings.mail_from
    msg["To"] = items[0]["to"]
    msg["Date"] = formatdate(localtime=False)
    ids = "".join(sorted(i["_id"] for i in items))
    msg["Message-ID"] = f"<{hashlib.sha256(ids.encode()).hexdigest()[:32]}@{settings.mail_from.rpartition('@')[2]}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("\n".join(lines) + "-- \n" + mail_text("footer", lang) + "\n")
    msg["Content-Language"] = lang  # after the content: setting it clears the Content-* headers
    return msg


def _claim(db, item, now):
    result = db.mail_outbox.update_one({"_id": item["_id"], "state": item["state"], "next_try_at": item["next_try_at"]},
                                       {"$set": {"state": "sending", "next_try_at": now + LEASE}})
    return result.modified_count == 1


def _groups(items):
    """Immediate items one by one; a user's due digest items together."""
    digests = defaultdict(list)
    for item in items:
        if item.get("digest"):
            digests[item["user_id"]].append(item)
        else:
            yield [item]
    yield from digests.values()


def _failed(db, group, now, error, permanent=False):
    for item in group:
        attempts = item.get("attempts", 0) + 1
        done = permanent or attempts >= MAX_ATTEMPTS
        db.mail_outbox.update_one({"_id": item["_id"]}, {"$set": {
            "state": "failed" if done else "pending", "attempts": attempts, "last_error": str(error)[:300],
            "next_try_at": now + backoff(attempts)}})


def send_due(db, settings, now, timeout=10.0):
    """Send what is due (served by state, next_try_at); return counts of messages sent and tries failed."""
    counts = {"sent": 0, "failed": 0}
    if not settings.smtp_url:
        return counts
    due = list(db.mail_outbox.find({"state": {"$in": ["pending", "sending"]}, "next_try_at": {"$lte": now}})
               .sort("next_try_at", 1).limit(BATCH))
    claimed = [i for i in due if _claim(db, i, now)]
    if not claimed:
        return counts
    groups = list(_groups(claimed))
    try:
        server = _connect(settings.smtp_url, timeout)
    except (OSError, smtplib.SMTPException) as exc:
        for group in groups:
            _failed(db, group, now, exc)
        counts["failed"] += len(groups)
        return counts
    try:
        for group in groups:
            try:
                server.send_message(message(group, settings))
            except smtplib.SMTPRecipientsRefused as exc:
                _failed(db, group, now, exc, permanent=True)
                counts["failed"] += 1
                continue
            except (OSError, smtplib.SMTPException) as exc:
                _failed(db, group, now, exc)
                counts["failed"] += 1
                continue
            db.mail_outbox.update_many({"_id": {"$in": [i["_id"] for i in group]}},
                                       {"$set": {"state": "sent", "sent_at": now}, "$inc": {"attempts": 1}})
            counts["sent"] += 1
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return counts
