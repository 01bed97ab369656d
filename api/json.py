"""JSON with ISO 8601 dates, for the documents the API passes through."""
from datetime import date, datetime

from flask.json.provider import DefaultJSONProvider


class IsoJSONProvider(DefaultJSONProvider):
    """Flask's provider, but dates and datetimes become ISO 8601 strings."""

    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)
