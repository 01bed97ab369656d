"""Read-only views of the ledger: batches, their provenance and descendants, enterprises and quotas."""
from datetime import datetime, timezone

from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.accounts import scope
from inspector.registry import approvals
from inspector.registry import enterprises as registry
from inspector.codes.labels import read_code
from inspector.ledger import holdings
from inspector.oversight import recall
from inspector.verdict.lineage import fetch_enterprises
from inspector.quota.status import quota_status
from inspector.verdict.judge import ScanContext, judge

from . import examples
from .auth import BEARER, principal, require
from .context import db, now, settings
from .errors import fail
from .schemas.batches import HeldBatchPageSchema, HeldBatchQuery
from .schemas.scans import (BatchViewSchema, DescendantsSchema, DirectoryEntrySchema, EnterpriseSchema,
                           ProvenanceViewSchema, QuotaQuerySchema, QuotaStatusSchema)

# The blueprint name is the OpenAPI tag integrators already use, so it keeps its old word.
blp = Blueprint("ledger", __name__, url_prefix="/api", description="Batches, provenance, recalls, enterprises, quotas.")
FIELD_ROLES = ("inspector", "supervisor", "admin")
UNKNOWN_CODE = "The code is well formed but no batch has it (error_code unknown_code)."
MALFORMED_CODE = "Not a batch code: wrong length, letters or check character (error_code malformed_code, with typo)."
UNKNOWN_ENTERPRISE = "No such enterprise among the ones you may see (enterprise users see only their own)."


def _label(code):
    label = read_code(code)
    if label.kind == "malformed":
        fail(422, "malformed_code", label.error, typo=label.typo)
    return label


def _judged(code):
    label = _label(code)
    now = datetime.now(timezone.utc)
    judgement = judge(db(), label, ScanContext(scanned_at=now), settings(), now)
    if judgement.batch is None:
        fail(404, "unknown_code", f"Code {label.batch_code or code} is not registered in the ledger.")
    return judgement


@blp.route("/batches")
class HeldBatches(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(HeldBatchQuery, location="query")
    @blp.response(200, HeldBatchPageSchema)
    @blp.alt_response(403, description="An enterprise asked for another enterprise's batches (not_your_enterprise).")
    @blp.alt_response(422, description="Supervisors and administrators name the enterprise_id (enterprise_required).")
    @require("enterprise", "supervisor", "admin")
    def get(self, query):
        """The batches an enterprise holds, by code: a clerk's own, or a named enterprise's for its supervisors."""
        me = principal()
        holder = query.get("enterprise_id")
        if me["role"] == "enterprise":
            if holder and holder != me.get("enterprise_id"):
                fail(403, "not_your_enterprise", f"You see the batches of {me.get('enterprise_id')}, not of {holder}.")
            holder = me.get("enterprise_id")
        elif not holder:
            fail(422, "enterprise_required", "Name the enterprise_id whose batches to list.")
        elif not scope.sees_id(db(), me, holder):
            fail(404, "enterprise_not_found", "No such enterprise among the ones you may see.")
        found = holdings.held(db(), holder, query["limit"], stage=query.get("stage"), status=query.get("status"),
                              code_prefix=query.get("code_prefix"), after=query.get("after"))
        last = found[-1]["_id"] if len(found) == query["limit"] else None
        return {"enterprise_id": holder, "batches": found, "next_after": last}


@blp.route("/batches/<path:code>")
class Batch(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, BatchViewSchema, example=examples.BATCH_VIEW)
    @blp.alt_response(404, description=UNKNOWN_CODE)
    @blp.alt_response(422, description=MALFORMED_CODE)
    @require(*FIELD_ROLES)
    def get(self, code):
        """A batch with its verdict outside any scan context, its provenance and its producer's quota."""
        if code.endswith("/provenance") or code.endswith("/descendants"):
            fail(404, "not_found", "No such resource.")
        j = _judged(code)
        return {"verdict": j.verdict(), "batch": j.batch, "provenance": j.provenance, "quota": j.quota}


@blp.route("/batches/<path:code>/provenance")
class Provenance(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, ProvenanceViewSchema, example={"provenance": examples.PROVENANCE})
    @blp.alt_response(404, description=UNKNOWN_CODE)
    @blp.alt_response(422, description=MALFORMED_CODE)
    @require(*FIELD_ROLES)
    def get(self, code):
        """Ancestors back to the mine(s), each with producer, approval and mass share, and the chain of holders."""
        return {"provenance": _judged(code).provenance}


@blp.route("/batches/<path:code>/descendants")
class Descendants(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, DescendantsSchema, example=examples.DESCENDANTS)
    @blp.alt_response(404, description=UNKNOWN_CODE)
    @blp.alt_response(422, description=MALFORMED_CODE)
    @require(*FIELD_ROLES)
    def get(self, code):
        """Every batch made from this one, at any depth: the forward trace for a recall."""
        label = _label(code)
        found = recall.descendants(db(), label)
        if found is None:
            fail(404, "unknown_code", f"Code {label.batch_code or code} is not registered in the ledger.")
        return found


def _visible_enterprise(enterprise_id):
    found = fetch_enterprises(db(), {enterprise_id}).get(enterprise_id)
    # Outside the caller's scope answers as an unknown enterprise does.
    if not found or not scope.sees(principal(), found):
        fail(404, "enterprise_not_found", "No such enterprise among the ones you may see.")
    return found


@blp.route("/enterprises")
class EnterpriseDirectory(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, DirectoryEntrySchema(many=True))
    @blp.paginate(max_page_size=1000)
    @require("inspector", "supervisor", "admin", "enterprise")
    def get(self, pagination_parameters):
        """The enterprises the caller may see (own enterprise, provinces), by id: name, province, city; for pickers."""
        docs, total = registry.directory(db(), scope.enterprise_filter(principal()), pagination_parameters.first_item,
                                         pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return docs


@blp.route("/enterprises/<enterprise_id>")
class Enterprise(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, EnterpriseSchema, example=examples.ENTERPRISE)
    @blp.alt_response(404, description=UNKNOWN_ENTERPRISE)
    @require("inspector", "supervisor", "admin", "enterprise")
    def get(self, enterprise_id):
        """An enterprise with its USCC and whitelist history (enterprise users see only their own); ETag in a header."""
        found = _visible_enterprise(enterprise_id)
        history = approvals.ordered(found.get("approvals", []))
        day = approvals.china_day(now())
        body = {**found, "approvals": [approvals.view(a) for a in history], "whitelist": approvals.today(history, day)}
        return body, 200, {"ETag": f'"{registry.etag_of(found)}"'}


@blp.route("/enterprises/<enterprise_id>/quota")
class EnterpriseQuota(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(QuotaQuerySchema, location="query")
    @blp.response(200, QuotaStatusSchema, example=examples.QUOTA)
    @blp.alt_response(404, description=UNKNOWN_ENTERPRISE)
    @require("inspector", "supervisor", "admin", "enterprise")
    def get(self, query, enterprise_id):
        """Per category and issue batch, for a year (default: this one): issued, cut, effective, used, remaining, over."""
        year = query.get("year") or now().year
        return quota_status(_visible_enterprise(enterprise_id), year)
