"""Findings on the embedded store: throughput of listing, filtering, stats and export with 20,000 findings, and
export peak memory for 10,000 against 100,000 rows, each measured in its own process.

    python bench/findings.py              # everything
    python bench/findings.py --quick      # 2,000 findings and 1,000 vs 10,000 rows, to try it out

Not a test: it prints figures.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import context, create_app  # noqa: E402
from seed import users as demo_users
from inspector.findings import exports
from inspector.store.indexes import INDEXES  # noqa: E402
from seed.enterprises import enterprise_docs  # noqa: E402
from seed.findings import bulk_findings  # noqa: E402

INSPECTORS = [{"user_id": f"bench-inspector-{i}", "username": f"bench{i}", "role": "inspector"} for i in range(25)]
FILTERS = [
    "status=awaiting_response&overdue=true",
    "province=Jiangxi",
    "reason=unrecorded_transfer&severity=high",
    "enterprise_id=ENT-GMT&status=submitted",
    "site_type=port&observed_from=2025-01-01",
    f"inspector_id={INSPECTORS[3]['user_id']}",
]


def build(count):
    """An app on a fresh embedded database holding `count` findings; returns (app, client, supervisor headers)."""
    app = create_app({"MONGO_DB": f"bench_{uuid.uuid4().hex}", "SEED_DEMO": False, "SECRET_KEY": "bench"})
    with app.app_context():
        db = context.db()
        db.enterprises.insert_many(enterprise_docs())
        demo_users.ensure_demo_users(db)
        # The embedded store checks a unique index document by document on insert: load first, index after.
        db.findings.drop_indexes()
        batch = []
        for doc in bulk_findings(count, INSPECTORS):
            batch.append(doc)
            if len(batch) == 5000:
                db.findings.insert_many(batch)
                batch = []
        if batch:
            db.findings.insert_many(batch)
        db.findings.create_indexes(INDEXES["findings"])
    client = app.test_client()
    token = client.post("/api/auth/login", json={"username": "supervisor", "password": "demo"}).json["access_token"]
    return app, client, {"Authorization": f"Bearer {token}"}


def rate(label, requests, run):
    """Time `requests` calls of run(i) and print requests per second."""
    started = time.perf_counter()
    for i in range(requests):
        run(i)
    seconds = time.perf_counter() - started
    print(f"  {label:<44} {requests / seconds:8.1f} req/s   ({seconds / requests * 1000:6.1f} ms each)")


def drain(response):
    """Read a streamed body chunk by chunk, as a client would, and return its size."""
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    return size


def throughput(count):
    print(f"Throughput on the embedded store with {count:,} findings (supervisor, all provinces)")
    started = time.perf_counter()
    _, client, headers = build(count)
    print(f"  (loaded in {time.perf_counter() - started:.1f} s)")

    def get(url):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        return response

    rate("list, 50 per page, newest first", 20, lambda i: get(f"/api/inspections?page={i + 1}&page_size=50"))
    rate("list, sorted by deadline", 10, lambda i: get(f"/api/inspections?sort=deadline&page={i + 1}"))
    rate("filtered list (6 filter mixes, rotating)", 24, lambda i: get(f"/api/inspections?{FILTERS[i % len(FILTERS)]}"))
    rate("stats (4 groupings + overdue count)", 5, lambda i: get("/api/inspections/stats"))
    finding_id = get("/api/inspections?page_size=1").json[0]["id"]
    rate("one finding by id", 50, lambda i: get(f"/api/inspections/{finding_id}"))
    for fmt in ("csv", "xlsx", "geojson"):
        started = time.perf_counter()
        size = drain(get(f"/api/inspections/export?format={fmt}"))
        seconds = time.perf_counter() - started
        print(f"  export {fmt:<8} all {count:,} rows {'':<17} {count / seconds:8.0f} rows/s   "
              f"({seconds:.1f} s, {size / 1e6:.1f} MB)")
    started = time.perf_counter()
    size = drain(get(f"/api/inspections/export?format=csv&{FILTERS[1]}"))
    print(f"  export csv, filtered to one province {'':<6} {time.perf_counter() - started:8.2f} s  ({size / 1e6:.1f} MB)")


def _rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def _reset_peak():
    """Make VmHWM start again from the current RSS (Linux), so the peak measured is the export's alone."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def memory_child(rows, fmt, mode):
    """Run in a fresh process: export `rows` findings and print JSON with RSS before and peak during the export."""
    if mode == "http":
        _, client, headers = build(rows)
        run = lambda: drain(client.get(f"/api/inspections/export?format={fmt}", headers=headers))  # noqa: E731
    else:
        # The exporter alone, fed documents one at a time as a real MongoDB cursor delivers them in batches.
        run = lambda: sum(len(c) for c in exports.export_chunks(fmt, bulk_findings(rows, INSPECTORS)))  # noqa: E731
    before = _rss_kb()
    exact = _reset_peak()
    started = time.perf_counter()
    size = run()
    seconds = time.perf_counter() - started
    peak = _peak_kb() if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "format": fmt, "mode": mode, "rss_before_mb": before / 1024,
                      "peak_mb": peak / 1024, "export_mb": max(0, peak - before) / 1024, "bytes": size,
                      "seconds": seconds, "exact_peak": exact}))


def memory(small, large):
    print(f"\nExport peak RSS, {small:,} against {large:,} rows (one fresh process each)")
    print("  exporter: documents streamed into the writer one by one, as a real MongoDB cursor delivers them.")
    print("  http:     the whole request on the embedded store (its data lives in the same process, and its")
    print("            cursor copies every matching document before the first row is written).")
    print(f"  {'format':<8} {'mode':<9} {'peak RSS':>21} {'ratio':>7}   {'added by the export':>21} {'rows/s':>15}")
    for mode in ("exporter", "http"):
        for fmt in ("csv", "xlsx", "geojson"):
            runs = []
            for rows in (small, large):
                out = subprocess.run([sys.executable, __file__, "--memory-child", str(rows), fmt, mode],
                                     capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            a, b = runs
            print(f"  {fmt:<8} {mode:<9} {a['peak_mb']:7.0f} MB ->{b['peak_mb']:6.0f} MB {b['peak_mb'] / a['peak_mb']:6.2f}x"
                  f"   {a['export_mb']:7.1f} MB ->{b['export_mb']:6.1f} MB"
                  f" {a['rows'] / a['seconds']:7.0f} /{b['rows'] / b['seconds']:6.0f}")
    print(f"  ({large // small}x the rows; 'added' is the peak during the export minus the RSS just before it)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, to try the script")
    parser.add_argument("--memory-child", nargs=3, metavar=("ROWS", "FORMAT", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        rows, fmt, mode = args.memory_child
        memory_child(int(rows), fmt, mode)
        return
    os.environ.pop("MONGO_URI", None)  # the embedded store, whatever the shell says
    throughput(2_000 if args.quick else 20_000)
    memory(*((1_000, 10_000) if args.quick else (10_000, 100_000)))


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)
    main()
