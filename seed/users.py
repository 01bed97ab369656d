"""The demo users: one per role, all with the password 'demo', created only on the embedded demo store."""
import functools

from inspector.accounts.users import create_user, find_user, hash_password

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


@functools.lru_cache(maxsize=1)
def _demo_password_hash():
    # Demo users share one known password, so one hash per process serves them all.
    return hash_password(DEMO_PASSWORD)


def ensure_demo_users(db):
    """Create the demo users (password 'demo') unless they exist; only ever called in demo mode."""
    for spec in DEMO_USERS:
        if not find_user(db, spec["username"]):
            create_user(db, spec["username"], DEMO_PASSWORD, spec["role"], enterprise_id=spec.get("enterprise_id"),
                        provinces=spec.get("provinces"), display_name=spec["display_name"], demo=True,
                        password_hash=_demo_password_hash())
