"""Inspection tasks: supervisors send inspectors to check batches; inspectors read their tasks and scan them."""
from flask.views import MethodView
from flask_smorest import Blueprint

from inspector.tasks import progress, records, stats

from .auth import BEARER, principal, require
from .context import db, now
from .errors import error_docs
from .preconditions import IF_MATCH, if_match_tags
from .schemas.tasks import (TaskBatchSchema, TaskChangeSchema, TaskCreateSchema, TaskListQuerySchema, TaskSchema,
                             TaskStatsSchema)

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks",
                description="Inspection tasks: the batches to check, where, by when, by whom, and what was found.")
SUPERVISORS = ("supervisor", "admin")
ERROR_ANSWERS = {
    401: "No valid access token: sign in.",
    403: "Your role may not do this, or the pool's province is outside your scope (province_out_of_scope).",
    409: "The task is not an open pool task, so it cannot be claimed (error_code not_a_pool_task).",
    404: "No such task (or origin batch, finding, enterprise) within your scope; the same whether it exists or not.",
    412: "If-Match holds an old ETag: the task changed since you read it.",
    422: "A bad field: unknown inspectors, a due date in the past, nothing to check, unknown batch codes.",
    428: "If-Match is missing: read the task and send its ETag.",
}
errors = error_docs(blp, ERROR_ANSWERS)


def _with_etag(task, status=200):
    return progress.view(task, now()), status, {"ETag": f'"{task["_etag"]}"'}


@blp.route("")
class Tasks(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(TaskListQuerySchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    @blp.paginate()
    @errors(401, 403, 422)
    @require(*SUPERVISORS)
    def get(self, query, pagination_parameters):
        """Tasks in your scope, soonest due first, each with its progress (open, done, overdue) and findings."""
        found, pagination_parameters.item_count = records.list_tasks(
            db(), principal(), query, pagination_parameters.first_item, pagination_parameters.page_size, now())
        return [progress.view(t, now()) for t in found]

    @blp.doc(security=BEARER)
    @blp.arguments(TaskCreateSchema)
    @blp.response(201, TaskBatchSchema)
    @errors(401, 403, 404, 422)
    @require(*SUPERVISORS)
    def post(self, body):
        """Turn a recall list, a risk-ranking row, a finding or a list of batches into tasks (one per enterprise)."""
        made = records.create(db(), principal(), body, now())
        return {"tasks": [progress.view(t, now()) for t in made]}


@blp.route("/stats")
class Stats(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(TaskListQuerySchema, location="query")
    @blp.response(200, TaskStatsSchema)
    @errors(401, 403, 422)
    @require(*SUPERVISORS)
    def get(self, query):
        """How the tasks in your scope stand (the list's filters apply): by status, overdue, items checked, findings,
        and per province; `origin_ref` gives the progress of one recall."""
        return stats.task_stats(db(), principal(), query, now())


@blp.route("/mine")
class MyTasks(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(TaskListQuerySchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    @blp.paginate()
    @errors(401, 403, 422)
    @require("inspector")
    def get(self, query, pagination_parameters):
        """My tasks (assigned to me, or in a pool), with the batches to scan: enough to work offline."""
        query = {**query, "status": query.get("status") or ["open"]}
        found, pagination_parameters.item_count = records.list_tasks(
            db(), principal(), query, pagination_parameters.first_item, pagination_parameters.page_size, now())
        return [progress.view(t, now()) for t in found]


@blp.route("/<task_id>")
class Task(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, TaskSchema)
    @errors(401, 403, 404)
    @require("inspector", *SUPERVISORS)
    def get(self, task_id):
        """One task with its items and progress; its ETag in a header."""
        return _with_etag(records.find_visible(db(), principal(), task_id))

    @blp.doc(security=BEARER, parameters=[IF_MATCH])
    @blp.arguments(TaskChangeSchema)
    @blp.response(200, TaskSchema)
    @errors(401, 403, 404, 412, 422, 428)
    @require(*SUPERVISORS)
    def patch(self, body, task_id):
        """Change the due date, inspectors, pool or title, or cancel (reopen) the task; If-Match the ETag read."""
        task = records.find_visible(db(), principal(), task_id)
        tags = if_match_tags("task")
        expected = task["_etag"] if task["_etag"] in tags else tags[0]
        return _with_etag(records.change(db(), principal(), task, body, expected, now()))


@blp.route("/<task_id>/claim")
class Claim(MethodView):
    @blp.doc(security=BEARER, parameters=[IF_MATCH])
    @blp.response(200, TaskSchema)
    @errors(401, 403, 404, 409, 412, 428)
    @require("inspector")
    def post(self, task_id):
        """Take a pool task as yours (If-Match the ETag read): two inspectors claiming at once cannot both win."""
        task = records.find_visible(db(), principal(), task_id)
        tags = if_match_tags("task")
        expected = task["_etag"] if task["_etag"] in tags else tags[0]
        return _with_etag(records.claim(db(), principal(), task, expected, now()))
