"""Named queries and webhook subscriptions of the EPCIS 2.0 repository (REST bindings' /queries), on its blueprint.

An owner (a clerk's enterprise, or one member of staff) sees, runs and deletes only its own queries; what a query
returns is cut to what the caller may see. Subscriptions push to a partner's webhook (delivery.py): enterprises and
administrators only, since a subscription sends events out of the service.
"""
import json

from flask import Response, request, url_for
from flask.views import MethodView

from inspector.ledger.epcis import named_queries as named
from inspector.ledger.epcis.query import QueryProblem

from .auth import BEARER, principal, require
from .context import db, now
from .epcis_rest import PROBLEM, READERS, _events_answer, _per_page, answers, blp, problem

SUBSCRIBERS = ("enterprise", "admin")
MAX_BODY = 64 * 1024


def _body():
    if request.mimetype not in ("application/json", "application/ld+json"):
        problem(415, "unsupported_media_type", "Send the body as application/json.")
    if (request.content_length or 0) > MAX_BODY or len(request.get_data(cache=True)) > MAX_BODY:
        problem(413, "body_too_large", f"A query or subscription is at most {MAX_BODY // 1024} KB.",
                limit_bytes=MAX_BODY)
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        problem(400, "invalid_json", "The body is not valid JSON (UTF-8).")


def _bad(exc):
    problem(400, "bad_query", exc.message, exception="QueryParameterException", field=exc.field,
            problems=getattr(exc, "problems", [{"field": exc.field, "message": exc.message}]))


def _json(body, status=200, headers=None):
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype="application/json",
                    headers=headers or {})


def _json_answers(status, description, *problems):
    """answers() with the success as application/json, as the bindings give /queries and subscriptions."""
    out = answers(status, description, *problems)
    out[str(status)]["content"] = {"application/json": {"schema": {}}}
    return out


def _no_content(description, *problems):
    out = answers(204, description, *problems)
    out["204"] = {"description": description}
    return out


def _view(doc):
    return {"name": doc["name"], "query": doc["query"]}


def _mine(name):
    found = named.get(db(), principal(), name)
    if found is None:  # the same answer for another owner's query as for none
        problem(404, "unknown_query", f"You have no named query {name[:64]}.")
    return found


@blp.route("/queries")
class Queries(MethodView):
    @blp.doc(security=BEARER, responses=_json_answers(200, "Your named queries: [{name, query}].", 400))
    @require(*READERS)
    def get(self):
        """Your named queries (an enterprise's clerks share theirs), by name."""
        return _json([_view(q) for q in named.listed(db(), principal(), _per_page())])

    @blp.doc(security=BEARER, requestBody={"required": True, "content": {"application/json": {
        "schema": {"type": "object", "required": ["name", "query"]},
        "example": {"name": "shipped", "query": {"eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping"]}}}}},
        responses={**_json_answers(201, "Created; its URL is in Location.", 400, 413, 415),
                   "409": {"description": "You have a named query of this name already.",
                           "content": {"application/problem+json": {"schema": PROBLEM},
                                       "application/json": {"schema": PROBLEM}}}})
    @require(*READERS)
    def post(self):
        """Save a SimpleEventQuery under a name; run it at /queries/{name}/events."""
        try:
            doc = named.create(db(), principal(), _body(), now())
        except QueryProblem as exc:
            _bad(exc)
        except named.NameTaken as exc:
            problem(409, "query_exists", str(exc), exception="ResourceAlreadyExistsException")
        location = url_for("epcis-repository.NamedQuery", name=doc["name"])
        return _json(_view(doc), 201, {"Location": location})


@blp.route("/queries/<name>")
class NamedQuery(MethodView):
    @blp.doc(security=BEARER, responses=_json_answers(200, "The named query {name, query}.", 404))
    @require(*READERS)
    def get(self, name):
        """One of your named queries."""
        return _json(_view(_mine(name)))

    @blp.doc(security=BEARER, responses=_no_content("Deleted, with its subscriptions.", 404))
    @require(*READERS)
    def delete(self, name):
        """Delete one of your named queries and every subscription to it."""
        if not named.delete(db(), principal(), name):
            problem(404, "unknown_query", f"You have no named query {name[:64]}.")
        return Response(status=204)


@blp.route("/queries/<name>/events")
class NamedQueryEvents(MethodView):
    @blp.doc(security=BEARER, responses=answers(200, "An EPCISQueryDocument; Link: rel=next when more follow.", 400,
                                                404))
    @require(*READERS)
    def get(self, name):
        """Run one of your named queries over the events you may see (perPage, nextPageToken)."""
        found = _mine(name)
        extra = set(request.args) - {"perPage", "nextPageToken"}
        if extra:
            problem(400, "bad_query", f"{sorted(extra)[0][:40]} cannot be added to a named query's run; only "
                                      "perPage and nextPageToken.", exception="QueryParameterException",
                    field=sorted(extra)[0][:40])
        try:
            filters = named.filters_of(found)
        except QueryProblem as exc:
            _bad(exc)
        return _events_answer(filters or None, query_name=found["name"])


@blp.route("/queries/<name>/subscriptions")
class Subscriptions(MethodView):
    @blp.doc(security=BEARER, responses=_json_answers(200, "The subscriptions to the query.", 404))
    @require(*SUBSCRIBERS)
    def get(self, name):
        """The subscriptions to one of your named queries."""
        return _json([named.subscription_view(s) for s in named.subscriptions(db(), _mine(name))])

    @blp.doc(security=BEARER, requestBody={"required": True, "content": {"application/json": {
        "schema": {"type": "object", "required": ["dest"]},
        "example": {"dest": "https://partner.example.com/epcis/hook", "signatureToken": "a-shared-secret",
                    "stream": True}}}},
        responses=_json_answers(201, "The subscription; its URL is in Location.", 400, 404, 413, 415))
    @require(*SUBSCRIBERS)
    def post(self, name):
        """Subscribe a webhook (https, public) to one of your named queries: stream: true, or a schedule (UTC)."""
        found = _mine(name)
        try:
            doc = named.subscribe(db(), principal(), found, _body(), now())
        except QueryProblem as exc:
            _bad(exc)
        location = url_for("epcis-repository.Subscription", name=name, subscription_id=doc["_id"])
        return _json(named.subscription_view(doc), 201, {"Location": location})


@blp.route("/queries/<name>/subscriptions/<subscription_id>")
class Subscription(MethodView):
    @blp.doc(security=BEARER, responses=_json_answers(200, "The subscription (lastNotifiedAt, failures).", 404))
    @require(*SUBSCRIBERS)
    def get(self, name, subscription_id):
        """One subscription: whether it is active and when it last delivered."""
        found = named.subscription(db(), _mine(name), subscription_id)
        if found is None:
            problem(404, "unknown_subscription", "No such subscription to this query.")
        return _json(named.subscription_view(found))

    @blp.doc(security=BEARER, responses=_no_content("Unsubscribed.", 404))
    @require(*SUBSCRIBERS)
    def delete(self, name, subscription_id):
        """Unsubscribe."""
        if not named.unsubscribe(db(), _mine(name), subscription_id):
            problem(404, "unknown_subscription", "No such subscription to this query.")
        return Response(status=204)
