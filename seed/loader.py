"""Build the demo dataset and load it into a database, idempotently."""
import functools
import logging
import time
from datetime import datetime, timedelta, timezone

from pymongo import ReplaceOne

from inspector.store.indexes import apply_indexes

from .cases import Planter
from .flow import generate_flow
from .ledger import Ledger

log = logging.getLogger(__name__)

SEED = 20250219  # the date of the source article; fixed so every load is the same
DATASET_VERSION = 5  # 5: every batch's history as ledger events (seed/histories.py)
CHUNK = 5000


def today_utc():
    """Midnight UTC today: the dataset's as-of date, so re-runs on the same day are identical."""
    return datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


@functools.lru_cache(maxsize=4)
def build(scale="small", as_of=None):
    """Return ({collection: documents}, cases) for a scale and as-of date (cached per process)."""
    as_of = as_of or today_utc()
    ledger = Ledger(SEED, as_of)
    generate_flow(ledger, scale)
    cases = Planter(ledger).plant()
    return ledger.documents(), cases


def load(db, scale="small", as_of=None, now=None, force=False):
    """Load the dataset into db: upserts by fixed ids, so a re-run duplicates nothing. Returns a summary."""
    started = time.perf_counter()
    as_of = as_of or today_utc()
    now = now or datetime.now(timezone.utc)
    current = db.dataset_info.find_one({"_id": "current"})
    if not force and current and (current["scale"], current["version"]) == (scale, DATASET_VERSION) \
            and current["as_of"].replace(tzinfo=timezone.utc) == as_of:
        return {"scale": scale, "as_of": as_of.date().isoformat(), "seconds": 0.0, "already_loaded": True,
                **current["counts"]}
    documents, cases = build(scale, as_of)
    counts = {}
    for collection, docs in documents.items():
        if collection == "scans":
            docs = [_fresh_scan(doc, now) for doc in docs]
        counts[collection] = _upsert(db[collection], docs)
    _upsert(db.demo_cases, [{**c, "_id": f"case-{c['order']:03d}"} for c in cases])
    info = {"_id": "current", "scale": scale, "as_of": as_of, "version": DATASET_VERSION, "seed": SEED,
            "counts": counts, "cases": len(cases), "loaded_at": now}
    db.dataset_info.replace_one({"_id": "current"}, info, upsert=True)
    # After the data: the embedded store checks unique indexes document by document, quadratically.
    apply_indexes(db)
    seconds = time.perf_counter() - started
    return {"scale": scale, "as_of": as_of.date().isoformat(), "seconds": round(seconds, 2), **counts}


def _fresh_scan(doc, now):
    """Seeded scans are placed minutes before the load, so the cloned-code cases work in a live demo."""
    when = now - timedelta(minutes=doc["minutes_before_load"])
    return {**doc, "scanned_at": when, "received_at": when}


def _upsert(collection, docs):
    if not docs:
        return 0
    if collection.estimated_document_count() == 0:
        # Bulk loads go faster with indexes built afterwards (load() re-applies them).
        collection.drop_indexes()
        for i in range(0, len(docs), CHUNK):
            collection.insert_many([dict(d) for d in docs[i:i + CHUNK]], ordered=False)
    elif type(collection).__module__.startswith("mongomock"):
        # mongomock's bulk_write does not accept pymongo 4's ReplaceOne.
        for d in docs:
            collection.replace_one({"_id": d["_id"]}, d, upsert=True)
    else:
        for i in range(0, len(docs), CHUNK):
            collection.bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs[i:i + CHUNK]],
                                  ordered=False)
    return len(docs)


def load_demo(db, scale="small"):
    """Load the dataset and the demo users into the embedded store."""
    from seed.users import ensure_demo_users

    summary = load(db, scale)
    ensure_demo_users(db)
    from .findings import load_demo_findings
    summary["findings"] = load_demo_findings(db)
    from .recall_case import plant
    plant(db)  # the planted recall: a source 10% of a feed, reaching four holders in three provinces
    return summary
