"""Service metadata and, in demo mode, the planted demo cases."""
import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector import dataset as loaded
from inspector.offline.signing import keyring
from inspector.verdict.reasons import REASONS

from .context import db, settings
from .errors import fail

blp = Blueprint("meta", __name__, url_prefix="/api", description="Service metadata and demo cases.")


class ReasonInfoSchema(ma.Schema):
    code = ma.fields.String()
    severity = ma.fields.String()
    title = ma.fields.String()
    meaning = ma.fields.String()


class MetaSchema(ma.Schema):
    demo = ma.fields.Boolean(metadata={"description": "True on the embedded store: demo data, not saved."})
    notice = ma.fields.String(allow_none=True)
    version = ma.fields.String()
    dataset = ma.fields.Dict(allow_none=True)
    reasons = ma.fields.List(ma.fields.Nested(ReasonInfoSchema))
    signing_keys = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "The authority's public keys (kid, status, public_key): the phone's trust anchor for the "
                       "offline pack, whose own key list then carries rotations and revocations."})


class DemoCaseSchema(ma.Schema):
    code = ma.fields.String()
    expected_status = ma.fields.String()
    expected_reasons = ma.fields.List(ma.fields.String())
    description = ma.fields.String()
    scan = ma.fields.Dict(metadata={"description": "Scan context to send with the code (site, holder, mass, location)."})


@blp.route("/meta")
class Meta(MethodView):
    @blp.response(200, MetaSchema, example={"demo": True, "notice": "Demo data, not saved.", "version": "1.0"})
    def get(self):
        """Say whether this is the demo store, and list the verdict reasons."""
        demo = settings().demo
        dataset = loaded.description(db()) if demo else None
        return {
            "demo": demo,
            "notice": "Demo data, not saved: everything is lost when the service stops." if demo else None,
            "version": "1.0",
            "dataset": dataset,
            "reasons": [r.info() for r in REASONS.values()],
            "signing_keys": ring.public_keys() if (ring := keyring(settings())) else [],
        }


@blp.route("/demo/cases")
class DemoCases(MethodView):
    @blp.response(200, DemoCaseSchema(many=True))
    @blp.alt_response(404, description="Not the demo store: there are no demo cases (error_code not_demo).")
    def get(self):
        """List the planted demo cases, each with the verdict it must get (demo mode only)."""
        if not settings().demo:
            fail(404, "not_demo", "Demo cases exist only on the embedded demo store.")
        return loaded.demo_cases(db())
