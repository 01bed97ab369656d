"""What only a real MongoDB can show: index use, $graphLookup depth, write concern. Skipped on mongomock."""
import pytest

from inspector.verdict.lineage import MAX_DEPTH, fetch_batch
from inspector.store.connection import DURABLE_WRITE_CONCERN, durable

pytestmark = pytest.mark.requires_mongo


def test_graphlookup_reports_generations(seeded, db):
    deep = next(c for c in seeded if "nine levels" in c["description"])
    batch = fetch_batch(db, {"_id": deep["code"]})
    assert max(a["depth"] for a in batch["ancestors"]) + 1 == 9 <= MAX_DEPTH


def test_scan_lookups_use_indexes(seeded, db):
    plan = db.command("explain", {"find": "batches", "filter": {"gs1.gtin": "06952102470103", "gs1.lot": "X"}},
                      verbosity="queryPlanner")
    assert "IXSCAN" in str(plan["queryPlanner"]["winningPlan"])
    plan = db.command("explain", {"find": "batches", "filter": {"parent_codes": "X"}}, verbosity="queryPlanner")
    assert "IXSCAN" in str(plan["queryPlanner"]["winningPlan"])


def test_evidence_writes_wait_for_a_journaled_majority(db):
    collection = durable(db, "write_concern_probe")
    assert collection.write_concern == DURABLE_WRITE_CONCERN
    assert collection.insert_one({"probe": True}).acknowledged
