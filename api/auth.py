"""Sign-in endpoints, the caller's devices, and the role check every other endpoint declares."""
import copy
import functools
import logging

import marshmallow as ma
from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.accounts import users as accounts
from inspector.audit import chain as audit
from inspector.accounts import sessions

from . import limits
from .context import db, settings
from .errors import fail

log = logging.getLogger(__name__)

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign in, refresh and sign out; your devices.")
# Every app that serves these endpoints gets its own sign-in limiter.
blp.record_once(lambda state: limits.init_app(state.app))

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
    refresh_token = ma.fields.String(metadata={"description": "Single use: each refresh returns a new one."})
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(metadata={"description": "Seconds the access token stays valid.", "example": 900})
    role = ma.fields.String(metadata={"example": "inspector"})
    username = ma.fields.String()
    enterprise_id = ma.fields.String(allow_none=True)
    provinces = ma.fields.List(ma.fields.String(), allow_none=True)
    device_id = ma.fields.String()
    session_id = ma.fields.String()
    must_change_password = ma.fields.Boolean(
        metadata={"description": "True after an administrator set a one-time password: call POST /api/auth/password."})


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=200))
    new_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=200))


class UserSchema(ma.Schema):
    id = ma.fields.String(attribute="_id", metadata={"example": "5f0c7a8e-1b2c-4d3e-9f00-0123456789ab"})
    username = ma.fields.String(metadata={"example": "li.wei"})
    display_name = ma.fields.String(metadata={"example": "Li Wei"})
    role = ma.fields.String(metadata={"example": "supervisor"})
    enterprise_id = ma.fields.String(allow_none=True, metadata={"example": None})
    provinces = ma.fields.List(ma.fields.String(), allow_none=True, metadata={"example": ["Jiangxi"]})
    disabled = ma.fields.Boolean()
    must_change_password = ma.fields.Boolean()
    created_at = ma.fields.DateTime()


class SessionSchema(ma.Schema):
    id = ma.fields.String(attribute="_id")
    user_id = ma.fields.String()
    username = ma.fields.String()
    device_id = ma.fields.String(metadata={"example": "phone-1"})
    device_name = ma.fields.String(allow_none=True, metadata={"example": "Li Wei's phone"})
    created_at = ma.fields.DateTime()
    last_used_at = ma.fields.DateTime()
    refresh_expires_at = ma.fields.DateTime()
    current = ma.fields.Boolean(metadata={"description": "True for the session making this request."})


class MeSchema(UserSchema):
    session_id = ma.fields.String()
    device_id = ma.fields.String()


def require(*roles):
    """Declare the roles allowed on a view; 401 without a valid token, 403 for another role."""
    return _guard(roles, allow_pending_password=False)


def _guard(roles, allow_pending_password):
    def decorator(view):
        admit = functools.partial(_admit, roles, allow_pending_password)

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if "principal" not in g:
                admit()
            return view(*args, **kwargs)
        wrapper._roles = roles
        wrapper._admit = admit
        # The roles show in the OpenAPI document next to the operation they guard.
        wrapper._apidoc = copy.deepcopy(getattr(wrapper, "_apidoc", {}))
        wrapper._apidoc.setdefault("manual_doc", {})["x-roles"] = list(roles) or ["any signed-in user"]
        return wrapper
    return decorator


def _admit(roles, allow_pending_password):
    session = _authenticate()
    if roles and session["role"] not in roles:
        fail(403, "forbidden_role", f"This needs one of the roles: {', '.join(roles)}.")
    if session.get("must_change_password") and not allow_pending_password:
        fail(403, "password_change_required",
             "Your password was reset: choose a new one with POST /api/auth/password first.")
    g.principal = session


@blp.before_app_request
def _admit_before_parsing():
    # Decorators such as @blp.arguments usually wrap @require, so they would run first and answer an anonymous
    # caller 422 (revealing the schema); checking here makes 401/403 come first on every view of every blueprint.
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = request.method.lower()
        view = getattr(view_class, method, None) or (getattr(view_class, "get", None) if method == "head" else None)
    admit = getattr(view, "_admit", None)
    if admit is not None:
        admit()


def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(401, "not_signed_in", "Sign in first: send Authorization: Bearer <access token>.",
             headers={"WWW-Authenticate": "Bearer"})
    return sessions.authenticate(db(), token.strip(), _secret(), settings().access_token_minutes)


# For the few endpoints a user with a one-time password may still call: who am I, sign out, change password.
signed_in = _guard((), allow_pending_password=True)


def principal():
    """The session of the signed-in caller."""
    return g.principal


def _secret():
    return current_app.config["SECRET_KEY"]


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema, example={"username": "inspector", "password": "demo", "device_id": "phone-1"})
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="Wrong password or username, or a disabled account (bad_credentials).")
    @blp.alt_response(429, description="Too many wrong passwords for this account from this address "
                                       "(or from this address in all); wait for Retry-After seconds.",
                      headers={"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}})
    @blp.alt_response(503, description="The database is unreachable right now; try again after Retry-After seconds.",
                      headers={"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}})
    def post(self, body):
        """Sign in with a username and password; returns an access token and this device's refresh token."""
        username = accounts.normalise_username(body["username"])
        # Looked up first: when the database is down this answers 503 at once, without waiting on the limiter too.
        user = accounts.find_user(db(), username)
        limits.guard_login(username, user)
        if not accounts.password_matches(user and user["password_hash"], body["password"]) or user["disabled"]:
            log.info("failed sign-in for %r from %s", username[:100], request.remote_addr)
            limits.count_failure()
            fail(401, "bad_credentials", "The username or password is wrong, or the account is disabled.")
        limits.forget_failures()
        session, tokens = sessions.open_session(db(), user, body.get("device_id"), body.get("device_name"), _secret(),
                                                settings().access_token_minutes)
        audit.record(db(), session, "auth.login", {"user_id": user["_id"]},
                     {"session_id": session["_id"], "device_name": session["device_name"], "ip": request.remote_addr})
        return tokens


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="The refresh token is unknown, already used, revoked or expired.")
    @blp.alt_response(503, description="The database is unreachable right now; try again after Retry-After seconds.",
                      headers={"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}})
    def post(self, body):
        """Trade this device's refresh token for a new access token (the refresh token rotates)."""
        return sessions.refresh_session(db(), body["refresh_token"], _secret(), settings().access_token_minutes)


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    @blp.doc(security=BEARER)
    @signed_in
    def post(self):
        """Sign out this device: its access and refresh tokens stop working at once."""
        session = principal()
        if sessions.revoke(db(), {"_id": session["_id"]}, "signed out"):
            audit.record(db(), session, "auth.logout", {"user_id": session["user_id"]}, {"session_id": session["_id"]})


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.doc(security=BEARER)
    @signed_in
    def get(self):
        """Who is signed in on this device, with which role and scope."""
        session = principal()
        user = accounts.get_user(db(), session["user_id"]) or {}
        return {**accounts.public_user(user), "session_id": session["_id"], "device_id": session["device_id"]}


@blp.route("/password")
class Password(MethodView):
    @blp.arguments(PasswordChangeSchema, example={"current_password": "old one", "new_password": "a new long one"})
    @blp.response(204)
    @blp.alt_response(403, description="The current password is wrong (error_code bad_credentials).")
    @blp.alt_response(422, description="The new password is too short or unchanged.")
    @blp.doc(security=BEARER)
    @signed_in
    def post(self, body):
        """Change your own password; every other device is signed out."""
        accounts.change_own_password(db(), principal(), body["current_password"], body["new_password"])


@blp.route("/sessions")
class MySessions(MethodView):
    @blp.response(200, SessionSchema(many=True))
    @blp.doc(security=BEARER)
    @signed_in
    def get(self):
        """List the devices you are signed in on; the one you are using has current true."""
        session = principal()
        return [{**s, "current": s["_id"] == session["_id"]} for s in sessions.live_sessions(db(), session["user_id"])]


@blp.route("/sessions/<session_id>")
class OneSession(MethodView):
    @blp.response(204)
    @blp.alt_response(404, description="No such session among yours (administrators may end anyone's).")
    @blp.doc(security=BEARER)
    @signed_in
    def delete(self, session_id):
        """Sign out one device, such as a lost phone: its tokens stop working at once."""
        caller = principal()
        target = sessions.find_session(db(), session_id)
        # Another user's session answers as if it did not exist.
        if not target or (target["user_id"] != caller["user_id"] and caller["role"] != "admin"):
            fail(404, "session_not_found", "No such session among your devices.")
        own = target["user_id"] == caller["user_id"]
        reason = "signed out from another device" if own else "revoked by an administrator"
        if sessions.revoke(db(), {"_id": session_id}, reason):
            audit.record(db(), caller, "auth.session_revoke", {"user_id": target["user_id"], "session_id": session_id},
                         {"device_id": target["device_id"], "device_name": target.get("device_name")})
