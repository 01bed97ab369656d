"""The EPCIS 2.0 repository through its REST bindings (/api/epcis/v2): capture jobs, outcomes, queries, scope."""
import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from inspector.ledger.epcis import schema
from tests.conftest import gen_batch, gen_enterprise

OFFICIAL = Path(__file__).parent / "fixtures" / "epcis" / "official"
ROOT = "/api/epcis/v2"
NOW = datetime(2026, 11, 15, 4, tzinfo=timezone.utc)
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def official(name):
    return json.loads((OFFICIAL / name).read_text())


def events_of(doc):
    body = doc["epcisBody"]
    return body["eventList"] if "eventList" in body else body["queryResults"]["resultsBody"]["eventList"]


def document(*events):
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-01T00:00:00Z", "epcisBody": {"eventList": list(events)}}


def sgln(enterprise, site=0):
    prefix = enterprise["gs1_prefix"]
    return f"urn:epc:id:sgln:{prefix}.{site:03d}.0"


def glns(prefix):
    from seed.enterprises import glns_of
    return glns_of(prefix)


@pytest.fixture
def world(app, db, client):
    """Two enterprises with GLNs, a batch held by the first, an admin and a clerk of each."""
    app.config["CLOCK"] = lambda: NOW
    a = gen_enterprise(db, roles=["separator"])
    db.enterprises.update_one({"_id": a["_id"]}, {"$set": {"glns": glns(a["gs1_prefix"])}})
    b = gen_enterprise(db, roles=["trader"])
    db.enterprises.update_one({"_id": b["_id"]}, {"$set": {"glns": glns(b["gs1_prefix"])}})
    batch = gen_batch(db, stage="compound", producer_id=a["_id"], mass_kg=1000.0,
                      produced_on=datetime(2026, 10, 1, tzinfo=timezone.utc))
    out = {"a": a, "b": b, "batch": batch}
    for name, role, eid in (("admin", "admin", None), ("clerk_a", "enterprise", a["_id"]),
                            ("clerk_b", "enterprise", b["_id"]), ("inspector", "inspector", None)):
        out[name] = sign_in_as(client, db, role, eid)
    return out


_HASH = []


def sign_in_as(client, db, role, enterprise_id=None, **extra):
    """Headers of a new user of the role (one password hash for all: argon2 is slow on purpose)."""
    from inspector.accounts import users as accounts
    if not _HASH:
        _HASH.append(accounts.hash_password("pw-epcis-1"))
    kwargs = {"enterprise_id": enterprise_id, **extra} if enterprise_id else extra
    user = accounts.create_user(db, f"{role}-{len(_HASH)}-{db.users.count_documents({})}", "unused", role,
                                password_hash=_HASH[0], **kwargs)
    token = client.post("/api/auth/login", json={"username": user["username"], "password": "pw-epcis-1",
                                                 "device_id": "d"}).json["access_token"]
    return {"Authorization": f"Bearer {token}"}


def capture(client, headers, doc, behaviour=None):
    extra = {"GS1-Capture-Error-Behaviour": behaviour} if behaviour else {}
    return client.post(f"{ROOT}/capture", headers={**headers, **extra}, data=json.dumps(doc),
                       content_type="application/ld+json")


def outcomes(response):
    return [e["outcome"] for e in response.json["events"]]


# -- the 47 official examples ---------------------------------------------------------------------------------------
def test_all_official_examples_are_captured_stored_and_read_back(client, world):
    files = sorted(OFFICIAL.glob("*.jsonld"))
    assert len(files) == 47
    stored, refused = {}, []
    for path in files:
        doc = json.loads(path.read_text())
        response = capture(client, world["admin"], doc, behaviour="proceed")
        assert response.status_code == 202, (path.name, response.json)
        assert response.headers["GS1-EPCIS-Version"] == "2.0.0"
        job = response.json
        assert job["running"] is False and job["captureErrorBehaviour"] == "proceed"
        assert client.get(response.headers["Location"], headers=world["admin"]).json["events"] == job["events"]
        for sent, summary in zip(events_of(doc), job["events"]):
            # Foreign GTINs and GLNs: kept without a ledger effect, or a resend of an example seen already. Some
            # examples reuse another example's eventID for a different event: refused, saying so.
            if summary["outcome"] == "refused":
                assert [r["code"] for r in summary["reasons"]] == ["duplicate_event_id"], (path.name, summary)
                assert summary["eventID"] in stored
                refused.append(path.name)
                continue
            assert summary["outcome"] in ("stored", "duplicate"), (path.name, summary)
            if "eventID" in sent:
                assert summary["eventID"] == sent["eventID"]
            else:
                assert summary["eventID"].startswith("ni:///sha-256;")
            stored.setdefault(summary["eventID"], sent)
    for event_id, sent in stored.items():
        answer = client.get(f"{ROOT}/events/{quote(event_id, safe='')}", headers=world["admin"])
        assert answer.status_code == 200, event_id
        got = {k: v for k, v in answer.json.items() if k not in ("@context", "recordTime", "eventID")}
        assert got == {k: v for k, v in sent.items() if k not in ("recordTime", "eventID")}
    # Everything once through the query interface, as documents the official schema accepts.
    seen, url = [], f"{ROOT}/events?perPage=20"
    while url:
        page = client.get(url, headers=world["admin"])
        assert page.status_code == 200
        assert schema.problems(page.json) == []
        seen += [e["eventID"] for e in events_of(page.json)]
        link = page.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    assert sorted(seen) == sorted(stored)
    assert len(refused) <= 3, refused


def test_sensor_aggregation_and_error_declarations_are_stored_and_queryable_by_type(client, world):
    for name in ("WithSensorData__SensorDataExample1.jsonld", "Example_9.6.3-AggregationEvent.jsonld",
                 "WithErrorDeclaration__Example_9.6.1-ObjectEvent-with-error-declaration.jsonld",
                 "Example-TransactionEvents-2020_07_03y.jsonld", "AssociationEvent__AssociationEvent-a.jsonld",
                 "Example_9.6.4-TransformationEvent.jsonld"):
        response = capture(client, world["admin"], official(name))
        assert response.status_code == 202 and response.json["success"] is True, response.json
        assert set(outcomes(response)) == {"stored"}
        assert all(e["note"] == "outside_registry" for e in response.json["events"])
    types = client.get(f"{ROOT}/eventTypes", headers=world["admin"]).json
    assert types["member"] == ["ObjectEvent", "AggregationEvent", "AssociationEvent", "TransactionEvent",
                               "TransformationEvent"]
    for kind in types["member"]:
        page = client.get(f"{ROOT}/events?eventType={kind}", headers=world["admin"]).json
        assert events_of(page) and {e["type"] for e in events_of(page)} == {kind}
    sensor = events_of(official("WithSensorData__SensorDataExample1.jsonld"))[0]
    got = client.get(f"{ROOT}/events/{quote(sensor['eventID'], safe='')}", headers=world["admin"]).json
    assert got["sensorElementList"] == sensor["sensorElementList"]  # sensor data kept as sent


# -- ledger flows named by GLNs, and who may capture what -----------------------------------------------------------
def link(batch):
    return f"https://id.gs1.org/01/{batch['gs1']['gtin']}/10/{batch['gs1']['lot']}"


def shipping(world, epc=None, **extra):
    event = {"type": "ObjectEvent", "eventTime": "2026-11-02T10:00:00+08:00", "eventTimeZoneOffset": "+08:00",
             "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
             "readPoint": {"id": sgln(world["a"], 1)}, "bizLocation": {"id": sgln(world["a"], 1)},
             "quantityList": [{"epcClass": epc or link(world["batch"]), "quantity": 1000, "uom": "KGM"}],
             "sourceList": [{"type": "owning_party", "source": f"urn:epc:id:pgln:{world['a']['gs1_prefix']}.000"}],
             "destinationList": [{"type": "owning_party",
                                  "destination": f"urn:epc:id:pgln:{world['b']['gs1_prefix']}.000"}],
             "bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:WB-9"}]}
    event.update(extra)
    return event


def test_a_shipment_named_by_pglns_is_applied_to_the_ledger_and_found_by_its_epc(client, world, db):
    sent = shipping(world)
    response = capture(client, world["clerk_a"], document(sent))
    assert response.status_code == 202, response.json
    (summary,) = response.json["events"]
    assert summary["outcome"] == "applied", summary.get("reasons")
    assert summary["eventID"].startswith("ni:///sha-256;") and summary["eventID"].endswith("?ver=CBV2.0")
    moved = db.batches.find_one({"_id": world["batch"]["_id"]})
    assert moved["in_transit"]["to_id"] == world["b"]["_id"]
    # The receiver sees it (it names the receiver's PGLN); a stranger does not.
    for who in ("clerk_a", "clerk_b", "admin", "inspector"):
        page = client.get(f"{ROOT}/epcs/{quote(link(world['batch']), safe='')}/events", headers=world[who])
        assert [e["eventID"] for e in events_of(page.json)] == [summary["eventID"]], who
    stranger = gen_enterprise(db)
    headers = sign_in_as(client, db, "enterprise", stranger["_id"])
    hidden = client.get(f"{ROOT}/events", headers=headers)
    assert events_of(hidden.json) == []
    one = client.get(f"{ROOT}/events/{quote(summary['eventID'], safe='')}", headers=headers)
    assert one.status_code == 404 and one.json["type"] == "epcisException:NoSuchResourceException"
    # The hash is stable: the same event again is a duplicate, and nothing moves twice.
    again = capture(client, world["clerk_a"], document(sent))
    assert outcomes(again) == ["duplicate"]
    assert db.movements.count_documents({"batch_code": world["batch"]["_id"]}) == 1


def test_a_foreign_gtin_with_our_lot_moves_nothing(client, world, db):
    foreign = f"https://id.gs1.org/01/04012345000009/10/{world['batch']['_id']}"
    response = capture(client, world["clerk_a"], document(shipping(world, epc=foreign, eventID="urn:uuid:f-1")))
    assert response.status_code == 202
    assert outcomes(response) in (["stored"], ["refused"])
    assert db.movements.count_documents({}) == 0
    assert db.batches.find_one({"_id": world["batch"]["_id"]}).get("in_transit") is None


def test_an_enterprise_cannot_capture_events_about_others(client, world, db):
    # B names A's places and A's batch: B neither is named nor held the batch.
    event = shipping(world, eventID="urn:uuid:b-1")
    event["destinationList"] = [{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00000"}]
    response = capture(client, world["clerk_b"], document(event))
    (summary,) = response.json["events"]
    assert summary["outcome"] == "refused"
    assert summary["reasons"][0]["code"] == "not_your_enterprise"
    assert response.json["success"] is False and response.json["errors"][0]["eventID"] == "urn:uuid:b-1"
    # More than one reason at once: not B's, and a receiver the registry does not know.
    assert [(r["code"], r["field"]) for r in summary["reasons"]] == [
        ("not_your_enterprise", "bizLocation"), ("unknown_enterprise", "destinationList[0].destination")]
    # An official example (foreign GLNs only) is not B's to store either.
    response = capture(client, world["clerk_b"], official("Example_9.6.1-ObjectEvent.jsonld"))
    assert set(outcomes(response)) == {"refused"}
    assert db.batches.find_one({"_id": world["batch"]["_id"]}).get("in_transit") is None
    assert db.epcis_events.count_documents({}) == 0


def test_refusals_give_every_reason_in_epcis_names_and_rollback_or_proceed(client, world, db):
    good = shipping(world, eventID="urn:uuid:good")
    heavy = shipping(world, eventID="urn:uuid:heavy", eventTime="2027-03-01T10:00:00+08:00",
                     quantityList=[{"epcClass": link(world["batch"]), "quantity": 1000, "uom": "KGM"}])
    sensor = official("WithSensorData__SensorDataExample1.jsonld")["epcisBody"]["eventList"][0]
    sensor = {**sensor, "eventID": "urn:uuid:sensor", "readPoint": {"id": sgln(world["a"], 1)}}
    rolled = capture(client, world["clerk_a"], document(good, heavy, sensor))
    assert rolled.status_code == 202 and rolled.json["success"] is False
    by_id = {e["eventID"]: e for e in rolled.json["events"]}
    assert by_id["urn:uuid:heavy"]["outcome"] == "refused"
    reasons = by_id["urn:uuid:heavy"]["reasons"]
    assert all("occurred_at" not in r["message"] and r["field"] != "occurred_at" for r in reasons), reasons
    assert [r["field"] for r in reasons] == ["eventTime"], reasons
    assert by_id["urn:uuid:good"]["outcome"] == by_id["urn:uuid:sensor"]["outcome"] == "refused"
    assert by_id["urn:uuid:good"]["reasons"][0]["code"] == "rolled_back"
    assert db.movements.count_documents({}) == 0 and db.epcis_events.count_documents({}) == 0

    kept = capture(client, world["clerk_a"], document(good, heavy, sensor), behaviour="proceed")
    by_id = {e["eventID"]: e["outcome"] for e in kept.json["events"]}
    assert by_id == {"urn:uuid:good": "applied", "urn:uuid:heavy": "refused", "urn:uuid:sensor": "stored"}
    assert db.movements.count_documents({}) == 1


def test_a_document_the_schema_refuses_is_a_400_problem_naming_every_place(client, world):
    doc = document(shipping(world, bizStep="consuming", eventTime="2026-11-02"))
    response = capture(client, world["clerk_a"], doc)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["type"] == "epcisException:ValidationException" and body["status"] == 400 and body["title"]
    assert body["errors"]["error_code"] == "schema_invalid" and body["message"] == body["detail"]
    fields = {p["field"] for p in body["errors"]["problems"]}
    assert {"epcisBody.eventList[0].bizStep", "epcisBody.eventList[0].eventTime"} <= fields
    for bad, status in (("{nope", 400), ("[1]", 400)):
        answer = client.post(f"{ROOT}/capture", headers=world["clerk_a"], data=bad, content_type="application/json")
        assert answer.status_code == status and answer.json["type"].startswith("epcisException:")
    answer = client.post(f"{ROOT}/capture", headers=world["clerk_a"], data="{}", content_type="text/plain")
    assert answer.status_code == 415
    assert capture(client, world["inspector"], doc).status_code == 403
    assert capture(client, {}, doc).status_code == 401


# -- the query interface ---------------------------------------------------------------------------------------------
def _ids(response):
    assert response.status_code == 200, response.json
    return [e.get("eventID") for e in events_of(response.json)]


def test_standard_filters_collections_and_pages(client, world):
    for name in ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.2-ObjectEvent.jsonld",
                 "Example_9.6.3-AggregationEvent.jsonld", "PersistentDisposition-example.jsonld"):
        assert capture(client, world["admin"], official(name)).status_code == 202
    everything = [e for n in ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.2-ObjectEvent.jsonld",
                              "Example_9.6.3-AggregationEvent.jsonld", "PersistentDisposition-example.jsonld")
                  for e in events_of(official(n))]
    admin = world["admin"]

    def query(**params):
        from urllib.parse import urlencode
        return set(_ids(client.get(f"{ROOT}/events?{urlencode(params, doseq=True)}", headers=admin)))

    def expected(pred):
        return {e["eventID"] for e in everything if pred(e)}

    def step(e):
        return (e.get("bizStep") or "").rsplit("-", 1)[-1].rsplit(":", 1)[-1]

    assert query() == expected(lambda e: True)
    assert query(eventType="AggregationEvent") == expected(lambda e: e["type"] == "AggregationEvent")
    assert query(EQ_bizStep="shipping") == expected(lambda e: step(e) == "shipping") != set()
    assert query(EQ_bizStep="https://ref.gs1.org/cbv/BizStep-shipping") == query(EQ_bizStep="shipping")
    some = next(e for e in everything if isinstance(e.get("bizLocation"), dict))
    assert query(EQ_bizLocation=some["bizLocation"]["id"]) == expected(
        lambda e: (e.get("bizLocation") or {}).get("id") == some["bizLocation"]["id"])
    assert query(EQ_readPoint=some["readPoint"]["id"]) == expected(
        lambda e: (e.get("readPoint") or {}).get("id") == some["readPoint"]["id"])
    epc = next(e for e in everything if e.get("epcList"))["epcList"][0]
    assert query(MATCH_epc=epc) == expected(lambda e: epc in (e.get("epcList") or []) + (e.get("childEPCs") or []))
    assert query(MATCH_anyEPC=epc) >= query(MATCH_epc=epc)
    times = sorted(e["eventTime"] for e in everything)
    middle = times[len(times) // 2]
    assert query(GE_eventTime=middle) | query(LT_eventTime=middle) == query()
    assert query(GE_eventTime=middle) & query(LT_eventTime=middle) == set()
    disposition = next(e["disposition"] for e in everything if e.get("disposition"))
    assert query(EQ_disposition=disposition) == expected(lambda e: e.get("disposition") == disposition)

    steps = client.get(f"{ROOT}/bizSteps", headers=admin).json
    assert steps["type"] == "Collection" and "shipping" in steps["member"]
    for name in ("bizLocations", "readPoints", "dispositions"):
        assert client.get(f"{ROOT}/{name}", headers=admin).json["member"]
    assert set(_ids(client.get(f"{ROOT}/bizSteps/shipping/events", headers=admin))) == query(EQ_bizStep="shipping")

    # Pages of two, following the Link header; the token is bound to its query.
    seen, url = [], f"{ROOT}/events?perPage=2"
    while url:
        page = client.get(url, headers=admin)
        assert len(events_of(page.json)) <= 2
        seen += _ids(page)
        url = page.headers["Link"][1:page.headers["Link"].index(">")] if "Link" in page.headers else None
    assert sorted(seen) == sorted(query()) and len(seen) == len(set(seen))
    token = client.get(f"{ROOT}/events?perPage=1", headers=admin).headers["Link"].split("nextPageToken=")[1][:-13]
    other = client.get(f"{ROOT}/events?perPage=1&eventType=ObjectEvent&nextPageToken={token}", headers=admin)
    assert other.status_code == 400 and other.json["type"] == "epcisException:QueryParameterException"


def test_bad_query_parameters_are_400_problems(client, world):
    for query in ("GE_eventTime=yesterday", "GE_eventTime=2026-11-01", "perPage=0", "perPage=abc", "EQ_colour=red",
                  "nextPageToken=@@@", "EQ_bizStep=", "LT_recordTime=2026-13-01T00:00:00Z"):
        response = client.get(f"{ROOT}/events?{query}", headers=world["admin"])
        assert response.status_code == 400, query
        assert response.json["type"] == "epcisException:QueryParameterException"
        assert response.json["errors"]["error_code"] == "bad_query" and response.json["detail"]
        assert response.headers["GS1-EPCIS-Version"] == "2.0.0" and response.headers["GS1-CBV-Version"] == "2.0.0"


def test_version_headers_and_an_unsupported_version(client, world):
    answer = client.get(f"{ROOT}/eventTypes", headers=world["inspector"])
    assert answer.status_code == 200 and answer.headers["GS1-EPCIS-Version"] == "2.0.0"
    refused = client.get(f"{ROOT}/events", headers={**world["inspector"], "GS1-EPCIS-Version": "1.2"})
    assert refused.status_code == 406 and refused.json["status"] == 406
    assert client.get(f"{ROOT}/events").status_code == 401
    assert client.get(f"{ROOT}/capture/nope", headers=world["admin"]).status_code == 404


def test_a_province_limited_supervisor_sees_events_of_its_provinces(client, world, db):
    response = capture(client, world["clerk_a"], document(shipping(world, eventID="urn:uuid:prov-1")))
    assert outcomes(response) == ["applied"]
    capture(client, world["admin"], official("Example_9.6.1-ObjectEvent.jsonld"))
    province = world["a"]["province"]
    inside = sign_in_as(client, db, "supervisor", provinces=[province])
    assert _ids(client.get(f"{ROOT}/events", headers=inside)) == ["urn:uuid:prov-1"]
    elsewhere = sign_in_as(client, db, "supervisor", provinces=["Hainan"])
    assert _ids(client.get(f"{ROOT}/events", headers=elsewhere)) == []


# -- faithful export -------------------------------------------------------------------------------------------------
def test_a_batch_history_gives_back_what_was_captured_unchanged(client, world, db):
    sent = shipping(world, eventID="urn:uuid:faithful-1", disposition="damaged",
                    eventTime="2026-11-02T04:00:00.250+02:00", eventTimeZoneOffset="+02:00",
                    sourceList=[{"type": "possessing_party",
                                 "source": f"urn:epc:id:pgln:{world['a']['gs1_prefix']}.000"}],
                    bizTransactionList=[{"type": "https://ref.gs1.org/cbv/BTT-desadv",
                                         "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:WB-9"}],
                    sensorElementList=[{"sensorMetadata": {"time": "2026-11-02T04:00:00+02:00"},
                                        "sensorReport": [{"type": "Temperature", "value": 26.0, "uom": "CEL"}]}])
    response = capture(client, world["clerk_a"], document(sent))
    assert outcomes(response) == ["applied"], response.json["events"]
    exported = client.get(f"/api/epcis/batches/{world['batch']['_id']}/history", headers=world["clerk_a"])
    assert exported.status_code == 200
    assert schema.problems(exported.json) == []
    (event,) = exported.json["epcisBody"]["eventList"]
    assert {k: v for k, v in event.items() if k != "recordTime"} == sent
    assert event["disposition"] == "damaged" and event["eventTimeZoneOffset"] == "+02:00"
    assert event["sourceList"][0]["type"] == "possessing_party"


def test_ledger_channel_events_export_with_digital_links_their_offset_and_cbv_words(client, world, db):
    batch = world["batch"]
    body = {"events": [{"event_id": "csv-1", "type": "consumption", "code": batch["_id"], "mass_kg": 200,
                        "occurred_at": "2026-11-03T09:30:00-05:00"},
                       {"event_id": "csv-2", "type": "consumption", "code": batch["_id"], "mass_kg": 100,
                        "occurred_at": "2026-11-04"}]}
    submitted = client.post("/api/ledger/submissions", headers=world["clerk_a"], json=body)
    assert submitted.status_code == 201, submitted.json
    exported = client.get(f"/api/epcis/batches/{batch['_id']}/history", headers=world["clerk_a"]).json
    assert schema.problems(exported) == []
    first, second = exported["epcisBody"]["eventList"]
    # The ledger keeps a JSON/CSV event's moment in China time (the event captured by EPCIS keeps its own zone).
    assert first["eventTime"] == "2026-11-03T22:30:00.000+08:00" and first["eventTimeZoneOffset"] == "+08:00"
    assert second["eventTime"] == "2026-11-04T00:00:00.000+08:00"  # a date alone: that China day's midnight
    assert first["quantityList"][0]["epcClass"] == link(batch)  # the batch has a GTIN: its Digital Link
    assert "consuming" != first["bizStep"] and first["bizStep"].startswith("https://")
    # Captured again (Digital Links where the ledger was told codes): the same events, nothing changes.
    before = db.batches.find_one({"_id": batch["_id"]})["remaining_kg"]
    again = client.post("/api/epcis/capture", headers=world["clerk_a"], data=json.dumps(exported),
                        content_type="application/ld+json")
    assert again.status_code == 201, again.json
    assert (again.json["accepted"], again.json["duplicates"]) == (0, 2)
    assert db.batches.find_one({"_id": batch["_id"]})["remaining_kg"] == before


def test_every_seeded_batch_has_its_history_as_events_that_validate(client, seeded, db, auth):
    headers = auth.headers("inspector")
    exported = db.movements.find_one({"kind": "export"})["batch_code"]
    imported = db.batches.find_one({"imported": True})["_id"]
    for code in (exported, imported):
        answer = client.get(f"/api/epcis/batches/{code}/history", headers=headers)
        assert answer.status_code == 200, answer.json
        events = answer.json["epcisBody"]["eventList"]
        assert events and schema.problems(answer.json) == []
    steps = [e.get("bizStep") for e in client.get(f"/api/epcis/batches/{exported}/history",
                                                   headers=headers).json["epcisBody"]["eventList"]]
    assert steps[-1] == "departing" and "shipping" in steps
    # Every batch is named by at least one seeded event.
    named = set(db.ledger_events.distinct("codes"))
    assert {b["_id"] for b in db.batches.find({}, {"_id": 1})} <= named


def test_capture_jobs_are_seen_by_their_enterprise_and_staff_only(client, world):
    job = capture(client, world["clerk_a"], document(shipping(world, eventID="urn:uuid:job-1")))
    url = job.headers["Location"]
    assert client.get(url, headers=world["clerk_a"]).json["captureID"] == job.json["captureID"]
    assert client.get(url, headers=world["admin"]).status_code == 200
    assert client.get(url, headers=world["clerk_b"]).status_code == 404
    listed = client.get(f"{ROOT}/capture", headers=world["clerk_b"]).json["member"]
    assert listed == []
    mine = client.get(f"{ROOT}/capture", headers=world["clerk_a"]).json["member"]
    assert [j["captureID"] for j in mine] == [job.json["captureID"]]
    assert mine[0]["createdAt"].endswith("Z") and mine[0]["events"][0]["outcome"] == "applied"
