"""Monthly reporting compliance and where to inspect next."""
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.oversight import reporting
from inspector.oversight import risk
from inspector.oversight import scan_review
from inspector.clock import CST
from inspector.periods import deadline_of, settings_deadline

from .schemas import reporting as schemas
from .schemas import scan_review as review_schemas
from .auth import BEARER, principal, require
from .context import db, now, settings
from .errors import error_docs, fail

blp = Blueprint("reporting", __name__, url_prefix="/api", description="Monthly reporting compliance and where to inspect next.")

SUPERVISORS = ("supervisor", "admin")
ERROR_ANSWERS = {
    401: "No valid access token: sign in.",
    403: "Your role may not see this.",
    404: "No such enterprise within your scope; the answer is the same whether it exists or not.",
    422: "A bad query value: the period is not YYYY-MM, before 2000 or after the current month, or another value "
         "is out of range.",
}


errors = error_docs(blp, ERROR_ANSWERS)


def _deadline():
    return settings_deadline(settings())


def _period(query, moment):
    text = query.get("period")
    if text is None:
        return reporting.reporting_period(moment)
    return reporting.parse_period(text, moment)


@blp.route("/reporting/compliance")
class Compliance(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(schemas.ComplianceQuerySchema, location="query")
    @blp.response(200, schemas.ComplianceSchema, example=schemas.COMPLIANCE_EXAMPLE)
    @errors(401, 403, 422)
    @require(*SUPERVISORS)
    def get(self, query):
        """Who entered a month's ledger on time, late, or not at all: every enterprise in your scope, worst first."""
        moment = now()
        period = _period(query, moment)
        deadline = _deadline()
        scope = reporting.enterprise_filter(principal(), query.get("province"))
        rows = reporting.compliance(db(), period, moment, scope, **deadline)
        counts = reporting.count_statuses(rows)
        if query.get("status"):
            rows = [r for r in rows if r["status"] == query["status"]]
        due = deadline_of(period, **deadline)
        return {"period": period, "deadline": due.replace(microsecond=0), "deadline_passed": moment > due,
                "deadline_rule": reporting.deadline_rule(**deadline), "as_of": moment.astimezone(CST),
                "total": len(rows), "counts": counts, "items": rows}


@blp.route("/reporting/enterprises/<enterprise_id>")
class EnterpriseHistory(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(schemas.HistoryQuerySchema, location="query")
    @blp.response(200, schemas.HistorySchema, example=schemas.HISTORY_EXAMPLE)
    @errors(401, 403, 404, 422)
    @require("enterprise", "supervisor", "admin")
    def get(self, query, enterprise_id):
        """One enterprise's monthly reports over the last months, newest first (enterprise users: their own)."""
        enterprise = reporting.visible_enterprise(db(), principal(), enterprise_id)
        if enterprise is None:
            fail(404, "enterprise_not_found", "No such enterprise among the ones you may see.")
        moment = now()
        deadline = _deadline()
        periods = reporting.history(db(), enterprise, reporting.recent_periods(moment, query["months"]), moment,
                                    **deadline)
        return {"enterprise_id": enterprise["_id"], "enterprise_name": enterprise.get("name"),
                "province": enterprise.get("province"), "deadline_rule": reporting.deadline_rule(**deadline),
                "as_of": moment.astimezone(CST), "counts": reporting.count_statuses(periods), "periods": periods}


@blp.route("/risk/enterprises")
class Risk(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(schemas.RiskQuerySchema, location="query")
    @blp.response(200, schemas.RiskSchema, example=schemas.RISK_EXAMPLE)
    @errors(401, 403, 422)
    @require(*SUPERVISORS)
    def get(self, query):
        """Where to inspect next: enterprises ranked by recent failing scans, confirmed findings, late reports and
        ledger flags, each with the factors that drove its score."""
        moment = now()
        ranking = risk.rank(db(), reporting.enterprise_filter(principal(), query.get("province")), moment, settings(),
                            query["limit"])
        return {**ranking, "as_of": moment.astimezone(CST), "since": ranking["since"].astimezone(CST)}


@blp.route("/risk/inspectors")
class ScanReview(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(review_schemas.ScanReviewQuerySchema, location="query")
    @blp.response(200, review_schemas.ScanReviewSchema, example=review_schemas.SCAN_REVIEW_EXAMPLE)
    @errors(401, 403, 422)
    @require(*SUPERVISORS)
    def get(self, query):
        """Whose scans to review first: inspectors ranked by the different colleagues their cloned-code hits clash
        with, then by hits and by scan times that disagreed with their phone's measured wait (supervisors: scans
        found in their provinces)."""
        moment = now()
        ranking = scan_review.rank(db(), principal(), moment, settings(), query["limit"], query.get("province"))
        return {**ranking, "as_of": moment.astimezone(CST), "since": ranking["since"].astimezone(CST)}
