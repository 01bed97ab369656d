"""User management for administrators: create, list, disable, reset, and end sessions."""
import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.accounts import users as accounts
from inspector.accounts import sessions

from .auth import BEARER, SessionSchema, UserSchema, principal, require
from .context import db
from .errors import fail

blp = Blueprint("users", __name__, url_prefix="/api/users", description="Accounts, for administrators only.")



class UserCreateSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(load_only=True, validate=ma.validate.Length(min=accounts.MIN_PASSWORD_LENGTH, max=200),
                                metadata={"description": "Leave out to get a random one-time password back."})
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(accounts.ROLES))
    enterprise_id = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=50),
                                     metadata={"description": "Required for, and only for, the enterprise role."})
    provinces = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(accounts.PROVINCES)), load_default=None,
                               validate=ma.validate.Length(max=len(accounts.PROVINCES)),
                               metadata={"description": "Supervisors only: limit them to these provinces."})
    display_name = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=100))


class UserQuerySchema(ma.Schema):
    role = ma.fields.String(validate=ma.validate.OneOf(accounts.ROLES))
    enterprise_id = ma.fields.String(validate=ma.validate.Length(min=1, max=50))
    disabled = ma.fields.Boolean()


class PasswordResetSchema(ma.Schema):
    password = ma.fields.String(load_only=True, validate=ma.validate.Length(min=accounts.MIN_PASSWORD_LENGTH, max=200),
                                metadata={"description": "Leave out to get a random one-time password back."})


class CreatedUserSchema(UserSchema):
    one_time_password = ma.fields.String(
        allow_none=True, metadata={"description": "Shown once, when generated; the user must change it at sign-in."})


class PasswordResetResultSchema(CreatedUserSchema):
    revoked_sessions = ma.fields.Integer()


class RevokedSchema(ma.Schema):
    revoked_sessions = ma.fields.Integer(metadata={"example": 2})


def _user_or_404(user_id):
    user = accounts.get_user(db(), user_id)
    if not user:
        fail(404, "user_not_found", "No such user.")
    return user


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate()
    @blp.doc(security=BEARER)
    @require("admin")
    def get(self, query, pagination_parameters):
        """List users, by username, optionally filtered by role, enterprise or disabled."""
        page, total = accounts.list_users(db(), skip=pagination_parameters.first_item,
                                          limit=pagination_parameters.page_size, **query)
        pagination_parameters.item_count = total
        return page

    @blp.arguments(UserCreateSchema, example={"username": "zhao.lei", "role": "supervisor", "provinces": ["Jiangxi"],
                                              "display_name": "Zhao Lei"})
    @blp.response(201, CreatedUserSchema)
    @blp.alt_response(409, description="The username is taken (error_code username_taken).")
    @blp.alt_response(422, description="Bad role, enterprise binding, provinces or password.")
    @blp.doc(security=BEARER)
    @require("admin")
    def post(self, body):
        """Create a user; without a password, a one-time password is returned once."""
        user, one_time = accounts.register_user(db(), principal(), **body)
        return {**user, "one_time_password": one_time}


@blp.route("/<user_id>")
class OneUser(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user.")
    @blp.doc(security=BEARER)
    @require("admin")
    def get(self, user_id):
        """One user's account."""
        return _user_or_404(user_id)


@blp.route("/<user_id>/disable")
class Disable(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user.")
    @blp.alt_response(409, description="You cannot disable yourself (error_code cannot_disable_self).")
    @blp.doc(security=BEARER)
    @require("admin")
    def post(self, user_id):
        """Disable a user: sign-in is refused and every session ends at once."""
        if user_id == principal()["user_id"]:
            fail(409, "cannot_disable_self", "You cannot disable your own account; ask another administrator.")
        return accounts.set_disabled(db(), principal(), user_id, True)


@blp.route("/<user_id>/enable")
class Enable(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user.")
    @blp.doc(security=BEARER)
    @require("admin")
    def post(self, user_id):
        """Enable a disabled user again."""
        return accounts.set_disabled(db(), principal(), user_id, False)


@blp.route("/<user_id>/reset-password")
class ResetPassword(MethodView):
    @blp.arguments(PasswordResetSchema, example={})
    @blp.response(200, PasswordResetResultSchema)
    @blp.alt_response(404, description="No such user.")
    @blp.doc(security=BEARER)
    @require("admin")
    def post(self, body, user_id):
        """Set a new password (or get a random one-time one back); the user's sessions all end."""
        user, one_time, revoked = accounts.reset_password(db(), principal(), user_id,
                                                body.get("password"))
        return {**user, "one_time_password": one_time, "revoked_sessions": revoked}


@blp.route("/<user_id>/revoke-sessions")
class RevokeSessions(MethodView):
    @blp.response(200, RevokedSchema)
    @blp.alt_response(404, description="No such user.")
    @blp.doc(security=BEARER)
    @require("admin")
    def post(self, user_id):
        """Sign a user out of every device at once."""
        return {"revoked_sessions": accounts.revoke_user_sessions(db(), principal(), user_id)}


@blp.route("/<user_id>/sessions")
class UserSessions(MethodView):
    @blp.response(200, SessionSchema(many=True))
    @blp.alt_response(404, description="No such user.")
    @blp.doc(security=BEARER)
    @require("admin")
    def get(self, user_id):
        """A user's signed-in devices; end one with DELETE /api/auth/sessions/{id}."""
        _user_or_404(user_id)
        return sessions.live_sessions(db(), user_id)
