"""Sign-in sessions: one per device, a short-lived signed access token and a revocable refresh token."""
import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

REFRESH_DAYS = 30


class InvalidToken(Exception):
    """A token that is forged, expired, revoked or belongs to a disabled user."""


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _signer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt="access-token")


def open_session(db, user, device_id, device_name, secret_key, access_minutes, now=None):
    """Start a session for a user's device (replacing that device's previous one) and return its tokens."""
    now = now or datetime.now(timezone.utc)
    device_id = device_id or str(uuid.uuid4())
    refresh = secrets.token_urlsafe(32)
    db.sessions.update_many({"user_id": user["_id"], "device_id": device_id, "revoked_at": None},
                            {"$set": {"revoked_at": now, "revoked_reason": "signed in again"}})
    session = {
        "_id": str(uuid.uuid4()),
        "user_id": user["_id"],
        "username": user["username"],
        "role": user["role"],
        "enterprise_id": user.get("enterprise_id"),
        "provinces": user.get("provinces"),
        "device_id": device_id,
        "device_name": device_name,
        "refresh_hash": _digest(refresh),
        "created_at": now,
        "last_used_at": now,
        "refresh_expires_at": now + timedelta(days=REFRESH_DAYS),
        "revoked_at": None,
    }
    db.sessions.insert_one(session)
    return tokens_for(session, refresh, secret_key, access_minutes)


def tokens_for(session, refresh, secret_key, access_minutes):
    """The login/refresh response body for a session."""
    access = _signer(secret_key).dumps({"sid": session["_id"], "uid": session["user_id"]})
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": access_minutes * 60, "role": session["role"], "username": session["username"],
            "enterprise_id": session.get("enterprise_id"), "provinces": session.get("provinces"),
            "device_id": session["device_id"], "session_id": session["_id"]}


def authenticate(db, access_token, secret_key, access_minutes):
    """Return the live session behind an access token, or raise InvalidToken."""
    try:
        claims = _signer(secret_key).loads(access_token, max_age=access_minutes * 60)
    except SignatureExpired:
        raise InvalidToken("The access token has expired; refresh it or sign in again.") from None
    except BadSignature:
        raise InvalidToken("The access token is not valid.") from None
    if not isinstance(claims, dict) or "sid" not in claims:
        raise InvalidToken("The access token is not valid.")
    session = db.sessions.find_one({"_id": claims["sid"]})
    if not session or session["revoked_at"] is not None:
        raise InvalidToken("This session was signed out or revoked; sign in again.")
    return session


def refresh_session(db, refresh_token, secret_key, access_minutes, now=None):
    """Rotate a refresh token: return new tokens, or raise InvalidToken."""
    now = now or datetime.now(timezone.utc)
    session = db.sessions.find_one({"refresh_hash": _digest(refresh_token or "")})
    if not session or session["revoked_at"] is not None or session["refresh_expires_at"] < now:
        raise InvalidToken("The refresh token is not valid; sign in again.")
    new_refresh = secrets.token_urlsafe(32)
    # The old hash is in the filter, so two racing refreshes cannot both win.
    result = db.sessions.update_one({"_id": session["_id"], "refresh_hash": session["refresh_hash"]},
                                    {"$set": {"refresh_hash": _digest(new_refresh), "last_used_at": now}})
    if result.modified_count != 1:
        raise InvalidToken("The refresh token was already used; sign in again.")
    return tokens_for(session, new_refresh, secret_key, access_minutes)


def revoke(db, query, reason, now=None):
    """Revoke every live session matching the query; return how many."""
    now = now or datetime.now(timezone.utc)
    result = db.sessions.update_many({**query, "revoked_at": None}, {"$set": {"revoked_at": now, "revoked_reason": reason}})
    return result.modified_count
