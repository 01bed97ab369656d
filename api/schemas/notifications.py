"""Marshmallow schemas for notifications: inbox items, settings, webhooks and their deliveries."""
import marshmallow as ma
from marshmallow import validate

from inspector.notifications.audiences import KINDS
from inspector.notifications.preferences import MODES
from inspector.notifications.texts import LANGUAGES


class LinkSchema(ma.Schema):
    type = ma.fields.String(metadata={"description": "finding, task, enterprise or ledger."})
    id = ma.fields.String(allow_none=True)


class InboxQuerySchema(ma.Schema):
    unread = ma.fields.Boolean(load_default=False)
    lang = ma.fields.String(load_default=None, validate=validate.OneOf(LANGUAGES), metadata={
        "description": "The language of titles and sentences; your settings' language by default."})


class ItemSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String(metadata={"description": f"One of {', '.join(KINDS)}."})
    title = ma.fields.String()
    body = ma.fields.String()
    link = ma.fields.Nested(LinkSchema, allow_none=True)
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True)


class UnreadSchema(ma.Schema):
    unread = ma.fields.Integer()


class MarkReadSchema(ma.Schema):
    ids = ma.fields.List(ma.fields.String(validate=validate.Length(max=64)), validate=validate.Length(max=500),
                         load_default=list)
    all = ma.fields.Boolean(load_default=False, metadata={"description": "Mark every item of yours read."})


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer()
    unread = ma.fields.Integer()


class SettingsSchema(ma.Schema):
    email = ma.fields.String(allow_none=True, validate=validate.Length(max=254))
    email_kinds = ma.fields.List(ma.fields.String(validate=validate.OneOf(KINDS)), validate=validate.Length(max=20),
                                 metadata={"description": "The kinds of event that also go by e-mail."})
    mode = ma.fields.String(validate=validate.OneOf(MODES), metadata={
        "description": "immediate: one e-mail per event; digest: one a day at 08:00 China time."})
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))
    kinds = ma.fields.List(ma.fields.String(), dump_only=True, metadata={"description": "The kinds your role gets."})


class WebhookCreateSchema(ma.Schema):
    url = ma.fields.String(required=True, validate=validate.Length(min=8, max=2000))
    enterprise_id = ma.fields.String(load_default=None, validate=validate.Length(max=64))
    province = ma.fields.String(load_default=None, validate=validate.Length(max=40))
    secret = ma.fields.String(load_default=None, validate=validate.Length(min=16, max=200), metadata={
        "description": "The HMAC key; made for you (and shown once) when left out."})


class WebhookSchema(ma.Schema):
    id = ma.fields.String()
    url = ma.fields.String()
    enterprise_id = ma.fields.String(allow_none=True)
    province = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    created_by = ma.fields.String(allow_none=True)
    secret = ma.fields.String(metadata={"description": "Only in the answer to the registration."})


class AttemptSchema(ma.Schema):
    at = ma.fields.DateTime()
    status = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)


class DeliverySchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    state = ma.fields.String(metadata={"description": "pending, sending, delivered, failed or cancelled."})
    attempts = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    delivered_at = ma.fields.DateTime(allow_none=True)
    log = ma.fields.List(ma.fields.Nested(AttemptSchema))
