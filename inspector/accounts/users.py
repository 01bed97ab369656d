"""User accounts: argon2 password hashes, roles and scope, and user management."""
import re
import secrets
import uuid
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from inspector.errors import DomainError

from inspector.audit import chain as audit
from inspector.accounts import sessions

ROLES = ("inspector", "supervisor", "enterprise", "admin")
# China's provincial-level divisions, spelled as the enterprise register spells them.
PROVINCES = (
    "Anhui", "Beijing", "Chongqing", "Fujian", "Gansu", "Guangdong", "Guangxi", "Guizhou", "Hainan", "Hebei",
    "Heilongjiang", "Henan", "Hong Kong", "Hubei", "Hunan", "Inner Mongolia", "Jiangsu", "Jiangxi", "Jilin",
    "Liaoning", "Macau", "Ningxia", "Qinghai", "Shaanxi", "Shandong", "Shanghai", "Shanxi", "Sichuan", "Taiwan",
    "Tianjin", "Tibet", "Xinjiang", "Yunnan", "Zhejiang",
)
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

class AccountError(DomainError, ValueError):
    """A user record that cannot be created or changed as asked; code is machine-readable."""

    KIND_OF_CODE = {"user_not_found": "not_found", "username_taken": "conflict", "bad_credentials": "forbidden"}

    def __init__(self, message, code="invalid_account", kind=None):
        super().__init__(f"{message[:1].upper()}{message[1:]}.", code=code,
                         kind=kind or self.KIND_OF_CODE.get(code, "invalid"))


def normalise_username(username):
    """Usernames are compared without case or surrounding spaces."""
    return (username or "").strip().lower()


def hash_password(password: str) -> str:
    """Return an argon2id hash of the password."""
    return _hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """True when the password matches the stored hash (constant effort for unknown users)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def check_password_policy(password):
    """Raise AccountError when a password chosen by a person is too weak to accept."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", "weak_password")


def generate_password():
    """A random password to hand over once; the user must replace it at first sign-in."""
    return secrets.token_urlsafe(12)


def _check_scope(db, role, enterprise_id, provinces):
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}", "invalid_role")
    if role == "enterprise" and not enterprise_id:
        raise AccountError("an enterprise user must be bound to an enterprise", "enterprise_required")
    if role != "enterprise" and enterprise_id:
        raise AccountError("only enterprise users are bound to an enterprise", "enterprise_not_allowed")
    if enterprise_id and db.enterprises.count_documents({"_id": enterprise_id}, limit=1) == 0:
        raise AccountError(f"no enterprise {enterprise_id}", "unknown_enterprise")
    if provinces and role != "supervisor":
        raise AccountError("only supervisors are limited to provinces", "provinces_not_allowed")
    unknown = sorted(set(provinces or ()) - set(PROVINCES))
    if unknown:
        raise AccountError(f"unknown provinces {', '.join(unknown)}; use names such as Jiangxi or Inner Mongolia",
                           "unknown_province")


def create_user(db, username, password, role, enterprise_id=None, provinces=None, display_name=None, demo=False,
                password_hash=None, must_change_password=False):
    """Create a user; raise AccountError when the role or binding is wrong or the name is taken."""
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise AccountError("a username is up to 64 letters, digits or . _ @ -, starting with a letter or digit",
                           "invalid_username")
    _check_scope(db, role, enterprise_id, provinces)
    if db.users.count_documents({"username": username}, limit=1):
        raise AccountError(f"the username {username!r} is taken", "username_taken")
    doc = {
        "_id": str(uuid.uuid4()),
        "username": username,
        "display_name": display_name or username,
        "password_hash": password_hash or hash_password(password),
        "role": role,
        "enterprise_id": enterprise_id,
        "provinces": sorted(set(provinces)) if provinces else None,
        "disabled": False,
        "must_change_password": must_change_password,
        "demo": demo,
        "created_at": datetime.now(timezone.utc),
    }
    db.users.insert_one(doc)
    return doc


def register_user(db, actor, username, role, password=None, enterprise_id=None, provinces=None, display_name=None):
    """Create a user on an administrator's behalf and audit it; returns (user, one-time password or None)."""
    one_time = None
    if password is None:
        one_time = password = generate_password()
    else:
        check_password_policy(password)
    user = create_user(db, username, password, role, enterprise_id=enterprise_id, provinces=provinces,
                       display_name=display_name, must_change_password=one_time is not None)
    audit.record(db, actor, "user.create", {"user_id": user["_id"]},
                 {"username": user["username"], "role": role, "enterprise_id": enterprise_id,
                  "provinces": user["provinces"]})
    return user, one_time


def find_user(db, username):
    """Return the user with this username, or None."""
    return db.users.find_one({"username": normalise_username(username)})


def get_user(db, user_id):
    """Return the user with this id, or None."""
    return db.users.find_one({"_id": user_id})


def list_users(db, role=None, enterprise_id=None, disabled=None, skip=0, limit=50):
    """One page of users sorted by username, and the total that match."""
    query = {k: v for k, v in (("role", role), ("enterprise_id", enterprise_id), ("disabled", disabled))
             if v is not None}
    total = db.users.count_documents(query)
    page = list(db.users.find(query, {"password_hash": 0}).sort("username", 1).skip(skip).limit(limit))
    return page, total


def _require_user(db, user_id):
    user = get_user(db, user_id)
    if not user:
        raise AccountError("no such user", "user_not_found")
    return user


def set_disabled(db, actor, user_id, disabled):
    """Disable (revoking every session) or enable a user."""
    user = _require_user(db, user_id)
    db.users.update_one({"_id": user_id}, {"$set": {"disabled": disabled}})
    revoked = sessions.revoke(db, {"user_id": user_id}, "user disabled") if disabled else 0
    audit.record(db, actor, "user.disable" if disabled else "user.enable", {"user_id": user_id},
                 {"username": user["username"], "revoked_sessions": revoked})
    return {**user, "disabled": disabled}


def reset_password(db, actor, user_id, password=None):
    """Set a new password (random and one-time when none is given) and revoke every session of the user."""
    user = _require_user(db, user_id)
    one_time = None
    if password is None:
        one_time = password = generate_password()
    else:
        check_password_policy(password)
    must_change = one_time is not None
    # A new epoch starts the user's sign-in throttle afresh: a stranger's wrong guesses no longer pause the owner.
    db.users.update_one({"_id": user_id}, {"$set": {"password_hash": hash_password(password),
                                                    "must_change_password": must_change,
                                                    "sign_in_epoch": uuid.uuid4().hex}})
    revoked = sessions.revoke(db, {"user_id": user_id}, "password reset")
    audit.record(db, actor, "user.password_reset", {"user_id": user_id},
                 {"username": user["username"], "one_time": must_change, "revoked_sessions": revoked})
    return {**user, "must_change_password": must_change}, one_time, revoked


def change_own_password(db, session, current_password, new_password):
    """Replace the caller's password after checking the current one; signs out every other device."""
    user = get_user(db, session["user_id"])
    if not user:  # the caller's own account gone under a live session: nothing sent can be applied
        raise AccountError("no such user", "user_not_found", kind="invalid")
    if not password_matches(user["password_hash"], current_password):
        raise AccountError("the current password is wrong", "bad_credentials")
    check_password_policy(new_password)
    if password_matches(user["password_hash"], new_password):
        raise AccountError("choose a password different from the current one", "password_unchanged")
    db.users.update_one({"_id": user["_id"]}, {"$set": {"password_hash": hash_password(new_password),
                                                        "must_change_password": False}})
    revoked = sessions.revoke(db, {"user_id": user["_id"], "_id": {"$ne": session["_id"]}}, "password changed")
    db.sessions.update_one({"_id": session["_id"]}, {"$set": {"must_change_password": False}})
    audit.record(db, session, "auth.password_change", {"user_id": user["_id"]}, {"revoked_sessions": revoked})


def revoke_user_sessions(db, actor, user_id):
    """Sign a user out of every device; return how many sessions ended."""
    user = _require_user(db, user_id)
    revoked = sessions.revoke(db, {"user_id": user_id}, "revoked by an administrator")
    audit.record(db, actor, "user.sessions_revoke", {"user_id": user_id},
                 {"username": user["username"], "revoked_sessions": revoked})
    return revoked


def public_user(user):
    """The fields of a user that clients may see."""
    return {k: user.get(k) for k in ("_id", "username", "display_name", "role", "enterprise_id", "provinces",
                                     "disabled", "must_change_password", "created_at")}
