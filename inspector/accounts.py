"""User accounts: argon2 password hashes, roles and scope, and the demo users."""
import functools
import uuid
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("inspector", "supervisor", "enterprise", "admin")
_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

DEMO_PASSWORD = "demo"
DEMO_USERS = [
    {"username": "inspector", "role": "inspector", "display_name": "Li Wei (inspector)"},
    {"username": "inspector2", "role": "inspector", "display_name": "Chen Jing (inspector)"},
    {"username": "supervisor", "role": "supervisor", "display_name": "Zhang Min (supervisor)", "provinces": None},
    {"username": "enterprise", "role": "enterprise", "display_name": "Ganzhou Market Traders clerk",
     "enterprise_id": "ENT-GMT"},
    {"username": "enterprise2", "role": "enterprise", "display_name": "Baotou Metals Market clerk",
     "enterprise_id": "ENT-BMM"},
    {"username": "admin", "role": "admin", "display_name": "System administrator"},
]


class AccountError(ValueError):
    """A user record that cannot be created or changed as asked."""


def hash_password(password: str) -> str:
    """Return an argon2id hash of the password."""
    return _hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """True when the password matches the stored hash (constant effort for unknown users)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@functools.lru_cache(maxsize=1)
def _demo_password_hash():
    # Demo users share one known password, so one hash per process serves them all.
    return hash_password(DEMO_PASSWORD)


def create_user(db, username, password, role, enterprise_id=None, provinces=None, display_name=None, demo=False,
                password_hash=None):
    """Create a user; raise AccountError when the role or binding is wrong or the name is taken."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "enterprise" and not enterprise_id:
        raise AccountError("an enterprise user must be bound to an enterprise")
    if role != "enterprise" and enterprise_id:
        raise AccountError("only enterprise users are bound to an enterprise")
    if enterprise_id and db.enterprises.count_documents({"_id": enterprise_id}, limit=1) == 0:
        raise AccountError(f"no enterprise {enterprise_id}")
    if db.users.count_documents({"username": username}, limit=1):
        raise AccountError(f"the username {username!r} is taken")
    doc = {
        "_id": str(uuid.uuid4()),
        "username": username,
        "display_name": display_name or username,
        "password_hash": password_hash or hash_password(password),
        "role": role,
        "enterprise_id": enterprise_id,
        "provinces": list(provinces) if provinces else None,
        "disabled": False,
        "demo": demo,
        "created_at": datetime.now(timezone.utc),
    }
    db.users.insert_one(doc)
    return doc


def find_user(db, username):
    """Return the user with this username, or None."""
    return db.users.find_one({"username": username})


def ensure_demo_users(db):
    """Create the demo users (password 'demo') unless they exist; only ever called in demo mode."""
    for spec in DEMO_USERS:
        if not find_user(db, spec["username"]):
            create_user(db, spec["username"], DEMO_PASSWORD, spec["role"], enterprise_id=spec.get("enterprise_id"),
                                provinces=spec.get("provinces"), display_name=spec["display_name"], demo=True,
                        password_hash=_demo_password_hash())


def public_user(user):
    """The fields of a user that clients may see."""
    return {k: user.get(k) for k in ("_id", "username", "display_name", "role", "enterprise_id", "provinces", "disabled")}
