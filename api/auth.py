"""Sign-in endpoints and the role check every other endpoint declares."""
import functools

import marshmallow as ma
from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector import accounts, sessions

from .context import db, settings
from .errors import fail

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign in, refresh and sign out.")

BEARER = [{"bearerAuth": []}]


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200), load_only=True)
    device_id = ma.fields.String(validate=ma.validate.Length(max=100),
                                 metadata={"description": "Stable id of this phone or browser; one session per device."})
    device_name = ma.fields.String(validate=ma.validate.Length(max=100))


class RefreshSchema(ma.Schema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class TokensSchema(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()
    role = ma.fields.String()
    username = ma.fields.String()
    enterprise_id = ma.fields.String(allow_none=True)
    provinces = ma.fields.List(ma.fields.String(), allow_none=True)
    device_id = ma.fields.String()
    session_id = ma.fields.String()


def require(*roles):
    """Declare the roles allowed on a view; 401 without a valid token, 403 for another role."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                fail(401, "not_signed_in", "Sign in first: send Authorization: Bearer <access token>.",
                     headers={"WWW-Authenticate": "Bearer"})
            s = settings()
            try:
                session = sessions.authenticate(db(), token.strip(), _secret(), s.access_token_minutes)
            except sessions.InvalidToken as exc:
                fail(401, "invalid_token", str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            if roles and session["role"] not in roles:
                fail(403, "forbidden_role", f"This needs one of the roles: {', '.join(roles)}.")
            g.principal = session
            return view(*args, **kwargs)
        wrapper._roles = roles
        return wrapper
    return decorator


def principal():
    """The session of the signed-in caller."""
    return g.principal


def _secret():
    from flask import current_app
    return current_app.config["SECRET_KEY"]


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema, example={"username": "inspector", "password": "demo", "device_id": "phone-1"})
    @blp.response(200, TokensSchema)
    def post(self, body):
        """Sign in with a username and password; returns an access token and this device's refresh token."""
        user = accounts.find_user(db(), body["username"])
        if not accounts.password_matches(user and user["password_hash"], body["password"]) or user["disabled"]:
            fail(401, "bad_credentials", "The username or password is wrong, or the account is disabled.")
        s = settings()
        return sessions.open_session(db(), user, body.get("device_id"), body.get("device_name"), _secret(),
                                     s.access_token_minutes)


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokensSchema)
    def post(self, body):
        """Trade this device's refresh token for a new access token (the refresh token rotates)."""
        try:
            return sessions.refresh_session(db(), body["refresh_token"], _secret(), settings().access_token_minutes)
        except sessions.InvalidToken as exc:
            fail(401, "invalid_token", str(exc))


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    @blp.doc(security=BEARER)
    @require()
    def post(self):
        """Sign out this device: its access and refresh tokens stop working at once."""
        sessions.revoke(db(), {"_id": principal()["_id"]}, "signed out")
