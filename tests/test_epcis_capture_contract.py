"""The ledger's EPCIS channel (/api/epcis/capture) takes what the standard allows and says every problem in EPCIS words."""
from tests.test_epcis import MINE_CODE, _chain, _ledger_counts, capture, clerks, document  # noqa: F401 (a fixture)


def test_events_without_an_event_id_are_known_by_their_gs1_hash(client, clerks, db):
    events = [{k: v for k, v in e.items() if k != "eventID"} for e in _chain()]
    first = capture(client, clerks["admin"], document(*events))
    assert first.status_code == 201, first.json
    assert first.json["accepted"] == 7
    ids = [e["event_id"] for e in db.ledger_events.find({"submission_id": first.json["submission_id"]})]
    assert len(ids) == 7 and all(i.startswith("ni:///sha-256;") for i in ids)
    before = _ledger_counts(db)
    again = capture(client, clerks["admin"], document(*events))
    assert again.status_code == 201 and (again.json["accepted"], again.json["duplicates"]) == (0, 7)
    assert _ledger_counts(db) == before


def test_a_refused_capture_lists_every_problem_of_every_event_in_epcis_names(client, clerks, db):
    mine, shipment = _chain()[0], _chain()[1]
    # One event, three problems: a date without a time, no receiver, no waybill.
    broken = {**shipment, "eventID": "urn:uuid:broken", "eventTime": "2026-10-03"}
    del broken["destinationList"], broken["bizTransactionList"]
    # A ledger refusal (more than the mine produced) is named by the EPCIS field, not the ledger's mass_kg.
    heavy = {**shipment, "eventID": "urn:uuid:heavy", "rei:massKg": 99_000}
    before = _ledger_counts(db)
    response = capture(client, clerks["ENT-NSM"], document(mine, broken, heavy))
    assert response.status_code == 422, response.json
    errors = response.json["errors"]["receipt"]["errors"]
    by_event = {}
    for e in errors:
        by_event.setdefault(e["event_id"], []).append(e)
    assert {e["field"] for e in by_event["urn:uuid:broken"]} == {"eventTime", "destinationList", "bizTransactionList"}
    assert all(e["line"] == 2 and e["pointer"] == f"/epcisBody/eventList/1/{e['field']}" and e["params"]["field"]
               for e in by_event["urn:uuid:broken"])
    [over] = by_event["urn:uuid:heavy"]
    assert over["code"] == "over_holding" and over["field"] == "quantityList"
    assert over["pointer"] == "/epcisBody/eventList/2/quantityList"
    assert all(word not in e["message"] for e in errors for word in ("mass_kg", "occurred_at", "to_id", "doc_no"))
    assert _ledger_counts(db) == before
    assert db.batches.find_one({"_id": MINE_CODE}) is None
