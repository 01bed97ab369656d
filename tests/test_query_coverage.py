"""Every query the hot paths make is served by an index declared in inspector/store/indexes.py.

Each hot-path request runs through the real HTTP client on the seeded demo data while every database operation it
makes is recorded (collection, operation, filter, sort, and an aggregation's $match, $graphLookup and $lookup
stages). Inserts are writes without a filter and are not recorded; `estimated_document_count` reads collection
metadata, not documents.

The matching rule. Take the filter's conjuncts (top level and `$and`): a field compared to a value, `$eq` or `$in`
is an equality field; `$gt`, `$gte`, `$lt`, `$lte` make a range field; anything else (`$ne`, `$exists`, `$regex`...)
only narrows what an index already found. An index with keys K serves a query when

1. the sort follows K: after a leading run of K's keys that are equality fields, the next keys of K are the
   query's sort keys (sort keys on single-value equality fields dropped), all in the same or all in the reverse
   direction, so MongoDB needs no blocking SORT (an `$in` in the run is merged per value); and
2. K's first key is an equality or range field of the filter; or, for a sorted query whose filter starts no
   declared index at all, K's first key is the first sort key (a paged, index-ordered listing: the filter only
   drops entries as the index is read in order).

`_id` always has its implicit unique index. A filter whose conjuncts no index serves but which holds an `$or` is
served when every branch (with the other conjuncts) is. A `$graphLookup`'s connectToField and a `$lookup`'s
foreignField are equality fields of a query on the `from` collection. A query with no filter and no sort reads the
whole collection, which no index serves. Equality fields of the filter missing from the index are allowed (they
filter what the index found); they are not reported.

With MONGO_URI set, `test_real_mongodb_plans_no_collection_scan` also asks the server to explain every recorded
find and aggregation and fails on any COLLSCAN (or a $lookup joined without an index).
"""
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import mongomock.collection
import pymongo.collection
import pymongo.cursor
import pytest

from conftest import REAL_MONGO, gen_user
from finding_helpers import act, read
from inspector.codes import batch_code
from inspector.ledger import book as ledger_book, rollback as ledger_rollback
from inspector.store.indexes import INDEXES
from seed.loader import build

CASES = build("small")[1]
ID_INDEX = ("_id_", [("_id", 1)])
RANGE_OPS = {"$gt", "$gte", "$lt", "$lte"}
QUERY_OPS = ("find", "find_one", "count_documents", "distinct", "update_one", "update_many", "replace_one",
             "delete_one", "delete_many", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
             "aggregate", "estimated_document_count")
FILTER_LESS = {"find": {}, "find_one": {}, "distinct": {}}


# -- recording ------------------------------------------------------------------------------------------------------

class QueryLog:
    """Every database operation made while it is active, outermost calls only (driver-internal ones are not)."""

    def __init__(self):
        self.ops = []
        self._depth = threading.local()

    def record(self, collection, op, filter=None, sort=None, pipeline=None):
        entry = {"collection": collection, "op": op, "filter": filter, "sort": _sort_list(sort),
                 "pipeline": pipeline}
        self.ops.append(entry)
        return entry

    @contextmanager
    def outermost(self):
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        try:
            yield depth == 0
        finally:
            self._depth.n = depth


def _sort_list(sort):
    if not sort:
        return None
    if isinstance(sort, str):
        return [(sort, 1)]
    if isinstance(sort, dict):
        return list(sort.items())
    return [(s, 1) if isinstance(s, str) else (s[0], s[1]) for s in sort]


def _call_args(op, args, kwargs):
    """(filter, sort, pipeline) of a collection call, however its arguments were passed."""
    if op == "aggregate":
        return None, None, list(args[0] if args else kwargs["pipeline"])
    if op == "estimated_document_count":
        return None, None, None
    if op == "distinct":
        return (args[1] if len(args) > 1 else kwargs.get("filter")) or {}, None, None
    filt = args[0] if args else kwargs.get("filter", FILTER_LESS.get(op))
    return filt or {}, kwargs.get("sort"), None


def _wrap_collection(cls, op, log):
    original = getattr(cls, op)

    def wrapper(self, *args, **kwargs):
        with log.outermost() as outer:
            entry = None
            if outer:
                filt, sort, pipeline = _call_args(op, args, kwargs)
                entry = log.record(self.name, op, filt, sort, pipeline)
            result = original(self, *args, **kwargs)
            if entry is not None and op == "find":
                result._query_entry = entry  # the cursor's .sort() lands on this entry
            return result

    return original, wrapper


def _wrap_sort(cls):
    original = cls.sort

    def sort(self, key_or_list, direction=None):
        entry = getattr(self, "_query_entry", None)
        if entry is not None:
            entry["sort"] = _sort_list([(key_or_list, direction or 1)] if isinstance(key_or_list, str)
                                       else key_or_list)
        return original(self, key_or_list, direction) if direction is not None else original(self, key_or_list)

    return original, sort


@pytest.fixture
def query_log(monkeypatch):
    """A recorder for the database operations of the requests made inside `with recording(log):`."""
    log = QueryLog()
    classes = [(mongomock.collection.Collection, mongomock.collection.Cursor)]
    if REAL_MONGO:
        classes.append((pymongo.collection.Collection, pymongo.cursor.Cursor))
    patches = []
    for collection_cls, cursor_cls in classes:
        for op in QUERY_OPS:
            if hasattr(collection_cls, op):
                patches.append((collection_cls, op, *_wrap_collection(collection_cls, op, log)))
        patches.append((cursor_cls, "sort", *_wrap_sort(cursor_cls)))
    original_find_by_ids = ledger_book.find_by_ids
    ledger_modules = (ledger_book, ledger_rollback)  # the ledger modules that read by _id

    def find_by_ids(collection, ids, fields):
        # The embedded store answers this from its _id-keyed documents without a find; MongoDB runs this find.
        with log.outermost() as outer:
            if outer:
                log.record(collection.name, "find", {"_id": {"$in": list(ids)}})
            return original_find_by_ids(collection, ids, fields)

    @contextmanager
    def recording():
        for cls, op, _, wrapper in patches:
            monkeypatch.setattr(cls, op, wrapper)
        for module in ledger_modules:
            monkeypatch.setattr(module, "find_by_ids", find_by_ids)
        log.ops.clear()
        try:
            yield log
        finally:
            for cls, op, original, _ in patches:
                monkeypatch.setattr(cls, op, original)
            for module in ledger_modules:
                monkeypatch.setattr(module, "find_by_ids", original_find_by_ids)

    return recording


# -- matching -------------------------------------------------------------------------------------------------------

def _is_operator_doc(value):
    return isinstance(value, dict) and value and all(str(k).startswith("$") for k in value)


def analyse(filt):
    """(fields, or_groups): each constrained field's kind ('eq', 'in', 'range' or 'other'), and the $or lists."""
    fields, ors = {}, []

    def note(field, kind):
        rank = {"eq": 3, "in": 2, "range": 1, "other": 0}
        if rank[kind] > rank[fields.get(field, "other")] or field not in fields:
            fields[field] = kind

    def walk(clause):
        for key, value in (clause or {}).items():
            if key == "$and":
                for part in value:
                    walk(part)
            elif key == "$or":
                ors.append(list(value))
            elif key.startswith("$"):
                continue  # $expr, $where, $nor, $comment: no index bounds
            elif _is_operator_doc(value):
                ops = set(value)
                if "$eq" in ops:
                    note(key, "eq")
                elif "$in" in ops:
                    note(key, "eq" if len(value["$in"]) == 1 else "in")
                elif ops & RANGE_OPS:
                    note(key, "range")
                else:
                    note(key, "other")
            else:
                note(key, "eq")

    walk(filt)
    return fields, ors


def _sort_follows(keys, fields, sort):
    """True when the index keys deliver the sort after a run of equality fields (see the module docstring)."""
    wanted = [(f, d) for f, d in (sort or []) if fields.get(f) != "eq"]
    if not wanted:
        return True
    sorted_fields = {f for f, _ in wanted}
    i = 0
    while i < len(keys) and keys[i][0] not in sorted_fields and fields.get(keys[i][0]) in ("eq", "in"):
        i += 1
    window = keys[i:i + len(wanted)]
    if [f for f, _ in window] != [f for f, _ in wanted]:
        return False
    same = all(kd == d for (_, kd), (_, d) in zip(window, wanted))
    reverse = all(kd == -d for (_, kd), (_, d) in zip(window, wanted))
    return same or reverse


def declared_indexes(collection, declared=None):
    """(name, keys) of every index declared for a collection, plus the implicit _id index."""
    models = (declared or INDEXES).get(collection, [])
    return [ID_INDEX] + [(m.document["name"], list(m.document["key"].items())) for m in models]


def serving_index(collection, filt, sort=None, declared=None):
    """The name of a declared index that serves this query under the module's rule, or None."""
    fields, ors = analyse(filt)
    sort_fields = {f for f, _ in (sort or [])}
    indexes = declared_indexes(collection, declared)
    narrowing = [(n, k) for n, k in indexes if fields.get(k[0][0]) in ("eq", "in", "range")]
    for name, keys in narrowing or [(n, k) for n, k in indexes if k[0][0] in sort_fields]:
        if _sort_follows(keys, fields, sort):
            return name
    if ors:
        rest = {k: v for k, v in (filt or {}).items() if k != "$or"} if "$or" in (filt or {}) else None
        branches = []
        for group in ors:
            for branch in group:
                base = rest if rest is not None else _without_or(filt, group)
                branches.append(serving_index(collection, {"$and": [base, branch]}, sort, declared))
        if branches and all(branches):
            return "+".join(dict.fromkeys(branches))
    return None


def _without_or(filt, group):
    """The filter with one $or group taken out (it may sit inside an $and)."""
    if isinstance(filt, dict):
        out = {}
        for key, value in filt.items():
            if key == "$or" and value is group:
                continue
            out[key] = [_without_or(v, group) for v in value] if key == "$and" else value
        return out
    return filt


def queries_of(op):
    """The (collection, filter, sort, what) queries one recorded operation asks the server to run."""
    if op["op"] == "estimated_document_count":
        return []  # answered from the collection's metadata
    if op["op"] != "aggregate":
        return [(op["collection"], op["filter"], op["sort"], op["op"])]
    found, pipeline = [], op["pipeline"]
    first = pipeline[0] if pipeline else {}
    sort = next((s["$sort"] for s in pipeline[1:2] if "$sort" in s), None)
    found.append((op["collection"], first.get("$match", {}), _sort_list(sort), "aggregate $match"))
    for stage in pipeline:
        if "$graphLookup" in stage:
            g = stage["$graphLookup"]
            found.append((g["from"], {g["connectToField"]: "<value>"}, None,
                          f"$graphLookup connectToField {g['connectToField']}"))
        if "$lookup" in stage:
            lk = stage["$lookup"]
            if "foreignField" in lk:
                found.append((lk["from"], {lk["foreignField"]: "<value>"}, None,
                              f"$lookup foreignField {lk['foreignField']}"))
            inner = (lk.get("pipeline") or [{}])[0]
            if "$match" in inner:
                found.append((lk["from"], inner["$match"], None, "$lookup pipeline $match"))
    return found


def _suggest(filt, sort):
    fields, _ = analyse(filt)
    eq = [(f, 1) for f, k in fields.items() if k in ("eq", "in")]
    srt = [(f, d) for f, d in (sort or []) if fields.get(f) != "eq"]
    rng = [(f, 1) for f, k in fields.items() if k == "range" and f not in {s for s, _ in srt}]
    keys = eq + srt + rng
    return keys or "none can serve a read of the whole collection: narrow the filter"


def unserved(path, ops, declared=None):
    """A sentence for every recorded query no declared index serves."""
    problems = []
    for op in ops:
        for collection, filt, sort, what in queries_of(op):
            if serving_index(collection, filt, sort, declared) is None:
                problems.append(f"{path}: {collection}.{what} filter={filt!r} sort={sort!r} has no declared index; "
                                f"missing index on {collection}: {_suggest(filt, sort)}")
    return problems


# -- the matcher can fail --------------------------------------------------------------------------------------------

def test_the_matcher_reports_an_unindexed_filter_a_sort_the_index_cannot_give_and_an_unindexed_lookup():
    # A made-up filter on a field no findings index starts with.
    made_up = [{"collection": "findings", "op": "find", "filter": {"notes": "cracked seal"}, "sort": None,
                "pipeline": None}]
    problems = unserved("made-up", made_up)
    assert len(problems) == 1
    assert "findings" in problems[0] and "'notes'" in problems[0] and "missing index" in problems[0]
    # An indexed filter whose sort the index cannot deliver.
    sorted_wrong = [{"collection": "scans", "op": "find", "filter": {"batch_code": "RE1"},
                     "sort": [("fingerprint", 1)], "pipeline": None}]
    assert unserved("made-up", sorted_wrong) and "fingerprint" in unserved("made-up", sorted_wrong)[0]
    # A $lookup whose foreignField has no index on the joined collection; the $match itself is fine.
    lookup = [{"collection": "batches", "op": "aggregate", "filter": None, "sort": None, "pipeline": [
        {"$match": {"_id": "RE1"}}, {"$lookup": {"from": "scans", "localField": "_id", "foreignField": "device_id",
                                                 "as": "x"}}]}]
    assert [p for p in unserved("made-up", lookup) if "scans.$lookup foreignField device_id" in p]
    assert len(unserved("made-up", lookup)) == 1
    # A whole-collection read, and an $or with one unindexed branch.
    assert unserved("made-up", [{"collection": "enterprises", "op": "find", "filter": {}, "sort": None,
                                 "pipeline": None}])
    assert unserved("made-up", [{"collection": "batches", "op": "find", "sort": None, "pipeline": None,
                                 "filter": {"$or": [{"gs1.gtin": "1", "gs1.lot": "2"}, {"mass_kg": 3}]}}])


def test_the_matcher_accepts_what_mongodb_serves_from_an_index():
    assert serving_index("findings", {"$and": [{"inspector_id": "u"}]}, [("observed_at", -1), ("_id", -1)])
    assert serving_index("findings", {"$and": [{}, {"observed_at": {"$gte": 1, "$lt": 2}}]},
                         [("observed_at", 1), ("_id", 1)])  # reverse direction
    assert serving_index("batches", {"$or": [{"gs1.gtin": "1", "gs1.lot": "2"}, {"gs1.gtin": "1", "gs1.serial": "3"}]})
    assert serving_index("quota_usage", {"enterprise_id": "E", "year": 2026, "category": "c", "used_t": {"$lte": 5}})
    assert serving_index("anything", {"_id": {"$in": ["a", "b"]}}) == "_id_"
    # A declared set without the index fails the same query: the declarations decide.
    assert serving_index("quota_usage", {"enterprise_id": "E"}, declared={"quota_usage": []}) is None


# -- the hot paths ---------------------------------------------------------------------------------------------------

def _scan_body(code, **extra):
    return {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Coverage market"}, **extra}


def _case(predicate):
    return next(c for c in CASES if predicate(c))


def _clean_native():
    return _case(lambda c: c["expected_status"] == "pass" and c["code"].startswith("RE"))


def _gs1_case():
    return _case(lambda c: c["code"].startswith("(01)") and c["expected_status"] == "pass")


def _deep_case():
    return _case(lambda c: "nine levels" in c["description"])


def _scan_native(client, staff, db):
    case = _deep_case()
    r = client.post("/api/scans", json=_scan_body(case["code"], **case["scan"]), headers=staff["inspector"])
    return r, 201


def _scan_gs1(client, staff, db):
    r = client.post("/api/scans", json=_scan_body(_gs1_case()["code"]), headers=staff["inspector"])
    return r, 201


def _scan_clone(client, staff, db):
    code, now = _clean_native()["code"], datetime.now(timezone.utc)
    first = client.post("/api/scans", headers=staff["inspector2"], json=_scan_body(
        code, scanned_at=(now - timedelta(hours=2)).isoformat(), location={"lat": 40.65, "lon": 109.84, "accuracy_m": 10}))
    assert first.status_code == 201, first.json
    staff.log.ops.clear()  # only the second scan, which looks back and finds the clone
    r = client.post("/api/scans", headers=staff["inspector"], json=_scan_body(
        code, scanned_at=now.isoformat(), location={"lat": 22.49, "lon": 113.89, "accuracy_m": 10}))
    assert [x["code"] for x in r.json["verdict"]["reasons"]] == ["cloned_code"], r.json
    return r, 201


def _batch(client, staff, db):
    return client.get(f"/api/batches/{_deep_case()['code']}", headers=staff["inspector"]), 200


def _provenance(client, staff, db):
    return client.get(f"/api/batches/{_deep_case()['code']}/provenance", headers=staff["inspector"]), 200


def _descendants(client, staff, db):
    mine = next(b["_id"] for b in db.batches.find({"stage": "ore"}, {"_id": 1}) if
                db.batches.count_documents({"parent_codes": b["_id"]}, limit=1))
    staff.log.ops.clear()  # the test's own search for a mine with descendants is not the hot path
    return client.get(f"/api/batches/{mine}/descendants", headers=staff["inspector"]), 200


def _a_mine_with_descendants(staff, db, producers=None):
    query = {"stage": "ore", **({"producer_id": {"$in": producers}} if producers else {})}
    mine = next(b["_id"] for b in db.batches.find(query, {"_id": 1}) if
                db.batches.count_documents({"parent_codes": b["_id"]}, limit=1))
    staff.log.ops.clear()
    return mine


def _recall(who):
    def run(client, staff, db):
        jiangxi = [e["_id"] for e in db.enterprises.find({"province": "Jiangxi"}, {"_id": 1})]
        code = _a_mine_with_descendants(staff, db, jiangxi if who == "province_supervisor" else None)
        return client.get(f"/api/recall/{code}", headers=staff[who]), 200
    run.__name__ = f"recall_{who}"
    return run


def _trace(client, staff, db):
    return client.get(f"/api/trace/batches/{_deep_case()['code']}", headers=staff["supervisor"]), 200


def _task_of(client, staff, db):
    code = _clean_native()["code"]
    holder = db.batches.find_one({"_id": code})["holder_id"]
    r = client.post("/api/tasks", headers=staff["supervisor"], json={
        "origin": {"type": "batches", "ref": holder, "batch_codes": [code]}, "assignees": ["inspector"]})
    assert r.status_code == 201, r.json
    return code


def _scan_for_task(client, staff, db):
    code = _task_of(client, staff, db)
    staff.log.ops.clear()
    return client.post("/api/scans", json=_scan_body(code), headers=staff["inspector"]), 201


def _task_listing(who, path):
    def run(client, staff, db):
        _task_of(client, staff, db)
        staff.log.ops.clear()
        return client.get(path, headers=staff[who]), 200
    run.__name__ = f"tasks_{who}"
    return run


def _send_to_enterprise(client, staff, db):
    r = client.post("/api/inspections", headers=staff["inspector"], json={
        "client_id": str(uuid.uuid4()), "enterprise_id": "ENT-GMT", "discrepancies": ["over_quota"],
        "site": {"type": "market", "name": "Market 9"}, "observed_at": datetime.now(timezone.utc).isoformat()})
    assert act(client, staff["supervisor"], r.json["id"], "confirm").status_code == 200
    _, etag = read(client, staff["supervisor"], r.json["id"])
    staff.log.ops.clear()
    return act(client, staff["supervisor"], r.json["id"], "send_to_enterprise", etag=etag), 200


def _listing(who, path):
    def run(client, staff, db):
        return client.get(path, headers=staff[who]), 200
    run.__name__ = f"list_{who}"
    return run


NEW_CODE = "RE9ABCDEFG"
NEW_CODE += batch_code.check_character(NEW_CODE)


def _production(client, staff, db):
    day = datetime.now(timezone.utc).date().isoformat()
    events = [{"event_id": f"QC-{uuid.uuid4().hex[:8]}", "type": "production", "enterprise_id": "ENT-NSM",
               "occurred_at": day, "outputs": [{"code": NEW_CODE, "stage": "ore", "product_type":
                                                "bastnaesite_concentrate", "mass_kg": 20000, "reo_pct": 55.0}]}]
    r = client.post("/api/ledger/submissions", json={"events": events}, headers=staff["ENT-NSM"])
    return r, 201


def _ship_and_receive(client, staff, db):
    # A receipt naming its batch by GS1 makes the intake prefetch the GS1 name and the stored shipment.
    day = datetime.now(timezone.utc).date().isoformat()
    held = db.batches.find_one({"gs1.gtin": _gs1_case()["code"][4:18]})
    sender, code = held["holder_id"], held["_id"]
    receiver = "ENT-BMM" if sender != "ENT-BMM" else "ENT-GMT"
    doc = f"WB-{uuid.uuid4().hex[:6]}"
    ship = client.post("/api/ledger/submissions", headers=staff[sender], json={"events": [
        {"event_id": f"S-{doc}", "type": "shipment", "enterprise_id": sender, "occurred_at": day, "code": code,
         "mass_kg": held["remaining_kg"], "to_id": receiver, "doc_no": doc}]})
    assert ship.status_code == 201, ship.json["errors"]["receipt"]["errors"]
    staff[receiver]  # signed in before the recording of the receipt
    staff.log.ops.clear()
    r = client.post("/api/ledger/submissions", headers=staff[receiver], json={"events": [
        {"event_id": f"R-{doc}", "type": "receipt", "enterprise_id": receiver, "occurred_at": day,
         "gs1": {"gtin": held["gs1"]["gtin"], "lot": held["gs1"]["lot"]}, "from_id": sender, "doc_no": doc}]})
    return r, 201


HOT_PATHS = {
    "scan-native": _scan_native,
    "scan-gs1": _scan_gs1,
    "scan-cloned-code-look-back": _scan_clone,
    "batch-lookup": _batch,
    "provenance": _provenance,
    "descendants": _descendants,
    "findings-supervisor": _listing("supervisor", "/api/inspections?sort=-observed_at"),
    "findings-supervisor-status": _listing("supervisor", "/api/inspections?status=submitted&sort=-observed_at"),
    "findings-supervisor-reason": _listing("supervisor", "/api/inspections?reason=over_quota"),
    "findings-supervisor-severity": _listing("supervisor", "/api/inspections?severity=high"),
    "findings-supervisor-site-type": _listing("supervisor", "/api/inspections?site_type=market"),
    "findings-supervisor-enterprise": _listing("supervisor", "/api/inspections?enterprise_id=ENT-GMT"),
    "findings-supervisor-observed-range": _listing(
        "supervisor", "/api/inspections?observed_from=2025-01-01T00:00:00Z&observed_to=2030-01-01T00:00:00Z"),
    "findings-supervisor-overdue-by-deadline": _listing("supervisor", "/api/inspections?overdue=true&sort=deadline"),
    "findings-supervisor-oldest-received": _listing("supervisor", "/api/inspections?sort=received_at"),
    "findings-supervisor-updated": _listing("supervisor", "/api/inspections?sort=-updated_at"),
    "findings-province-supervisor": _listing("province_supervisor", "/api/inspections?sort=-observed_at"),
    "findings-province-supervisor-status": _listing("province_supervisor", "/api/inspections?status=submitted"),
    "findings-inspector": _listing("inspector", "/api/inspections"),
    "findings-inspector-history": _listing("inspector", "/api/inspections?page_size=50&sort=-received_at"),
    "findings-enterprise": _listing("enterprise", "/api/inspections"),
    "findings-enterprise-history": _listing("enterprise", "/api/inspections?page_size=50&sort=-received_at"),
    "scans-supervisor": _listing("supervisor", "/api/scans?page_size=50"),
    "scans-supervisor-batch": _listing("supervisor", f"/api/scans?batch_code={CASES[0]['code']}"),
    "scans-inspector": _listing("inspector", "/api/scans?page_size=50"),
    "scans-inspector-batch": _listing("inspector", f"/api/scans?batch_code={CASES[0]['code']}"),
    "held-batches-clerk": _listing("ENT-NSM", "/api/batches"),
    "held-batches-clerk-active-ore": _listing("ENT-NSM", "/api/batches?status=active&stage=ore&after=RE2"),
    "held-batches-supervisor-prefix": _listing("supervisor", "/api/batches?enterprise_id=ENT-NSM&code_prefix=RE3"),
    "quota-update-production": _production,
    "recall-supervisor": _recall("supervisor"),
    "recall-province-supervisor": _recall("province_supervisor"),
    "trace": _trace,
    "tasks-supervisor": _task_listing("supervisor", "/api/tasks"),
    "tasks-supervisor-overdue": _task_listing("supervisor", "/api/tasks?overdue=true"),
    "tasks-province-supervisor": _task_listing("province_supervisor", "/api/tasks"),
    "tasks-inspector-mine": _task_listing("inspector", "/api/tasks/mine"),
    "tasks-scan-completes-item": _scan_for_task,
    "tasks-stats-of-a-recall": _task_listing("supervisor", "/api/tasks/stats?origin_ref=RE2BBVCP6ZD"),
    "tasks-stats-province-supervisor": _task_listing("province_supervisor", "/api/tasks/stats"),
    "intake-prefetch-receipt": _ship_and_receive,
    "inbox-enterprise-unread": _listing("enterprise", "/api/notifications?unread=true"),
    "notify-finding-sent": _send_to_enterprise,
}

# What each kind of hot path must have been seen doing, so a recorder that sees nothing cannot pass.
EXPECTED = {
    "scan": [("batches", "$graphLookup connectToField _id"), ("scans", "$lookup foreignField batch_code"),
             ("movements", "$lookup foreignField batch_code"), ("approvals", "$lookup foreignField enterprise_id"),
             ("transfer_claims", "$lookup foreignField batch_code"), ("enterprises", "$lookup foreignField _id")],
    "batch-lookup": [("batches", "$graphLookup connectToField _id")],
    "provenance": [("batches", "$graphLookup connectToField _id")],
    "descendants": [("batches", "$graphLookup connectToField parent_codes")],
    "findings": [("findings", "find")],
    "held-batches": [("batches", "find")],
    "scans": [("scans", "find")],
    "quota-update": [("quota_usage", "find_one_and_update"), ("ledger_events", "find")],
    "recall": [("batches", "$graphLookup connectToField parent_codes"), ("scans", "aggregate $match")],
    "trace": [("batches", "$graphLookup connectToField _id")],
    # A scan reads the open tasks naming its batch in its one aggregation (index item_batch_status).
    "tasks-scan": [("tasks", "$lookup foreignField items.batch_code"), ("tasks", "update_one")],
    "tasks": [("tasks", "find")],
    "tasks-stats": [("tasks", "aggregate $match")],
    "intake-prefetch": [("movements", "find"), ("ledger_events", "find"), ("batches", "find"),
                        ("enterprises", "find")],
    "inbox": [("notifications", "find"), ("notifications", "count_documents")],
    "notify": [("users", "find"), ("notification_settings", "find"), ("webhooks", "find")],
}


class Staff(dict):
    """Sign-in headers by demo user name or enterprise id (a clerk of it), made before recording starts."""

    def __init__(self, clerks, auth, db):
        super().__init__()
        self.clerks, self.auth, self.db, self.log = clerks, auth, db, None

    def __missing__(self, key):
        if key in ("inspector2", "enterprise"):
            self[key] = self.auth.headers(key)
        elif key == "province_supervisor":
            user, password = gen_user(self.db, role="supervisor", provinces=["Jiangxi"])
            self[key] = self.auth.headers(user["username"], password)
        else:
            self[key] = self.clerks[key]
        return self[key]


@pytest.fixture
def staff(clerks, auth, db):
    signed_in = Staff(clerks, auth, db)
    for key in ("inspector", "inspector2", "supervisor", "province_supervisor", "enterprise", "ENT-NSM"):
        signed_in[key]
    return signed_in


@pytest.fixture
def findings_logged(client, staff, db):
    """Findings in every listing's scope: three logged by the inspector, the last sent to the demo enterprise."""
    enterprise_id = db.users.find_one({"username": "enterprise"})["enterprise_id"]
    for n in range(3):
        r = client.post("/api/inspections", headers=staff["inspector"], json={
            "client_id": str(uuid.uuid4()), "enterprise_id": enterprise_id, "discrepancies": ["over_quota"],
            "site": {"type": "market", "name": f"Market {n}"},
            "observed_at": (datetime.now(timezone.utc) - timedelta(days=n)).isoformat()})
        assert r.status_code in (200, 201), r.json
    for action in ("confirm", "send_to_enterprise"):  # the last one reaches the enterprise's list
        sent = act(client, staff["supervisor"], r.json["id"], action)
        assert sent.status_code == 200, sent.json
    return enterprise_id


def _recorded_kinds(ops):
    return {(c, w) for op in ops for c, _, _, w in queries_of(op)}


def _run(path, client, staff, db, query_log):
    """Send the hot path's request with the recorder on; return what it recorded."""
    with query_log() as log:
        staff.log = log
        response, status = HOT_PATHS[path](client, staff, db)
    assert response.status_code == status, response.json
    return log


@pytest.mark.parametrize("path", HOT_PATHS)
def test_every_hot_path_query_is_served_by_a_declared_index(path, client, staff, db, query_log, findings_logged):
    log = _run(path, client, staff, db, query_log)
    kind = next(k for k in sorted(EXPECTED, key=len, reverse=True) if path.startswith(k))
    seen = _recorded_kinds(log.ops)
    missing = [e for e in EXPECTED[kind] if e not in seen]
    assert not missing, f"{path}: the recorder saw none of {missing}; it saw {sorted(seen)}"
    problems = unserved(path, log.ops)
    assert not problems, "\n".join(problems)


# -- `flask db init` applies the declarations ------------------------------------------------------------------------

def test_db_init_creates_every_declared_index_and_is_idempotent(app, runner):
    from api.context import db as app_db

    with app.app_context():
        database = app_db()
        for name in database.list_collection_names():
            database.drop_collection(name)
    first = runner.invoke(args=["db", "init"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["db", "init"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        database = app_db()
        for collection, models in INDEXES.items():
            assert collection in first.output
            info = database[collection].index_information()
            for model in models:
                spec = model.document
                assert spec["name"] in info, f"db init did not create {collection}.{spec['name']}"
                made = info[spec["name"]]
                assert [tuple(k) for k in made["key"]] == list(spec["key"].items())
                for option in ("unique", "sparse", "expireAfterSeconds"):
                    assert bool(made.get(option)) == bool(spec.get(option)), (collection, spec["name"], option)


# -- a real MongoDB's own plans ---------------------------------------------------------------------------------------

def _plan_problems(explained):
    """Every COLLSCAN stage, and every $lookup joined without an index, anywhere in an explain answer."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("stage") == "COLLSCAN":
                found.append("COLLSCAN")
            if node.get("strategy") in ("NestedLoopJoin", "HashJoin"):
                found.append(f"$lookup by {node['strategy']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(explained)
    return found


def _explain(db, op):
    if op["op"] == "aggregate":
        command = {"aggregate": op["collection"], "pipeline": op["pipeline"], "cursor": {}}
    else:
        command = {"find": op["collection"], "filter": op["filter"] or {}}
        if op["sort"]:
            command["sort"] = dict(op["sort"])
    return db.command("explain", command, verbosity="queryPlanner")


@pytest.mark.requires_mongo
@pytest.mark.parametrize("path", HOT_PATHS)
def test_real_mongodb_plans_no_collection_scan(path, client, staff, db, query_log, findings_logged):
    log = _run(path, client, staff, db, query_log)
    ops = [op for op in log.ops if op["op"] != "estimated_document_count"]
    assert ops, f"{path}: nothing was recorded"
    problems = []
    for op in ops:
        found = _plan_problems(_explain(db, op))
        if found:
            problems.append(f"{path}: {op['collection']}.{op['op']} filter={op['filter']!r} sort={op['sort']!r} "
                            f"pipeline={op['pipeline']!r}: {', '.join(found)}")
    assert not problems, "\n".join(problems)
