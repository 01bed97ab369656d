"""If-Match on writes that change a stored record: the header's documentation and the one parser of it."""
from flask import request

from .errors import fail

IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "The ETag you read. Missing: 428. Stale: 412."}


# Compression (api/__init__.py) marks a strong ETag with the coding it sent ("tag:br"): the entity is the same.
CODINGS = ("br", "gzip", "deflate", "zstd")


def _entity(tag):
    body, colon, coding = tag.rpartition(":")
    return body if colon and coding in CODINGS else tag


def if_match_tags(what):
    """The entity tags in If-Match; 428 when absent or '*', since a blind overwrite is what the header prevents."""
    raw = request.headers.get("If-Match", "").strip()
    tags = [_entity(t.strip().removeprefix("W/").strip('"')) for t in raw.split(",") if t.strip()]
    if not tags or "*" in tags:
        fail(428, "if_match_required", f"Send the {what}'s ETag in If-Match (read the {what} first), so you do not "
                                       "overwrite a change you have not seen.")
    return tags
