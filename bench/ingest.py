"""Ledger intake speed and memory: a 100,000-line CSV through the upload endpoint on the embedded store.

Prints validated ledger lines per second (checking alone, and checking plus applying through HTTP), each as a ratio
to a plain csv.DictReader pass over the same file measured in the same run, and the peak RSS of a fresh process
for 10,000 against 100,000 lines.

    python -m bench.ingest [--lines 100000]
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from inspector.codes import batch_code
from inspector.ledger.files import COLUMNS

MINES = ["ENT-NSM", "ENT-CPM"]
SEPARATORS = ["ENT-BPS", "ENT-HSW"]
TRADERS = ["ENT-GMT", "ENT-SMT"]


def write_ledger(path, lines, seed=7):
    """A month of flows, line by line: ore mined, shipped, received, separated, split and sold on, oxide imported (10 lines a round)."""
    import random

    rng = random.Random(seed)
    issued = set()

    def code():
        while True:
            c = batch_code.issue(rng)
            if c not in issued:
                issued.add(c)
                return c

    written, n = 0, 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)

        def row(**cells):
            nonlocal written
            w.writerow([cells.get(c, "") for c in COLUMNS])
            written += 1

        while written < lines:
            n += 1
            mine, sep, trader = MINES[n % 2], SEPARATORS[n % 2], TRADERS[n % 2]
            day = f"2026-10-{1 + n % 20:02d}"
            ore, oxide, half_a, half_b = code(), code(), code(), code()
            ore_kg = rng.randint(2000, 4000)
            oxide_kg = round(ore_kg * 0.5, 1)
            row(event_id=f"E{n}-1", event_type="production", occurred_at=day, enterprise_id=mine, line_role="output",
                batch_code=ore, mass_kg=ore_kg, stage="ore", product_type="bastnaesite_concentrate", reo_pct=55,
                quota_category="mining_light")
            row(event_id=f"E{n}-2", event_type="shipment", occurred_at=day, enterprise_id=mine, batch_code=ore,
                mass_kg=ore_kg, counterparty_id=sep, doc_no=f"WB-{n}-1")
            row(event_id=f"E{n}-3", event_type="receipt", occurred_at=day, enterprise_id=sep, batch_code=ore,
                counterparty_id=mine, doc_no=f"WB-{n}-1")
            for role, c, kg in (("input", ore, ore_kg), ("output", oxide, oxide_kg)):
                row(event_id=f"E{n}-4", event_type="production", occurred_at=day, enterprise_id=sep, line_role=role,
                    batch_code=c, mass_kg=kg, **({"stage": "compound", "product_type": "prnd_oxide", "reo_pct": 54}
                                                 if role == "output" else {}))
            for role, c, kg in (("input", oxide, ""), ("output", half_a, oxide_kg / 2),
                                ("output", half_b, oxide_kg / 2)):
                row(event_id=f"E{n}-5", event_type="split", occurred_at=day, enterprise_id=sep, line_role=role,
                    batch_code=c, mass_kg=kg)
            row(event_id=f"E{n}-6", event_type="shipment", occurred_at=day, enterprise_id=sep, batch_code=half_a,
                mass_kg=oxide_kg / 2, counterparty_id=trader, doc_no=f"WB-{n}-2")
            row(event_id=f"E{n}-7", event_type="import", occurred_at=day, enterprise_id=trader, line_role="output",
                batch_code=code(), mass_kg=500, stage="compound", product_type="prnd_oxide", reo_pct=99,
                doc_no=f"5310202610{n:08d}", port="Shanghai", country="MY")
    return written


def dictreader_seconds(path):
    """The baseline: a plain csv.DictReader pass that touches every cell."""
    started = time.process_time()
    cells = 0
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cells += sum(1 for v in row.values() if v)
    return time.process_time() - started


def _app():
    from api import create_app
    from api.context import db
    from seed.loader import load
    from seed import users as demo_users

    app = create_app({"SEED_DEMO": False, "MONGO_DB": f"bench_ingest_{os.getpid()}", "INTAKE_MAX_LINES": 1_000_000})
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    with app.app_context():
        load(db(), "small")
        demo_users.ensure_demo_users(db())
    return app


def check_seconds(app, path):
    """Checking alone (no writes): the intake's first pass over the file."""
    from api.context import db, settings
    from inspector.ledger import submission as intake
    from inspector.ledger.files import csv_rows, events_from_rows

    with app.app_context(), open(path, "rb") as f:
        actor = {"role": "admin", "username": "bench"}
        started = time.process_time()
        _, errors, counts = intake.dry_run(db(), settings(), actor, lambda: events_from_rows(csv_rows(f)),
                                           datetime.now(timezone.utc))
        seconds = time.process_time() - started
    assert not errors, [e.as_dict() for e in errors[:5]]
    return seconds, counts["lines"]


def upload_seconds(app, path):
    """Checking and applying, through the real upload endpoint."""
    client = app.test_client()
    token = client.post("/api/auth/login", json={"username": "admin", "password": "demo"}).json["access_token"]
    with open(path, "rb") as f:
        data = f.read()
    started = time.perf_counter()
    cpu = time.process_time()
    response = client.post("/api/ledger/uploads", headers={"Authorization": f"Bearer {token}"},
                           data={"file": (io.BytesIO(data), "ledger.csv")}, content_type="multipart/form-data")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert response.status_code == 201, json.dumps(response.json)[:2000]
    return wall, cpu, response.json


def memory_child(lines, mode):
    """Run one intake in this fresh process and print its peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ledger.csv")
        write_ledger(path, lines)
        app = _app()
        base = _rss_kb("VmRSS")
        # Forget the peak of building the demo data, so VmHWM below is the peak during the intake alone.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        if mode == "check":
            check_seconds(app, path)
        else:
            upload_seconds(app, path)
        peak = _rss_kb("VmHWM")
    print(json.dumps({"lines": lines, "mode": mode, "base_mb": base / 1024, "peak_mb": peak / 1024}))


def _rss_kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _peak(lines, mode):
    out = subprocess.run([sys.executable, "-m", "bench.ingest", "--memory-child", str(lines), mode],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--memory-child", nargs=2, metavar=("LINES", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(int(args.memory_child[0]), args.memory_child[1])
        return
    import logging
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ledger.csv")
        written = write_ledger(path, args.lines)
        size = os.path.getsize(path)
        print(f"ledger: {written:,} lines, {size / 1e6:.1f} MB (embedded store, small seed, one process)")
        base = dictreader_seconds(path)
        print(f"csv.DictReader pass:           {written / base:>10,.0f} lines/s  (baseline, 1.00x)")
        app = _app()
        seconds, events = check_seconds(app, path)
        print(f"intake check (validate only):  {written / seconds:>10,.0f} lines/s  "
              f"({base / seconds:.3f}x the DictReader rate; {events:,} events)")
        wall, cpu, receipt = upload_seconds(app, path)
        print(f"upload: check + apply (HTTP):  {written / cpu:>10,.0f} lines/s CPU, {written / wall:,.0f} lines/s wall "
              f"({base / cpu:.3f}x the DictReader rate); accepted {receipt['accepted']:,} events, "
              f"{len(receipt['flags']):,} flags")
    print("peak RSS of a fresh process (MB; the embedded store keeps what is applied in memory):")
    for mode in ("check", "upload"):
        small, big = _peak(10_000, mode), _peak(100_000, mode)
        print(f"  {mode:>6}: 10,000 lines {small['peak_mb']:.0f} MB, 100,000 lines {big['peak_mb']:.0f} MB "
              f"({big['peak_mb'] / small['peak_mb']:.2f}x; process before the intake {small['base_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
