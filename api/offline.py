"""The offline verdict pack: GET the signed pack of your area, or GET what changed since the version you hold."""
import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.offline import delta as deltas
from inspector.offline import pack as packs
from inspector.offline.signing import keyring

from .auth import BEARER, principal, require
from .context import db, now, settings
from .errors import error_docs, fail

blp = Blueprint("offline", __name__, url_prefix="/api/offline",
                description="The signed snapshot a phone judges codes with when it has no network, and its deltas.")
ERROR_ANSWERS = {
    401: "No valid access token: sign in.",
    403: "Enterprises get no pack: it lists other enterprises' batches (error_code forbidden_role).",
    409: "The version you hold is not kept any more: download the whole pack (error_code pack_version_unknown).",
    422: "since is missing or not a pack version.",
    503: "This service has no signing key configured (error_code signing_key_missing).",
}
errors = error_docs(blp, ERROR_ANSWERS)


class SignedPackSchema(ma.Schema):
    pack = ma.fields.String(metadata={"description": "The pack (or delta) as JSON text: verify the signature over "
                                                     "its UTF-8 bytes before parsing it."})
    kid = ma.fields.String(metadata={"description": "The id of the key that signed it (listed in the pack's keys)."})
    signature = ma.fields.String(metadata={"description": "Ed25519 signature, unpadded base64url."})


class DeltaQuerySchema(ma.Schema):
    since = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{20}$"))


def _signer():
    ring = keyring(settings())
    if ring is None or ring.signer is None:
        fail(503, "signing_key_missing", "This service has no signing key: set SIGNING_KEYS_FILE.")
    return ring


def _answer(ring, content, etag):
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache"}
    if request.if_none_match.contains(etag):
        return "", 304, headers
    return packs.signed(ring, content), 200, headers


@blp.route("/pack")
class Pack(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, SignedPackSchema, headers={"ETag": {"description": "The pack version.",
                                                            "schema": {"type": "string"}}})
    @blp.alt_response(304, description="Your copy (If-None-Match) is the current version.")
    @errors(401, 403, 503)
    @require(*packs.SCOPED_ROLES)
    def get(self):
        """Your area's pack: codes, standing problems and reasons, holders, remaining mass, whitelist, keys."""
        ring = _signer()
        content = deltas.current(db(), principal(), settings(), ring, now())
        return _answer(ring, content, content["version"])


@blp.route("/delta")
class Delta(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(DeltaQuerySchema, location="query")
    @blp.response(200, SignedPackSchema)
    @blp.alt_response(304, description="Nothing changed since that version.")
    @errors(401, 403, 409, 422, 503)
    @require(*packs.SCOPED_ROLES)
    def get(self, query):
        """What changed in your area's pack since the version you hold, signed like the pack."""
        ring = _signer()
        content = deltas.current(db(), principal(), settings(), ring, now())
        if content["version"] == query["since"]:
            return "", 304, {"ETag": f'"{content["version"]}"'}
        change = deltas.delta(db(), principal(), content, query["since"])
        return _answer(ring, change, f"{query['since']}-{content['version']}")
