"""EPCIS repository speed: capture throughput and query latency, as ratios to a plain json.loads of the same bytes.

    python -m bench.epcis [--scale medium|small|none] [--events 2000] [--histories 200] [--queries 50]

On the embedded store holding the demo dataset of --scale (medium by default: its enterprises, batches and ledger;
`none` for an empty database), captures GS1's 47 official examples (tests/fixtures/epcis/official), their events
given fresh eventIDs until --events are stored, through POST /api/epcis/v2/capture in documents of 100 events;
then --histories seeded batches' histories (GET /api/epcis/batches/{code}/history, JSON-LD with Digital Links),
captured back: every event goes through the ledger (which finds it recorded already). Then times GET
/api/epcis/v2/events pages (perPage 100: unfiltered, by eventType, by bizStep, by time window), GET /events/{id},
a seeded batch's /epcs/{epc}/events, a clerk's scoped page and a named query's run. Each figure is printed with its
ratio to json.loads of the same document (capture) or answer (query) measured in the same run: "x times a parse".
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
    parser.add_argument("--scale", choices=("small", "medium", "none"), default="medium")
    parser.add_argument("--histories", type=int, default=200)
    args = parser.parse_args()

    from api import create_app
    from api.context import db
    from inspector.accounts import users

    app = create_app({"MONGO_URI": None, "MONGO_DB": f"bench_{uuid.uuid4().hex}", "SEED_DEMO": False,
                      "TESTING": True, "SECRET_KEY": "bench-secret-bench-secret-bench-secret"})
    client = app.test_client()
    with app.app_context():
        if args.scale != "none":
            from seed.loader import load
            loaded = load(db(), args.scale)
            print(f"dataset {args.scale}: {loaded['batches']:,} batches, {loaded['ledger_events']:,} ledger events, "
                  f"{loaded['enterprises']} enterprises (loaded in {loaded['seconds']:.0f} s)")
        users.create_user(db(), "bench-admin", "bench-password-1", "admin")
        clerk_of = db().batches.find_one({"gs1.gtin": {"$exists": True}}, {"holder_id": 1, "_id": 1}) or {}
        users.create_user(db(), "bench-clerk", "bench-password-1", "enterprise",
                          enterprise_id=clerk_of.get("holder_id")) if clerk_of else None
        seeded = [b["_id"] for b in db().batches.find({}, {"_id": 1}).sort("_id", 1).limit(args.histories)]

    def sign_in(username):
        return client.post("/api/auth/login", json={"username": username, "password": "bench-password-1",
                                                    "device_id": "bench"}).json["access_token"]
    headers = {"Authorization": f"Bearer {sign_in('bench-admin')}", "GS1-Capture-Error-Behaviour": "proceed"}
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

    histories = [client.get(f"/api/epcis/batches/{code}/history", headers=headers).data for code in seeded]
    histories = [h for h in histories if h and json.loads(h).get("epcisBody", {}).get("eventList")]
    if histories:
        start, applied, count = time.perf_counter(), 0, 0
        for blob in histories:
            answer = client.post(f"{ROOT}/capture", headers=headers, data=blob, content_type="application/ld+json")
            assert answer.status_code == 202, answer.json
            applied += answer.json["counts"]["applied"] + answer.json["counts"]["duplicate"]
            count += len(answer.json["events"])
        history_s, parse_s = time.perf_counter() - start, _parse_time(histories)
        print(f"capture of seeded histories: {count} events of {len(histories)} batches through the ledger "
              f"({applied} applied or already stored), {count / history_s:,.0f} events/s; json.loads "
              f"{count / parse_s:,.0f} events/s -> {history_s / parse_s:,.0f}x a plain parse")

    some_id = json.loads(docs[0])["epcisBody"]["eventList"][0]["eventID"]
    queries = {"page of 100": f"{ROOT}/events?perPage=100",
               "eventType=ObjectEvent": f"{ROOT}/events?perPage=100&eventType=ObjectEvent",
               "EQ_bizStep=shipping": f"{ROOT}/events?perPage=100&EQ_bizStep=shipping",
               "time window": f"{ROOT}/events?perPage=100&GE_eventTime=2019-01-01T00:00:00Z"
                              "&LT_eventTime=2020-01-01T00:00:00Z",
               "one event": f"{ROOT}/events/{quote(some_id, safe='')}"}
    who = {name: headers for name in queries}
    client.post(f"{ROOT}/queries", headers=headers, json={"name": "shipped", "query": {"EQ_bizStep": ["shipping"]}})
    queries["named query run"], who["named query run"] = f"{ROOT}/queries/shipped/events?perPage=100", headers
    if histories:
        epc = json.loads(histories[0])["epcisBody"]["eventList"][0]
        epc = (epc.get("epcList") or [q["epcClass"] for q in epc.get("quantityList") or epc.get(
            "outputQuantityList") or [{"epcClass": ""}]])[0]
        queries["a seeded batch's /epcs/{epc}/events"] = f"{ROOT}/epcs/{quote(epc, safe='')}/events"
        who[f"a seeded batch's /epcs/{{epc}}/events"] = headers
    if clerk_of:
        queries["a clerk's page (scoped)"] = f"{ROOT}/events?perPage=100"
        who["a clerk's page (scoped)"] = {"Authorization": f"Bearer {sign_in('bench-clerk')}"}
    for name, url in queries.items():
        times, body = [], b""
        for _ in range(args.queries):
            start = time.perf_counter()
            answer = client.get(url, headers=who[name])
            times.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.json
            body = answer.data
        p50, parse = statistics.median(times), _parse_time([body], repeat=args.queries)
        print(f"query {name}: p50 {p50 * 1000:.1f} ms for {len(body):,} bytes; json.loads {parse * 1000:.2f} ms "
              f"-> {p50 / parse:,.0f}x a plain parse")


if __name__ == "__main__":
    main()
