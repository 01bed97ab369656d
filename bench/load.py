"""A bounded load on loopback against gunicorn: an inspectors' mix of scans, lookups, findings with photos and
supervisor listings, with throughput and p50/p95/p99 latency as ratios to a /healthz floor measured in the same run.

On the embedded demo store (the default) it starts gunicorn itself on a free 127.0.0.1 port, exactly as the
Procfile does (one worker, its threads), signs in the demo users and reads the planted cases for real codes:

    .venv/bin/python -m bench.load                      # 60 s, 4 clients
    .venv/bin/python -m bench.load --duration 20 --concurrency 8 --seed 7

Against a real MongoDB with several workers, start the service yourself and point the bench at it:

    export MONGO_URI="mongodb://db1,db2,db3/?replicaSet=rs0" MONGO_DB=rare_earth_inspector SECRET_KEY=...
    .venv/bin/python -m seed load --scale small           # the dataset and its planted cases
    export LOAD_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"
    echo "$LOAD_PASSWORD" | .venv/bin/flask --app api users create --role inspector --username load-inspector \\
        --password-stdin
    echo "$LOAD_PASSWORD" | .venv/bin/flask --app api users create --role supervisor --username load-supervisor \\
        --password-stdin
    WEB_CONCURRENCY=4 PORT=8000 .venv/bin/gunicorn --config gunicorn.conf.py 'api:create_app()' &
    .venv/bin/python -m bench.load --url http://127.0.0.1:8000 --user load-inspector --supervisor load-supervisor \\
        --concurrency 16

(--user, --supervisor and --password default to $LOAD_USER, $LOAD_SUPERVISOR and $LOAD_PASSWORD.) With 4 workers
of GUNICORN_THREADS (4) threads each, 16 clients keep every thread busy; raise it to see where latency bends.

There /api/demo/cases does not exist, so the codes come from the same seed (`--scale` as loaded, same day).
Each user signs in once (signing in again revokes the device's session), so keep --duration under
ACCESS_TOKEN_MINUTES. The exit status is 1 when any request got an answer other than the expected 2xx or failed
to connect.
"""
import argparse
import http.client
import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIX = (("scan", 70), ("batch", 15), ("finding", 10), ("listing", 5))
UNREGISTERED = {"unknown_code", "malformed_code"}
ERROR_SAMPLES = 5
BASELINE_SECONDS = 5.0
STARTUP_SECONDS = 120


class Target:
    """Where the load goes: host, port, and the gunicorn we started (if any)."""

    def __init__(self, url, process=None, log_path=None):
        parts = urllib.parse.urlsplit(url)
        self.url, self.host, self.port = url, parts.hostname, parts.port or 80
        self.process, self.log_path = process, log_path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn():
    """gunicorn on the embedded demo store, as the Procfile runs it, on a free loopback port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "WEB_CONCURRENCY")}
    env["PYTHONUNBUFFERED"] = "1"
    log = tempfile.NamedTemporaryFile(prefix="load-gunicorn-", suffix=".log", delete=False)
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
    process = subprocess.Popen(command + ["--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                          "api:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    target = Target(f"http://127.0.0.1:{port}", process, log.name)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn stopped at start (exit {process.returncode}); log: {log.name}")
        try:
            if call(target, "GET", "/readyz")[0] == 200:
                return target
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    sys.exit(f"gunicorn was not ready within {STARTUP_SECONDS} s; log: {log.name}")


def server_times(log_path):
    """Per kind, the app's own request durations (seconds) from its JSON request log: service time without queueing."""
    times = defaultdict(list)
    for line in Path(log_path).read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            method, path, ms = entry["method"], entry["path"], float(entry["duration_ms"])
        except (ValueError, KeyError, TypeError):
            continue
        kind = ("healthz" if path == "/healthz" else "scan" if (method, path) == ("POST", "/api/scans")
                else "batch" if path.startswith("/api/batches/") else "photo" if path.endswith("/attachments")
                else "finding" if (method, path) == ("POST", "/api/inspections")
                else "listing" if method == "GET" and path in ("/api/inspections", "/api/scans") else None)
        if kind:
            times[kind].append(ms / 1000)
    return times


def stop_gunicorn(target):
    """SIGTERM (graceful: in-flight requests finish), then report how it exited."""
    started = time.monotonic()
    target.process.send_signal(signal.SIGTERM)
    try:
        code = target.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        target.process.kill()
        return f"did NOT exit within 60 s of SIGTERM (killed); log: {target.log_path}", False
    log = Path(target.log_path).read_text(errors="replace")
    tracebacks = log.count("Traceback")
    clean = code == 0 and tracebacks == 0
    return (f"exit {code} {time.monotonic() - started:.1f} s after SIGTERM; {tracebacks} traceback(s) in its log "
            f"({target.log_path})"), clean


def call(target, method, path, body=None, headers=None, conn=None):
    """One request on a fresh connection; returns (status, body bytes)."""
    conn = conn or http.client.HTTPConnection(target.host, target.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def sign_in(target, username, password):
    body = json.dumps({"username": username, "password": password, "device_id": f"bench-load-{username}",
                       "device_name": "bench/load.py"})
    status, data = call(target, "POST", "/api/auth/login", body, {"Content-Type": "application/json"})
    if status != 200:
        sys.exit(f"could not sign in as {username}: {status} {data[:300]!r}")
    return {"Authorization": f"Bearer {json.loads(data)['access_token']}"}


def demo_cases(target, scale):
    """The planted cases: from the service on the embedded store, else rebuilt from the same seed."""
    status, data = call(target, "GET", "/api/demo/cases")
    if status == 200:
        return json.loads(data)
    sys.path.insert(0, str(ROOT))
    from seed.loader import build

    return build(scale)[1]


def make_photos(rng, count):
    """Real JPEG photos of a few hundred kB, each different, with EXIF time and GPS like a phone's."""
    from PIL import Image, ImageDraw

    photos = []
    for _ in range(count):
        image = Image.new("RGB", (1600, 1200), tuple(rng.randrange(60, 200) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(60):
            x, y = rng.randrange(1500), rng.randrange(1100)
            draw.rectangle((x, y, x + rng.randrange(20, 300), y + rng.randrange(20, 300)),
                           fill=tuple(rng.randrange(256) for _ in range(3)))
        exif = Image.Exif()
        exif[0x8769] = {36867: "2026:11:20 10:41:57"}
        exif[0x8825] = {1: "N", 2: (25.0, 50.0, 2.5), 3: "E", 4: (114.0, 56.0, 22.0)}
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85, exif=exif)
        photos.append(out.getvalue())
    return photos


def multipart(field, filename, data, content_type):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


class Results:
    """Latencies per kind and errors, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.errors = 0
        self.samples = []

    def ok(self, kind, seconds):
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, kind, what):
        with self.lock:
            self.errors += 1
            if len(self.samples) < ERROR_SAMPLES:
                self.samples.append(f"{kind}: {what}")

    def count(self):
        return sum(len(v) for v in self.latencies.values()) + self.errors


class Client(threading.Thread):
    """One keep-alive connection sending the mix until the deadline."""

    def __init__(self, target, work, results, deadline, rng):
        super().__init__(daemon=True)
        self.target, self.work, self.results, self.deadline, self.rng = target, work, results, deadline, rng
        self.conn = None

    def request(self, kind, method, path, expected, body=None, headers=None):
        """Send one request on this client's connection; returns the parsed JSON body on an expected answer."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.target.host, self.target.port, timeout=60)
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = None
            self.results.error(kind, f"{method} {path}: {type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - started
        if response.status not in expected:
            self.results.error(kind, f"{method} {path} -> {response.status} {data[:200]!r}")
            return None
        self.results.ok(kind, elapsed)
        return json.loads(data) if data and response.getheader("Content-Type", "").startswith("application/json") \
            else {}

    def run(self):
        kinds, weights = zip(*self.work.mix)
        while time.monotonic() < self.deadline:
            getattr(self, self.rng.choices(kinds, weights)[0])()
        if self.conn is not None:
            self.conn.close()

    def healthz(self):
        self.request("healthz", "GET", "/healthz", (200,))

    def scan(self):
        case = self.rng.choice(self.work.cases)
        body = {"client_id": str(uuid.uuid4()), "code": case["code"],
                "scanned_at": datetime.now(timezone.utc).isoformat(), **case.get("scan", {})}
        if "location" not in body and self.rng.random() < 0.5:
            body["location"] = {"lat": round(25.83 + self.rng.uniform(-0.05, 0.05), 5),
                                "lon": round(114.93 + self.rng.uniform(-0.05, 0.05), 5), "accuracy_m": 12}
        self.request("scan", "POST", "/api/scans", (200, 201), json.dumps(body),
                     {**self.work.inspector, "Content-Type": "application/json"})

    def batch(self):
        code = urllib.parse.quote(self.rng.choice(self.work.registered)["code"], safe="")
        self.request("batch", "GET", f"/api/batches/{code}", (200,), headers=self.work.inspector)

    def finding(self):
        case = self.rng.choice(self.work.held)
        body = {"client_id": str(uuid.uuid4()), "enterprise_id": case["scan"]["holder_enterprise_id"],
                "site": case["scan"]["site"], "batch_codes": [case["code"]],
                "location": {"lat": 25.8341, "lon": 114.9396, "accuracy_m": 8.0},
                "observed_at": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(),
                "discrepancies": case["expected_reasons"] or ["label_missing_or_damaged"],
                "notes": "Logged by bench/load.py."}
        created = self.request("finding", "POST", "/api/inspections", (201,), json.dumps(body),
                               {**self.work.inspector, "Content-Type": "application/json"})
        if not created:
            return
        for photo in self.rng.sample(self.work.photos, self.rng.choice((1, 2))):
            data, headers = multipart("file", "photo.jpg", photo, "image/jpeg")
            self.request("photo", "POST", f"/api/inspections/{created['id']}/attachments", (201,), data,
                         {**self.work.inspector, **headers})

    def listing(self):
        path = self.rng.choice(("/api/inspections?page_size=20", "/api/scans?page_size=20"))
        self.request("listing", "GET", path, (200,), headers=self.work.supervisor)


class Work:
    """What the clients share: tokens, codes, photos and the mix."""

    def __init__(self, target, args, rng):
        self.inspector = sign_in(target, args.user, args.password)
        self.supervisor = sign_in(target, args.supervisor, args.password)
        self.cases = demo_cases(target, args.scale)
        self.registered = [c for c in self.cases if not UNREGISTERED & set(c["expected_reasons"])]
        self.held = [c for c in self.cases if c.get("scan", {}).get("holder_enterprise_id")]
        self.photos = make_photos(rng, 12)
        self.mix = MIX


def run_phase(target, work, results, seconds, concurrency, seed, mix):
    work.mix = mix
    deadline = time.monotonic() + seconds
    clients = [Client(target, work, results, deadline, random.Random(seed * 1000 + i)) for i in range(concurrency)]
    started = time.perf_counter()
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    return time.perf_counter() - started


def percentile(values, q):
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def describe(latencies, floor=None):
    """p50/p95/p99 in ms, with the ratio to the floor's when one is given."""
    out = []
    for q in (50, 95, 99):
        value = percentile(latencies, q)
        text = f"p{q} {value * 1000:7.1f} ms"
        if floor:
            text += f" ({value / percentile(floor, q):5.1f}x)"
        out.append(text)
    return "  ".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running deployment (then no gunicorn is started)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of mixed load (default 60)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="concurrent clients, each on one keep-alive connection (default 4: one per thread of "
                             "the embedded store's single worker)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the mix and the photos")
    parser.add_argument("--user", default=os.environ.get("LOAD_USER", "inspector"), help="the inspector who scans")
    parser.add_argument("--supervisor", default=os.environ.get("LOAD_SUPERVISOR", "supervisor"))
    parser.add_argument("--password", default=os.environ.get("LOAD_PASSWORD", "demo"))
    parser.add_argument("--scale", default="small", help="the seed scale loaded, when codes come from the seed")
    parser.add_argument("--baseline-seconds", type=float, default=BASELINE_SECONDS)
    args = parser.parse_args(argv)

    print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f} before the run "
          "(client and server share them)")
    target = Target(args.url.rstrip("/")) if args.url else start_gunicorn()
    print(f"target: {target.url}" + (" (gunicorn started here, embedded demo store)" if target.process else ""))
    failed = True
    try:
        rng = random.Random(args.seed)
        work = Work(target, args, rng)
        print(f"{len(work.cases)} demo cases ({len(work.registered)} registered codes), {len(work.photos)} photos "
              f"of {statistics.mean(map(len, work.photos)) / 1024:.0f} kB on average")

        floor = Results()
        floor_seconds = run_phase(target, work, floor, args.baseline_seconds, args.concurrency, args.seed,
                                  (("healthz", 1),))
        results = Results()
        seconds = run_phase(target, work, results, args.duration, args.concurrency, args.seed, MIX)
        failed = report(args, floor, floor_seconds, results, seconds)
    finally:
        if target.process:
            text, clean = stop_gunicorn(target)
            print(f"gunicorn: {text}")
            inside = server_times(target.log_path)
            if inside:
                print("time inside the app per request (its JSON request log; the rest is queueing and transfer):")
                for kind in ("healthz", "scan", "batch", "finding", "photo", "listing"):
                    if inside.get(kind):
                        print(f"  {kind:8} {len(inside[kind]):6}  {describe(inside[kind])}")
            failed = failed or not clean
    sys.exit(1 if failed else 0)


def report(args, floor, floor_seconds, results, seconds):
    """Print the figures; return True when anything failed."""
    base = floor.latencies["healthz"]
    base_rate = len(base) / floor_seconds
    print(f"\nbaseline GET /healthz, {args.concurrency} clients, {floor_seconds:.1f} s: {len(base)} requests, "
          f"{base_rate:.0f} req/s, {describe(base)}, errors {floor.errors}")
    total = results.count()
    everything = [v for values in results.latencies.values() for v in values]
    rate = total / seconds
    print(f"mix, {args.concurrency} clients, {seconds:.1f} s: {total} requests, {rate:.1f} req/s "
          f"({rate / base_rate:.3f}x the baseline's throughput)")
    if everything:
        print(f"  {'all':8} {len(everything):6}  {describe(everything, base)}")
    for kind in ("scan", "batch", "finding", "photo", "listing"):
        values = results.latencies.get(kind)
        if values:
            print(f"  {kind:8} {len(values):6}  {describe(values, base)}")
    print("  (ratios: each percentile against the same percentile of GET /healthz)")
    print(f"errors: {results.errors + floor.errors}")
    for sample in floor.samples + results.samples:
        print(f"  {sample}")
    return bool(results.errors or floor.errors) or not everything


if __name__ == "__main__":
    main()
