"""Sign-in sessions: one per device, a short-lived signed access token and a revocable refresh token."""
import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from inspector.audit import chain as audit
from inspector.errors import DomainError

REFRESH_DAYS = 30
# A session keeps the rotated tokens' hashes to recognise a replay: a month of 15-minute refreshes is ~2,900, and a
# shortened hash (80 bits) is plenty to tell one session's tokens apart while keeping the document small.
ROTATED_KEPT = 3000
ROTATED_CHARS = 20
WITHOUT_ROTATED = {"rotated_hashes": 0}
# What a device list shows; never the refresh hash.
PUBLIC_FIELDS = ("_id", "user_id", "username", "device_id", "device_name", "created_at", "last_used_at",
                 "refresh_expires_at", "revoked_at", "revoked_reason")


class InvalidToken(DomainError):
    """A token that is forged, expired, revoked or belongs to a disabled user."""

    kind, code = "unauthorized", "invalid_token"
    bearer = True  # the caller sent this as its bearer access token


class RefreshRefused(InvalidToken):
    """A refresh token that cannot be rotated: the request carried no bearer token to challenge."""

    bearer = False


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(session_id):
    # The session id in front lets a replayed token find its session by _id after it has rotated away.
    return f"{session_id}.{secrets.token_urlsafe(32)}"


def _signer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt="access-token")


def open_session(db, user, device_id, device_name, secret_key, access_minutes, now=None):
    """Start a session for a user's device (replacing that device's previous one) and return its tokens."""
    now = now or datetime.now(timezone.utc)
    device_id = device_id or str(uuid.uuid4())
    session_id = str(uuid.uuid4())
    refresh = _new_refresh(session_id)
    db.sessions.update_many({"user_id": user["_id"], "device_id": device_id, "revoked_at": None},
                            {"$set": {"revoked_at": now, "revoked_reason": "signed in again"}})
    session = {
        "_id": session_id,
        "user_id": user["_id"],
        "username": user["username"],
        "role": user["role"],
        "enterprise_id": user.get("enterprise_id"),
        "provinces": user.get("provinces"),
        "must_change_password": bool(user.get("must_change_password")),
        "device_id": device_id,
        "device_name": device_name,
        "refresh_hash": _digest(refresh),
        "created_at": now,
        "last_used_at": now,
        "refresh_expires_at": now + timedelta(days=REFRESH_DAYS),
        "revoked_at": None,
    }
    db.sessions.insert_one(session)
    return session, tokens_for(session, refresh, secret_key, access_minutes)


def tokens_for(session, refresh, secret_key, access_minutes):
    """The login/refresh response body for a session."""
    # The nonce makes every issued token distinct, even two issued for one session within the same second.
    access = _signer(secret_key).dumps({"sid": session["_id"], "uid": session["user_id"],
                                        "n": secrets.token_urlsafe(6)})
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": access_minutes * 60, "role": session["role"], "username": session["username"],
            "enterprise_id": session.get("enterprise_id"), "provinces": session.get("provinces"),
            "device_id": session["device_id"], "session_id": session["_id"],
            "must_change_password": bool(session.get("must_change_password"))}


def authenticate(db, access_token, secret_key, access_minutes):
    """Return the live session behind an access token, or raise InvalidToken."""
    try:
        claims = _signer(secret_key).loads(access_token, max_age=access_minutes * 60)
    except SignatureExpired:
        raise InvalidToken("The access token has expired; refresh it or sign in again.") from None
    except BadSignature:
        raise InvalidToken("The access token is not valid.") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("sid"), str):
        raise InvalidToken("The access token is not valid.")
    session = db.sessions.find_one({"_id": claims["sid"]}, WITHOUT_ROTATED)
    if not session or session["revoked_at"] is not None or session["user_id"] != claims.get("uid"):
        raise InvalidToken("This session was signed out or revoked; sign in again.")
    return session


def refresh_session(db, refresh_token, secret_key, access_minutes, now=None):
    """Rotate a refresh token: return new tokens, or raise InvalidToken."""
    now = now or datetime.now(timezone.utc)
    digest = _digest(refresh_token or "")
    session = _session_of_refresh(db, refresh_token or "", digest)
    if session and session["revoked_at"] is None and digest[:ROTATED_CHARS] in session.get("rotated_hashes", ()):
        _end_replayed(db, session, now)
    if not session or session["revoked_at"] is not None or session["refresh_expires_at"] < now \
            or session["refresh_hash"] != digest:
        raise RefreshRefused("The refresh token is not valid; sign in again.")
    # Disabling a user revokes its sessions; this closes the race with a sign-in running at that moment.
    if not db.users.count_documents({"_id": session["user_id"], "disabled": False}, limit=1):
        revoke(db, {"_id": session["_id"]}, "user disabled", now)
        raise RefreshRefused("The refresh token is not valid; sign in again.")
    new_refresh = _new_refresh(session["_id"])
    # The old hash is in the filter, so two racing refreshes cannot both win.
    rotated = {"$each": [digest[:ROTATED_CHARS]], "$slice": -ROTATED_KEPT}
    result = db.sessions.update_one({"_id": session["_id"], "refresh_hash": session["refresh_hash"],
                                     "revoked_at": None},
                                    {"$set": {"refresh_hash": _digest(new_refresh), "last_used_at": now},
                                     "$push": {"rotated_hashes": rotated}})
    if result.modified_count != 1:
        raise RefreshRefused("The refresh token was already used; sign in again.")
    return tokens_for(session, new_refresh, secret_key, access_minutes)


def _session_of_refresh(db, refresh_token, digest):
    session_id, dot, _ = refresh_token.partition(".")
    if dot:
        return db.sessions.find_one({"_id": session_id})
    return db.sessions.find_one({"refresh_hash": digest})  # a token issued before tokens named their session


def _end_replayed(db, session, now):
    """A rotated refresh token came back: someone holds a copy, so the whole session ends, audited."""
    if revoke(db, {"_id": session["_id"]}, "refresh token reused", now):
        audit.record(db, None, "session.refresh_reuse", {"user_id": session["user_id"], "session_id": session["_id"]},
                     {"username": session["username"], "device_id": session["device_id"],
                      "device_name": session.get("device_name")}, now=now)
    raise RefreshRefused("This refresh token was already used, so it may have been copied: the session is ended. "
                         "Sign in again, and end your other sessions if you did not expect this.")


def live_sessions(db, user_id):
    """The user's signed-in devices, most recently used first."""
    cursor = db.sessions.find({"user_id": user_id, "revoked_at": None}, WITHOUT_ROTATED).sort("last_used_at", -1)
    return [public_session(s) for s in cursor]


def find_session(db, session_id):
    """Return a session by id, or None."""
    return db.sessions.find_one({"_id": session_id}, WITHOUT_ROTATED)


def public_session(session):
    """The fields of a session that its owner or an administrator may see."""
    return {k: session.get(k) for k in PUBLIC_FIELDS}


def revoke(db, query, reason, now=None):
    """Revoke every live session matching the query; return how many."""
    now = now or datetime.now(timezone.utc)
    result = db.sessions.update_many({**query, "revoked_at": None}, {"$set": {"revoked_at": now, "revoked_reason": reason}})
    return result.modified_count
