"""Recall and trace on the seeded medium dataset (embedded store): time and MongoDB round trips against naive walks.

Ours: the recall is four reads (the source, one bounded $graphLookup over parent_codes, the holders by $in, the last
scans by one aggregation) and the trace two (the batch with every ancestor, then their enterprises), whatever the
depth and breadth. The baselines walk the same lineage the way a first version would: one query per generation
(`parent_codes $in` the frontier), and one query per batch (its children, its holder, its last scan).
Run: python bench/recall.py [--scale small|medium]
"""
import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.roundtrips import CountingDatabase, Counter  # noqa: E402
from inspector.oversight import recall, trace  # noqa: E402
from inspector.store.connection import database  # noqa: E402
from inspector.settings import load_settings  # noqa: E402
from seed.loader import load  # noqa: E402

SOURCES = 30


def per_generation(db, code):
    """One query per generation for the batches, then their holders and last scans by $in: the gentle baseline."""
    reached, frontier = [], [code]
    while frontier:
        found = list(db.batches.find({"parent_codes": {"$in": frontier}}))
        found = [b for b in found if b["_id"] not in {r["_id"] for r in reached}]
        reached += found
        frontier = [b["_id"] for b in found]
    holders = sorted({b["holder_id"] for b in reached})
    list(db.enterprises.find({"_id": {"$in": holders}}))
    for b in reached:
        db.scans.find_one({"batch_code": b["_id"]}, sort=[("received_at", -1)])
    return reached


def per_batch(db, code):
    """One query per batch for its children, its holder and its last scan: the naive walk."""
    reached, frontier, seen = [], [code], {code}
    while frontier:
        nxt = []
        for c in frontier:
            for child in db.batches.find({"parent_codes": c}):
                if child["_id"] not in seen:
                    seen.add(child["_id"])
                    reached.append(child)
                    nxt.append(child["_id"])
        frontier = nxt
    for b in reached:
        db.enterprises.find_one({"_id": b["holder_id"]})
        db.scans.find_one({"batch_code": b["_id"]}, sort=[("received_at", -1)])
    return reached


def measure(fn, counter, codes):
    counter.reset()
    started = time.perf_counter()
    sizes = [fn(code) for code in codes]
    return (time.perf_counter() - started) * 1000 / len(codes), counter.count / len(codes), sizes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="medium", choices=("small", "medium"))
    args = parser.parse_args()
    settings = load_settings()
    real = database(settings, f"bench_recall_{uuid.uuid4().hex[:6]}")
    started = time.perf_counter()
    load(real, args.scale)
    print(f"{args.scale} dataset loaded in {time.perf_counter() - started:.1f} s: "
          f"{real.batches.estimated_document_count()} batches, {real.scans.estimated_document_count()} scans")
    counter = Counter()
    db = CountingDatabase(real, counter)
    # The sources with the widest reach: mines' ore whose material went furthest.
    children = {}
    for b in real.batches.find({}, {"parent_codes": 1}):
        for p in b.get("parent_codes", []):
            children.setdefault(p, []).append(b["_id"])

    def width(code):
        seen, frontier = set(), [code]
        while frontier:
            frontier = [c for p in frontier for c in children.get(p, []) if c not in seen and not seen.add(c)]
        return len(seen)

    ores = [b["_id"] for b in real.batches.find({"stage": "ore"}, {"_id": 1})]
    reach = sorted(((width(c), c) for c in ores), reverse=True)
    codes = [c for n, c in reach[:SOURCES] if n]
    ours_ms, ours_rt, found = measure(lambda c: recall.reach(db, c), counter, codes)
    gen_ms, gen_rt, gen_found = measure(lambda c: per_generation(db, c), counter, codes)
    naive_ms, naive_rt, naive_found = measure(lambda c: per_batch(db, c), counter, codes)
    assert [len(f["rows"]) for f in found] == [len(x) for x in gen_found] == [len(x) for x in naive_found]
    rows = [len(f["rows"]) for f in found]
    print(f"\nrecall of the {len(codes)} widest-reaching ore batches: {min(rows)}-{max(rows)} batches reached "
          f"(mean {sum(rows) / len(rows):.1f}), per recall:")
    print(f"  {'':28} {'ms':>8} {'round trips':>12} {'time ratio':>11} {'trips ratio':>12}")
    for name, ms, rt in (("ours ($graphLookup)", ours_ms, ours_rt), ("one query per generation", gen_ms, gen_rt),
                         ("one query per batch", naive_ms, naive_rt)):
        print(f"  {name:28} {ms:8.2f} {rt:12.1f} {ms / ours_ms:10.2f}x {rt / ours_rt:11.2f}x")
    deep = [c for c in (f["rows"][-1]["code"] for f in found if f["rows"])][:SOURCES]
    tr_ms, tr_rt, _ = measure(lambda c: trace.trace(db, c), counter, deep)
    print(f"\ntrace from a reached batch back to its sources: {tr_ms:.2f} ms, {tr_rt:.1f} round trips per trace")
    print("(the embedded store runs $graphLookup in Python: times here are mongomock's, not a server's)")
    real.client.drop_database(real.name)


if __name__ == "__main__":
    main()
