"""Scan latency (p50, p95) on the embedded store with the small dataset, and MongoDB round trips per scan by
lineage depth, against a naive baseline that reads one ancestor per query."""
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import context, create_app  # noqa: E402
from bench.roundtrips import CountingDatabase, Counter  # noqa: E402
from inspector.store import connection as store  # noqa: E402

ROUNDS = 5


def naive_ancestor_reads(db, code):
    """What a walk with one find per ancestor would cost: the baseline."""
    reads, frontier, seen = 1, [code], set()
    while frontier:
        nxt = []
        for c in frontier:
            batch = db.batches.find_one({"_id": c}, {"parent_codes": 1})
            reads += 1
            for p in (batch or {}).get("parent_codes", []):
                if p not in seen:
                    seen.add(p)
                    nxt.append(p)
        frontier = nxt
    return reads


def main():
    app = create_app()
    client = app.test_client()
    token = client.post("/api/auth/login", json={"username": "inspector", "password": "demo"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    cases = client.get("/api/demo/cases").json
    with app.app_context():
        real_db = context.db()
    counter = Counter()
    counting = CountingDatabase(real_db, counter)
    original = store.database
    store.database = lambda settings, name=None: counting

    def scan(code, scan_ctx):
        body = {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
                **scan_ctx}
        body.setdefault("site", {"type": "market", "name": "bench"})
        counter.reset()
        started = time.perf_counter()
        response = client.post("/api/scans", json=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 201, response.json
        return elapsed, counter.count, response.json

    timings = []
    for _ in range(ROUNDS):
        for case in cases:
            scan_ctx = {k: v for k, v in case["scan"].items() if k != "location"}
            timings.append(scan(case["code"], scan_ctx)[0])
    health = []
    for _ in range(len(timings)):
        started = time.perf_counter()
        client.get("/healthz")
        health.append((time.perf_counter() - started) * 1000)
    q = statistics.quantiles(timings, n=20)
    print(f"scans on the embedded store, small dataset: {len(timings)} requests")
    print(f"  p50 {statistics.median(timings):7.1f} ms   p95 {q[18]:7.1f} ms")
    print(f"  baseline GET /healthz p50 {statistics.median(health):.2f} ms -> scan/health ratio "
          f"{statistics.median(timings) / statistics.median(health):.0f}x")

    print("\nMongoDB round trips per scan with a GPS fix (session; batch+lineage+ledger+sightings+claims+enterprises")
    print("+tasks in one aggregation; scan insert, audit entry, audit head, promise cleared), by lineage depth,")
    print("against one query per ancestor:")
    print(f"  {'depth':>5} {'ours':>5} {'naive walk':>11} {'ratio':>6}  code")
    by_depth = {}
    here = {"location": {"lat": 31.23, "lon": 121.47, "accuracy_m": 10}}
    for b in real_db.batches.find({"status": "active"}, {"_id": 1}).limit(400):
        _, trips, body = scan(b["_id"], here)
        depth = body["provenance"]["depth"]
        by_depth.setdefault(depth, (b["_id"], trips))
    deep = next(c for c in cases if "nine levels" in c["description"])
    _, trips, body = scan(deep["code"], here)
    by_depth[body["provenance"]["depth"]] = (deep["code"], trips)
    calls = list(counter.calls)  # the deepest scan's
    store.database = original
    for depth in sorted(by_depth):
        code, trips = by_depth[depth]
        # The naive walk also reads the enterprises, the open claims and the open tasks in a query each.
        naive = naive_ancestor_reads(real_db, code) + 3 + (trips - 2)
        print(f"  {depth:>5} {trips:>5} {naive:>11} {naive / trips:>5.1f}x  {code}")
    print("  the calls of the deepest scan: " + ", ".join(calls))


if __name__ == "__main__":
    main()
