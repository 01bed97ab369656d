"""People who sign in.

users: accounts with argon2 password hashes, a role (inspector, supervisor, enterprise, admin) and a scope (an
enterprise, or provinces), and their management; sessions: one per device, a short-lived signed access token and a
revocable, rotating refresh token. The demo users are not here: they belong to seed/users.py.
"""
