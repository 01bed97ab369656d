"""EPCIS repository speed: capture throughput and query latency, as ratios to a plain json.loads of the same bytes.

    python -m bench.epcis [--events 2000] [--queries 50]

Captures GS1's 47 official examples (tests/fixtures/epcis/official), their events given fresh eventIDs until
--events are stored, through POST /api/epcis/v2/capture on the embedded store (an empty database with one
administrator), in documents of 100 events; then times GET /api/epcis/v2/events pages (perPage 100, unfiltered,
by eventType, by bizStep, by time window) and GET /events/{eventID}. Each figure is printed with its ratio to
json.loads of the same document (capture) or answer (query) measured in the same run: "x times a parse".
"""
import argparse
import json
import statistics
import time
import uuid
from pathlib import Path
from urllib.parse import quote

OFFICIAL = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "epcis" / "official"
ROOT = "/api/epcis/v2"


def official_events():
    out = []
    for path in sorted(OFFICIAL.glob("*.jsonld")):
        doc = json.loads(path.read_text())
        body = doc["epcisBody"]
        events = body["eventList"] if "eventList" in body else body["queryResults"]["resultsBody"]["eventList"]
        out += [(doc.get("@context"), e) for e in events]
    return out


def documents(total, per_doc=100):
    """Documents of per_doc events each (official events with fresh ids), as bytes."""
    pool = [(c, e) for c, e in official_events() if isinstance(c, list) and all(isinstance(x, str) for x in c)]
    docs, n = [], 0
    while n < total:
        events = []
        for i in range(min(per_doc, total - n)):
            _context, event = pool[(n + i) % len(pool)]
            events.append({**event, "eventID": f"urn:uuid:{uuid.uuid4()}"})
        n += len(events)
        docs.append(json.dumps({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                                             {"example": "https://ns.example.com/epcis/"}],
                                "type": "EPCISDocument", "schemaVersion": "2.0",
                                "creationDate": "2026-11-01T00:00:00Z",
                                "epcisBody": {"eventList": events}}).encode())
    return docs


def _parse_time(blobs, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for blob in blobs:
            json.loads(blob)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()

    from api import create_app
    from api.context import db
    from inspector.accounts import users

    app = create_app({"MONGO_URI": None, "MONGO_DB": f"bench_{uuid.uuid4().hex}", "SEED_DEMO": False,
                      "TESTING": True, "SECRET_KEY": "bench-secret-bench-secret-bench-secret"})
    client = app.test_client()
    with app.app_context():
        users.create_user(db(), "bench-admin", "bench-password-1", "admin")
    token = client.post("/api/auth/login", json={"username": "bench-admin", "password": "bench-password-1",
                                                 "device_id": "bench"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}", "GS1-Capture-Error-Behaviour": "proceed"}
    docs = documents(args.events)
    start = time.perf_counter()
    stored = 0
    for blob in docs:
        answer = client.post(f"{ROOT}/capture", headers=headers, data=blob, content_type="application/ld+json")
        assert answer.status_code == 202, answer.json
        stored += answer.json["counts"]["stored"]
    capture_s = time.perf_counter() - start
    parse_s = _parse_time(docs)
    print(f"capture: {args.events} events in {len(docs)} documents, {stored} stored, "
          f"{args.events / capture_s:,.0f} events/s; json.loads {args.events / parse_s:,.0f} events/s "
          f"-> capture takes {capture_s / parse_s:,.0f}x a plain parse")

    some_id = json.loads(docs[0])["epcisBody"]["eventList"][0]["eventID"]
    queries = {"page of 100": f"{ROOT}/events?perPage=100",
               "eventType=ObjectEvent": f"{ROOT}/events?perPage=100&eventType=ObjectEvent",
               "EQ_bizStep=shipping": f"{ROOT}/events?perPage=100&EQ_bizStep=shipping",
               "time window": f"{ROOT}/events?perPage=100&GE_eventTime=2019-01-01T00:00:00Z"
                              "&LT_eventTime=2020-01-01T00:00:00Z",
               "one event": f"{ROOT}/events/{quote(some_id, safe='')}"}
    for name, url in queries.items():
        times, body = [], b""
        for _ in range(args.queries):
            start = time.perf_counter()
            answer = client.get(url, headers=headers)
            times.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.json
            body = answer.data
        p50, parse = statistics.median(times), _parse_time([body], repeat=args.queries)
        print(f"query {name}: p50 {p50 * 1000:.1f} ms for {len(body):,} bytes; json.loads {parse * 1000:.2f} ms "
              f"-> {p50 / parse:,.0f}x a plain parse")


if __name__ == "__main__":
    main()
