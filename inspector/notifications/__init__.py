"""Notifications: the inbox, e-mail and webhooks that tell people when something needs them."""
