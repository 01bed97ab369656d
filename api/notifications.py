"""Notifications: your inbox and unread count, marking read, your e-mail settings; administrators' webhooks."""
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.accounts.users import PROVINCES
from inspector.notifications import inbox, preferences, webhooks
from inspector.notifications.audiences import kinds_for

from .auth import BEARER, principal, require
from .context import db, now
from .errors import error_docs
from .schemas.notifications import (DeliverySchema, InboxQuerySchema, ItemSchema, MarkedSchema, MarkReadSchema,
                                    SettingsSchema, UnreadSchema, WebhookCreateSchema, WebhookSchema)

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications",
                description="What needs you: the inbox, e-mail settings, and webhooks for integrators.")
EVERYONE = ("inspector", "supervisor", "enterprise", "admin")
ERROR_ANSWERS = {
    401: "No valid access token: sign in.",
    403: "Only administrators manage webhooks.",
    404: "No such webhook.",
    422: "A bad field: not an e-mail address, a kind of event your role does not get, a URL that is not http(s), "
         "a secret shorter than 16 characters, an unknown enterprise or province.",
}
errors = error_docs(blp, ERROR_ANSWERS)


def _me():
    p = principal()
    return {"_id": p["user_id"], "role": p["role"]}


@blp.route("")
class Inbox(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, ItemSchema(many=True))
    @blp.paginate()
    @errors(401)
    @require(*EVERYONE)
    def get(self, query, pagination_parameters):
        """Your notifications, newest first, in your language; each links to its case, task or enterprise."""
        lang = query["lang"] or preferences.read(db(), _me())["language"]
        found, pagination_parameters.item_count = inbox.items(
            db(), _me(), lang, query["unread"], pagination_parameters.page_size, pagination_parameters.first_item)
        return found


@blp.route("/unread")
class Unread(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UnreadSchema)
    @errors(401)
    @require(*EVERYONE)
    def get(self):
        """How many of your notifications are unread (the badge on the tab bar)."""
        return {"unread": inbox.unread(db(), _me())}


@blp.route("/read")
class MarkRead(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(MarkReadSchema, example={"ids": ["3f1c0d9e2b7a4c6f8e1d2a3b4c5d6e7f"]})
    @blp.response(200, MarkedSchema)
    @errors(401)
    @require(*EVERYONE)
    def post(self, body):
        """Mark notifications read (ids, or all); ids of others' notifications change nothing. Safe to repeat."""
        marked = inbox.mark_read(db(), _me(), body["ids"], now(), everything=body["all"])
        return {"marked": marked, "unread": inbox.unread(db(), _me())}


@blp.route("/settings")
class Settings(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, SettingsSchema)
    @errors(401)
    @require(*EVERYONE)
    def get(self):
        """Your e-mail address, the kinds that go by e-mail, immediate or a daily digest, and the language."""
        return {**preferences.read(db(), _me()), "kinds": kinds_for(_me()["role"])}

    @blp.doc(security=BEARER)
    @blp.arguments(SettingsSchema, example={"email": "clerk@example.com", "mode": "digest", "language": "zh-CN"})
    @blp.response(200, SettingsSchema)
    @errors(401, 422)
    @require(*EVERYONE)
    def put(self, body):
        """Change the fields you send; in-app notifications are always kept whatever you choose."""
        return {**preferences.change(db(), _me(), body, now()), "kinds": kinds_for(_me()["role"])}


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, WebhookSchema(many=True))
    @errors(401, 403)
    @require("admin")
    def get(self):
        """Every webhook (without its secret)."""
        return webhooks.hooks(db())

    @blp.doc(security=BEARER)
    @blp.arguments(WebhookCreateSchema, example={"url": "https://erp.example.com/inspector", "enterprise_id": "ENT-GMT"})
    @blp.response(201, WebhookSchema)
    @errors(401, 403, 422)
    @require("admin")
    def post(self, body):
        """Register a URL for one enterprise's or one province's events, POSTed as JSON signed with HMAC-SHA256."""
        hook, secret = webhooks.register(db(), principal(), body, now(), PROVINCES)
        return {**hook, "secret": secret}


@blp.route("/webhooks/<hook_id>")
class Webhook(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(204)
    @errors(401, 403, 404)
    @require("admin")
    def delete(self, hook_id):
        """Stop a webhook; its delivery log stays readable."""
        webhooks.deactivate(db(), hook_id)


@blp.route("/webhooks/<hook_id>/deliveries")
class Deliveries(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, DeliverySchema(many=True))
    @errors(401, 403, 404)
    @require("admin")
    def get(self, hook_id):
        """A webhook's latest deliveries, with each try's HTTP status or error."""
        return webhooks.deliveries(db(), hook_id)
