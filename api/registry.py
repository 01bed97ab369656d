"""Registry administration: enterprises, whitelist approvals, quotas and penalties."""
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.accounts import scope
from inspector.registry import approvals
from inspector.registry import enterprises as registry

from .auth import BEARER, principal, require
from .context import db, now
from .errors import error_docs, fail
from .preconditions import IF_MATCH, if_match_tags
from .schemas.registry import (APPROVAL_EXAMPLE, ENTERPRISE_CREATE_EXAMPLE, PENALTY_EXAMPLE, QUOTA_EXAMPLE,
                               ApprovalActionSchema, ApprovalHistorySchema, ApprovalSchema, EnterpriseCreateSchema,
                               EnterprisePatchSchema, EnterpriseQuerySchema, PenaltyCreateSchema, PenaltySchema,
                               QuotaCreateSchema, QuotaIssueSchema, QuotaQuerySchema, RegistryEnterpriseSchema)

blp = Blueprint("registry", __name__, url_prefix="/api/registry",
                description="Registry administration: enterprises, whitelist approvals, quotas and penalties.")

WRITERS = ("admin",)
READERS = ("admin", "supervisor", "enterprise")
ERROR_ANSWERS = {
    401: "No valid access token: sign in.",
    403: "Your role may not do this: registry changes are for administrators.",
    404: "No such enterprise within your scope.",
    409: "The change conflicts with what is recorded (duplicate USCC or issue batch, or an approval's state).",
    412: "If-Match holds an old ETag: someone changed the enterprise since you read it.",
    422: "A field is missing or wrong (errors.json names it), or the USCC fails its check (errors.error_code).",
    428: "If-Match is missing: read the enterprise and send its ETag.",
}


errors = error_docs(blp, ERROR_ANSWERS)


def _today():
    return approvals.china_day(now())


def _in_scope(enterprise_id):
    """404 for an enterprise outside the caller's scope (the same answer as for an unknown one)."""
    if not scope.sees_id(db(), principal(), enterprise_id):
        fail(404, "enterprise_not_found", "No such enterprise among the ones you may see.")


def _enterprise(enterprise_id):
    _in_scope(enterprise_id)
    return registry.find_enterprise(db(), enterprise_id)


def _with_etag(enterprise, status=200):
    return registry.view(enterprise, _today()), status, {"ETag": f'"{registry.etag_of(enterprise)}"'}


@blp.route("/enterprises")
class Enterprises(MethodView):
    @require(*READERS)
    @blp.doc(security=BEARER)
    @errors(401, 403)
    @blp.arguments(EnterpriseQuerySchema, location="query")
    @blp.response(200, RegistryEnterpriseSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List enterprises, by id, province, role or USCC, within the caller's scope (own enterprise, provinces)."""
        docs, total = registry.list_enterprises(db(), query, pagination_parameters.first_item,
                                                pagination_parameters.page_size, scope.enterprise_filter(principal()))
        pagination_parameters.item_count = total
        return [registry.view(d, _today()) for d in docs]

    @require(*WRITERS)
    @blp.doc(security=BEARER)
    @errors(401, 403, 409, 422)
    @blp.arguments(EnterpriseCreateSchema, example=ENTERPRISE_CREATE_EXAMPLE)
    @blp.response(201, RegistryEnterpriseSchema)
    def post(self, body):
        """Register an enterprise with its USCC (checked), province and roles; a duplicate USCC is 409."""
        created = registry.create_enterprise(db(), body, principal(), now())
        return _with_etag(registry.find_enterprise(db(), created["_id"]), 201)


@blp.route("/enterprises/<enterprise_id>")
class Enterprise(MethodView):
    @require(*READERS)
    @blp.doc(security=BEARER)
    @errors(401, 403, 404)
    @blp.response(200, RegistryEnterpriseSchema)
    def get(self, enterprise_id):
        """One enterprise as registered, with its whitelist state today; its ETag comes in the ETag header."""
        return _with_etag(_enterprise(enterprise_id))

    @require(*WRITERS)
    @blp.doc(security=BEARER, parameters=[IF_MATCH])
    @errors(401, 403, 404, 409, 412, 422, 428)
    @blp.arguments(EnterprisePatchSchema, example={"name": "Baotou Plains Separation Co., Ltd."})
    @blp.response(200, RegistryEnterpriseSchema)
    def patch(self, body, enterprise_id):
        """Change name, province, roles, city or location; send the ETag you read in If-Match."""
        updated = registry.update_enterprise(db(), enterprise_id, body, if_match_tags("enterprise"), principal(), now())
        return _with_etag(updated)


@blp.route("/enterprises/<enterprise_id>/approvals")
class Approvals(MethodView):
    @require(*READERS)
    @blp.doc(security=BEARER)
    @errors(401, 403, 404)
    @blp.response(200, ApprovalHistorySchema)
    def get(self, enterprise_id):
        """The enterprise's whitelist history, oldest first (never overwritten), and each stage's state today."""
        enterprise = _enterprise(enterprise_id)
        history = approvals.ordered(enterprise.get("approvals", []))
        return {"enterprise_id": enterprise["_id"], "enterprise_name": enterprise["name"],
                "history": [approvals.view(e) for e in history], "today": approvals.today(history, _today())}

    @require(*WRITERS)
    @blp.doc(security=BEARER)
    @errors(401, 403, 404, 409, 422)
    @blp.arguments(ApprovalActionSchema, example=APPROVAL_EXAMPLE)
    @blp.response(201, ApprovalSchema)
    def post(self, body, enterprise_id):
        """Record a grant, suspension (reason required), reinstatement or revocation (reason required)."""
        entry = registry.record_approval(db(), enterprise_id, body, principal(), now())
        return approvals.view(entry)


@blp.route("/quotas")
class Quotas(MethodView):
    @require(*READERS)
    @blp.doc(security=BEARER)
    @errors(401, 403, 404)
    @blp.arguments(QuotaQuerySchema, location="query")
    @blp.response(200, QuotaIssueSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List quota issue batches, by enterprise, year, category and batch, within the caller's scope."""
        if query.get("enterprise_id") is not None:
            _in_scope(query["enterprise_id"])
        visible = scope.visible_ids(db(), principal())
        docs, total = registry.list_quotas(db(), query, pagination_parameters.first_item,
                                           pagination_parameters.page_size, visible)
        pagination_parameters.item_count = total
        return [registry.quota_view(q) for q in docs]

    @require(*WRITERS)
    @blp.doc(security=BEARER)
    @errors(401, 403, 409, 422)
    @blp.arguments(QuotaCreateSchema, example=QUOTA_EXAMPLE)
    @blp.response(201, QuotaIssueSchema)
    def post(self, body):
        """Record one issue batch of a yearly quota; the same enterprise, year, category and batch twice is 409."""
        return registry.quota_view(registry.issue_quota(db(), body, principal(), now()))


@blp.route("/enterprises/<enterprise_id>/penalties")
class Penalties(MethodView):
    @require(*READERS)
    @blp.doc(security=BEARER)
    @errors(401, 403, 404)
    @blp.response(200, PenaltySchema(many=True))
    def get(self, enterprise_id):
        """The penalties recorded against the enterprise, oldest decision first, each with the cut it makes."""
        enterprise = _enterprise(enterprise_id)
        found = sorted(enterprise.get("penalties", []), key=lambda p: (p["decided_on"], p["_id"]))
        return [registry.penalty_view(p, enterprise) for p in found]

    @require(*WRITERS)
    @blp.doc(security=BEARER)
    @errors(401, 403, 404, 422)
    @blp.arguments(PenaltyCreateSchema, example=PENALTY_EXAMPLE)
    @blp.response(201, PenaltySchema)
    def post(self, body, enterprise_id):
        """Record a penalty; the next year's quota view shows the cut (our reading of the rule: see effect)."""
        penalty, enterprise = registry.record_penalty(db(), enterprise_id, body, principal(), now())
        return registry.penalty_view(penalty, enterprise)
