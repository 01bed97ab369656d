"""Named queries, webhook subscriptions and event exports of the EPCIS repository (/api/epcis/v2), through HTTP."""
import csv
import hashlib
import hmac
import io
import json
from datetime import timedelta

from inspector.ledger.epcis.delivery import deliver
from tests.test_epcis_repository import (NOW, ROOT, capture, document, events_of, sgln,
                                         world)  # noqa: F401 (world is a fixture)

PUBLIC = {"93.184.216.34"}


def observation(world, event_id, who="a", **extra):
    return {"type": "ObjectEvent", "eventID": event_id, "eventTime": "2026-11-02T10:00:00+08:00",
            "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "inspecting",
            "readPoint": {"id": sgln(world[who], 1)}, "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], **extra}


def post_json(client, headers, path, body):
    return client.post(path, headers=headers, data=json.dumps(body), content_type="application/json")


class Webhook:
    """What a partner's webhook received (and answers with `status`)."""

    def __init__(self):
        self.calls, self.status = [], 200

    def __call__(self, dest, body, headers):
        self.calls.append((dest, body, headers))
        return self.status


def test_named_queries_belong_to_their_owner_and_run_within_its_scope(client, world):
    a, b = world["clerk_a"], world["clerk_b"]
    assert capture(client, a, document(observation(world, "urn:uuid:nq-a"))).status_code == 202
    assert capture(client, b, document(observation(world, "urn:uuid:nq-b", who="b"))).status_code == 202
    made = post_json(client, a, f"{ROOT}/queries", {"name": "seen", "query": {"EQ_bizStep": ["inspecting"]}})
    assert made.status_code == 201 and made.headers["Location"] == f"{ROOT}/queries/seen"
    assert client.get(f"{ROOT}/queries", headers=a).json == [{"name": "seen", "query": {"EQ_bizStep": ["inspecting"]}}]
    ran = client.get(f"{ROOT}/queries/seen/events", headers=a)
    assert ran.status_code == 200 and ran.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert ran.json["epcisBody"]["queryResults"]["queryName"] == "seen"
    assert [e["eventID"] for e in events_of(ran.json)] == ["urn:uuid:nq-a"]  # not B's inspection
    # Another enterprise neither sees, runs nor deletes it; its own query of the same name is its own.
    for method in (client.get, client.delete):
        hidden = method(f"{ROOT}/queries/seen", headers=b)
        assert hidden.status_code == 404 and hidden.json["errors"]["error_code"] == "unknown_query"
        assert hidden.json["code"] == 404 and hidden.json["message"]
    assert client.get(f"{ROOT}/queries/seen/events", headers=b).status_code == 404
    assert client.get(f"{ROOT}/queries", headers=b).json == []
    assert post_json(client, b, f"{ROOT}/queries", {"name": "seen", "query": {"EQ_bizStep": "inspecting"}}
                     ).status_code == 201
    assert [e["eventID"] for e in events_of(client.get(f"{ROOT}/queries/seen/events", headers=b).json)] == [
        "urn:uuid:nq-b"]
    # Bad definitions: every one a 400 problem naming the field; nothing saved.
    for body, field in [({"name": "seen", "query": {"EQ_bizStep": ["x"]}}, None),
                        ({"name": "bad name!", "query": {"eventType": ["ObjectEvent"]}}, "name"),
                        ({"name": "q2", "query": {"EQ_colour": ["red"], "GE_eventTime": ["yesterday"]}}, "EQ_colour"),
                        ({"name": "q3", "query": {"perPage": "5"}}, "query.perPage"),
                        ({"name": "q4", "query": {"eventType": [{"$ne": 1}]}}, "query.eventType"),
                        ({"name": "q5", "query": {}}, "query"), ({"name": "q6", "owner": "enterprise:x",
                                                                  "query": {"eventType": "ObjectEvent"}}, "owner")]:
        answer = post_json(client, a, f"{ROOT}/queries", body)
        if field is None:
            assert answer.status_code == 409 and answer.json["title"] == "ResourceAlreadyExistsException"
            continue
        assert answer.status_code == 400, body
        assert answer.json["errors"]["field"] == field and answer.json["errors"]["error_code"] == "bad_query"
    problems = post_json(client, a, f"{ROOT}/queries", {"name": "q2", "query": {"EQ_colour": ["red"],
                                                                              "GE_eventTime": ["yesterday"]}})
    assert {p["field"] for p in problems.json["errors"]["problems"]} == {"EQ_colour", "GE_eventTime"}
    assert client.post(f"{ROOT}/queries", headers=a, data="name=x").status_code == 415
    assert client.get(f"{ROOT}/queries/seen/events?EQ_action=ADD", headers=a).status_code == 400
    assert [q["name"] for q in client.get(f"{ROOT}/queries", headers=a).json] == ["seen"]
    assert client.get(f"{ROOT}/queries", headers={}).status_code == 401
    # Its owner deletes it.
    assert client.delete(f"{ROOT}/queries/seen", headers=a).status_code == 204
    assert client.get(f"{ROOT}/queries/seen", headers=a).status_code == 404
    assert client.get(f"{ROOT}/queries/seen", headers=b).status_code == 200


def test_a_subscription_pushes_each_new_event_once_signed_and_only_what_its_subscriber_sees(client, world, db, app):
    a, b = world["clerk_a"], world["clerk_b"]
    assert post_json(client, a, f"{ROOT}/queries", {"name": "mine", "query": {"eventType": "ObjectEvent"}}
                     ).status_code == 201
    hook = {"dest": "https://partner.example.com/epcis/hook", "signatureToken": "s3cret", "stream": True}
    # Forged or dangerous subscriptions are refused before anything is saved.
    for bad, field in [({**hook, "dest": "http://partner.example.com/hook"}, "dest"),
                       ({**hook, "dest": "https://127.0.0.1/hook"}, "dest"),
                       ({**hook, "dest": "https://localhost:8443/hook"}, "dest"),
                       ({**hook, "dest": "https://[::1]/hook"}, "dest"), ({**hook, "dest": "https://10.1.2.3/"}, "dest"),
                       ({**hook, "dest": "https://169.254.169.254/latest"}, "dest"),
                       ({**hook, "dest": "https://u:p@partner.example.com/"}, "dest"),
                       ({**hook, "schedule": {"minute": "5"}}, "stream"), ({"dest": hook["dest"]}, "stream"),
                       ({"dest": hook["dest"], "schedule": {"minute": "75"}}, "schedule.minute"),
                       ({"dest": hook["dest"], "schedule": {"fortnight": "1"}}, "schedule"),
                       ({**hook, "owner": "enterprise:other"}, "owner")]:
        answer = post_json(client, a, f"{ROOT}/queries/mine/subscriptions", bad)
        assert answer.status_code == 400 and answer.json["errors"]["field"] == field, bad
    assert post_json(client, world["inspector"], f"{ROOT}/queries/mine/subscriptions", hook).status_code == 403
    assert post_json(client, b, f"{ROOT}/queries/mine/subscriptions", hook).status_code == 404  # A's query
    made = post_json(client, a, f"{ROOT}/queries/mine/subscriptions", hook)
    assert made.status_code == 201, made.json
    sub = made.json
    assert sub["stream"] is True and sub["signed"] is True and "signatureToken" not in json.dumps(sub)
    assert client.get(made.headers["Location"], headers=a).json["subscriptionID"] == sub["subscriptionID"]
    assert [s["subscriptionID"] for s in client.get(f"{ROOT}/queries/mine/subscriptions", headers=a).json] == [
        sub["subscriptionID"]]
    assert client.get(f"{ROOT}/queries/mine/subscriptions/{sub['subscriptionID']}", headers=b).status_code == 404

    webhook = Webhook()
    app.config["CLOCK"] = lambda: NOW + timedelta(minutes=1)
    capture(client, a, document(observation(world, "urn:uuid:push-1")))
    capture(client, b, document(observation(world, "urn:uuid:push-b", who="b")))  # not A's to see
    sent = deliver(db, NOW + timedelta(minutes=2), post=webhook, resolve=lambda host: PUBLIC)
    assert [s["sent"] for s in sent] == [1] and len(webhook.calls) == 1
    dest, body, headers = webhook.calls[0]
    assert dest == hook["dest"] and headers["Content-Type"] == "application/ld+json"
    assert headers["GS1-Signature"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    message = json.loads(body)
    assert message["epcisBody"]["queryResults"]["subscriptionID"] == sub["subscriptionID"]
    assert [e["eventID"] for e in events_of(message)] == ["urn:uuid:push-1"]
    # Nothing new: nothing sent. A partner that is down gets the same events again next time.
    assert deliver(db, NOW + timedelta(minutes=3), post=webhook, resolve=lambda host: PUBLIC) == []
    capture(client, a, document(observation(world, "urn:uuid:push-2")))
    webhook.status = 503
    deliver(db, NOW + timedelta(minutes=4), post=webhook, resolve=lambda host: PUBLIC)
    failing = client.get(made.headers["Location"], headers=a).json
    assert failing["failures"] == 1 and failing["lastError"] == "503"
    webhook.status = 200
    deliver(db, NOW + timedelta(minutes=5), post=webhook, resolve=lambda host: PUBLIC)
    assert [[e["eventID"] for e in events_of(json.loads(c[1]))] for c in webhook.calls[1:]] == [["urn:uuid:push-2"]] * 2
    assert "failures" not in client.get(made.headers["Location"], headers=a).json
    # A name that resolves to the service's own network is not called.
    capture(client, a, document(observation(world, "urn:uuid:push-3")))
    calls = len(webhook.calls)
    [refused] = deliver(db, NOW + timedelta(minutes=6), post=webhook, resolve=lambda host: {"10.0.0.7"})
    assert refused["status"].startswith("refused") and len(webhook.calls) == calls
    # A disabled subscriber's subscription sends nothing.
    owner = db.epcis_subscriptions.find_one({})["username"]
    db.users.update_one({"username": owner}, {"$set": {"disabled": True}})
    [gone] = deliver(db, NOW + timedelta(minutes=7), post=webhook, resolve=lambda host: PUBLIC)
    assert gone["status"] == "subscriber_gone" and len(webhook.calls) == calls
    # Unsubscribing, and deleting the query, remove the subscriptions.
    assert client.delete(made.headers["Location"], headers=a).status_code == 204
    assert client.get(made.headers["Location"], headers=a).status_code == 404
    assert db.epcis_subscriptions.count_documents({}) == 0


def test_a_scheduled_subscription_reports_once_at_its_minute_even_when_empty(client, world, db):
    a = world["clerk_a"]
    post_json(client, a, f"{ROOT}/queries", {"name": "daily", "query": {"EQ_bizStep": ["shipping"]}})
    made = post_json(client, a, f"{ROOT}/queries/daily/subscriptions",
                     {"dest": "https://partner.example.com/daily", "reportIfEmpty": True,
                      "schedule": {"hour": "4", "minute": "0/30"}})
    assert made.status_code == 201 and made.json["schedule"] == {"hour": "4", "minute": "0/30"}
    webhook = Webhook()
    for minutes in (0, 0, 10, 30, 60):
        deliver(db, NOW + timedelta(minutes=minutes), post=webhook, resolve=lambda host: PUBLIC)
    assert len(webhook.calls) == 2  # 04:00 once (not twice in one minute) and 04:30; never 04:10 or 05:00
    assert all(events_of(json.loads(body)) == [] for _, body, _ in webhook.calls)
    assert client.delete(f"{ROOT}/queries/daily", headers=a).status_code == 204
    assert db.epcis_subscriptions.count_documents({}) == 0


def test_event_exports_give_utc_and_china_times_and_only_what_you_may_see(client, world):
    a, b = world["clerk_a"], world["clerk_b"]
    assert capture(client, a, document(observation(world, "urn:uuid:ex-a"))).status_code == 202
    capture(client, b, document(observation(world, "urn:uuid:ex-b", who="b")))
    answer = client.get(f"{ROOT}/exports/events?format=csv", headers=a)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [r["eventID"] for r in rows] == ["urn:uuid:ex-a"]  # not B's
    (row,) = rows
    assert (row["eventTime_utc"], row["eventTime_china"]) == ("2026-11-02 02:00:00", "2026-11-02 10:00:00")
    assert (row["recordTime_utc"], row["recordTime_china"]) == ("2026-11-15 04:00:00", "2026-11-15 12:00:00")
    assert row["readPoint"] == sgln(world["a"], 1) and row["type"] == "ObjectEvent"
    data = client.get(f"{ROOT}/exports/events?format=json&EQ_bizStep=inspecting", headers=world["admin"]).json
    by_id = {e["eventID"]: e for e in data["events"]}
    assert set(by_id) == {"urn:uuid:ex-a", "urn:uuid:ex-b"}
    assert by_id["urn:uuid:ex-a"]["eventTime_utc"] == "2026-11-02T02:00:00.000Z"
    assert by_id["urn:uuid:ex-a"]["eventTime_china"] == "2026-11-02T10:00:00.000+08:00"
    for bad in ("format=xlsx", "format=csv&EQ_colour=red", "format=json&GE_eventTime=monday"):
        refused = client.get(f"{ROOT}/exports/events?{bad}", headers=a)
        assert refused.status_code == 400 and refused.json["errors"]["error_code"] in ("bad_format", "bad_query")
    assert client.get(f"{ROOT}/exports/events?format=csv").status_code == 401


def test_odd_subscription_bodies_are_400_never_500(client, world):
    a = world["clerk_a"]
    post_json(client, a, f"{ROOT}/queries", {"name": "odd", "query": {"eventType": "ObjectEvent"}})
    dest = "https://partner.example.com/hook"
    for body in [[], "x", {"dest": "https://[::1"}, {"dest": "https://partner.example.com:99999999/", "stream": True},
                 {"dest": dest, "stream": True, "initialRecordTime": 5},
                 {"dest": dest, "stream": True, "initialRecordTime": "2026-11-01"},
                 {"dest": dest, "stream": "yes"}, {"dest": dest, "schedule": {"minute": {"$gt": 1}}},
                 {"dest": dest, "stream": True, "signatureToken": "x" * 300}, {"dest": 7, "stream": True}]:
        answer = post_json(client, a, f"{ROOT}/queries/odd/subscriptions", body)
        assert answer.status_code == 400, (body, answer.status_code)
        assert answer.json["errors"]["error_code"] == "bad_query" and answer.json["message"]
