"""Stealing a batch with a made-up receipt, through the HTTP API: the claim moves nothing and is seen."""
import uuid
from datetime import datetime, timezone

from inspector.codes import batch_code
from inspector.ledger import rollback

SUBMIT = "/api/ledger/submissions"
TRANSFERS = "/api/ledger/transfers"
CODE = "RE2345678C" + batch_code.check_character("RE2345678C")


def post(client, headers, events):
    return client.post(SUBMIT, headers=headers, json={"events": events})


def produce(client, clerks, code=CODE):
    response = post(client, clerks["ENT-NSM"], [
        {"event_id": f"P-{code}", "type": "production", "occurred_at": "2026-11-02",
         "outputs": [{"code": code, "stage": "ore", "product_type": "bastnaesite_concentrate", "mass_kg": 1000,
                      "reo_pct": 50.0}]}])
    assert response.status_code == 201, response.json


def steal(client, clerks, event_id="X1", doc="WB-FAKE-1"):
    return post(client, clerks["ENT-BPS"], [{"event_id": event_id, "type": "receipt", "occurred_at": "2026-11-04",
                                             "code": CODE, "from_id": "ENT-NSM", "doc_no": doc}])


def scan(client, clerks, holder):
    body = {"code": CODE, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "warehouse", "name": "NSM yard"}, "holder_enterprise_id": holder}
    response = client.post("/api/scans", json=body, headers=clerks["inspector"])
    assert response.status_code in (200, 201), response.json
    return response.json["verdict"]


def test_a_made_up_receipt_leaves_the_batch_with_its_holder(client, clerks, db):
    produce(client, clerks)
    response = steal(client, clerks)
    assert response.status_code == 201, response.json
    assert [f["code"] for f in response.json["flags"]] == ["receipt_without_shipment"]
    assert db.batches.find_one({"_id": CODE})["holder_id"] == "ENT-NSM"


def test_a_claimant_cannot_retire_split_or_ship_the_batch(client, clerks):
    produce(client, clerks)
    assert steal(client, clerks).status_code == 201
    for event in ({"type": "consumption", "status": "consumed"},
                  {"type": "split", "outputs": [{"mass_kg": 500}, {"mass_kg": 500}]},
                  {"type": "shipment", "mass_kg": 1000, "to_id": "ENT-GMT", "doc_no": "WB-ON"}):
        response = post(client, clerks["ENT-BPS"], [{"event_id": f"U-{event['type']}", "occurred_at": "2026-11-05",
                                                     "code": CODE, **event}])
        assert response.status_code == 422, (event["type"], response.json)
        assert response.json["errors"]["receipt"]["errors"][0]["code"] == "not_your_enterprise"


def test_the_holders_clean_stock_is_not_failed_by_the_claim_but_shown_disputed(client, clerks):
    produce(client, clerks)
    assert steal(client, clerks).status_code == 201
    verdict = scan(client, clerks, "ENT-NSM")
    codes = [r["code"] for r in verdict["reasons"]]
    assert "unrecorded_transfer" not in codes and "retired_code" not in codes
    disputed = next(r for r in verdict["reasons"] if r["code"] == "disputed_holder")
    assert disputed["severity"] == "warning"
    assert disputed["evidence"]["claimant_id"] == "ENT-BPS" and disputed["evidence"]["doc_no"] == "WB-FAKE-1"


def test_the_claim_is_listed_for_the_holder_the_claimant_and_supervisors_only(client, clerks):
    produce(client, clerks)
    assert steal(client, clerks).status_code == 201
    for who in ("ENT-NSM", "ENT-BPS", "supervisor", "admin"):
        response = client.get(TRANSFERS, headers=clerks[who])
        assert response.status_code == 200, (who, response.json)
        claims = [c for c in response.json["claims"] if c["batch_code"] == CODE]
        assert [(c["claimant_id"], c["holder_id"], c["doc_no"]) for c in claims] == \
            [("ENT-BPS", "ENT-NSM", "WB-FAKE-1")], who
    outsider = client.get(TRANSFERS, headers=clerks["ENT-GMT"])
    assert outsider.status_code == 200 and all(c["batch_code"] != CODE for c in outsider.json["claims"])
    assert client.get(TRANSFERS, headers=clerks["inspector"]).status_code == 403


def test_the_claim_feeds_the_risk_ranking(client, clerks):
    produce(client, clerks)
    assert steal(client, clerks).status_code == 201
    ranking = client.get("/api/risk/enterprises", headers=clerks["supervisor"]).json
    row = next(r for r in ranking["items"] if r["enterprise_id"] == "ENT-BPS")
    factor = next(f for f in row["factors"] if f["factor"] == "receipt_claims")
    assert factor["count"] == 1 and factor["points"] == factor["weight"] > 0
    assert CODE in factor["batches"]


def test_a_claimant_cannot_read_the_batchs_history(client, clerks):
    produce(client, clerks)
    assert steal(client, clerks).status_code == 201
    assert client.get(f"/api/epcis/batches/{CODE}/history", headers=clerks["ENT-BPS"]).status_code == 404
    assert client.get(f"/api/epcis/batches/{CODE}/history", headers=clerks["ENT-NSM"]).status_code == 200


def test_a_rolled_back_claim_leaves_no_claim(client, clerks, db):
    produce(client, clerks)
    response = steal(client, clerks)
    assert response.status_code == 201
    assert db.transfer_claims.count_documents({"batch_code": CODE}) == 1
    assert rollback.rollback(db, response.json["submission_id"])
    assert db.transfer_claims.count_documents({"batch_code": CODE}) == 0  # the demo data plants claims of its own
    listed = client.get(TRANSFERS, headers=clerks["ENT-NSM"]).json["claims"]
    assert all(c["batch_code"] != CODE for c in listed)


def test_a_shipment_nobody_receives_is_in_transit_overdue_and_ranked(client, clerks, app):
    produce(client, clerks)
    assert post(client, clerks["ENT-NSM"], [{"event_id": "S1", "type": "shipment", "occurred_at": "2026-11-03",
                                             "code": CODE, "mass_kg": 1000, "to_id": "ENT-BPS",
                                             "doc_no": "WB-S1"}]).status_code == 201
    verdict = scan(client, clerks, "ENT-BPS")
    assert [r["evidence"]["doc_no"] for r in verdict["reasons"] if r["code"] == "in_transit"] == ["WB-S1"]
    listed = client.get(TRANSFERS, headers=clerks["ENT-BPS"]).json["in_transit"]
    assert [(t["batch_code"], t["overdue"]) for t in listed if t["batch_code"] == CODE] == [(CODE, True)]
    ranking = client.get("/api/risk/enterprises", headers=clerks["supervisor"]).json
    row = next(r for r in ranking["items"] if r["enterprise_id"] == "ENT-NSM")
    assert CODE in next(f for f in row["factors"] if f["factor"] == "overdue_transits")["batches"]
    assert post(client, clerks["ENT-BPS"], [{"event_id": "R1", "type": "receipt", "occurred_at": "2026-11-04",
                                             "code": CODE, "from_id": "ENT-NSM", "doc_no": "WB-S1"}]).status_code == 201
    assert "in_transit" not in [r["code"] for r in scan(client, clerks, "ENT-BPS")["reasons"]]
    assert all(t["batch_code"] != CODE for t in client.get(TRANSFERS, headers=clerks["ENT-BPS"]).json["in_transit"])


def test_a_shipment_alone_hands_nothing_over_until_the_receiver_agrees(client, clerks, db):
    """A sender cannot dump a batch on another enterprise, and nobody uses it while it travels."""
    produce(client, clerks)
    shipped = post(client, clerks["ENT-NSM"], [{"event_id": "S1", "type": "shipment", "occurred_at": "2026-11-03",
                                                "code": CODE, "mass_kg": 1000, "to_id": "ENT-BPS",
                                                "doc_no": "WB-S1"}])
    assert shipped.status_code == 201, shipped.json
    assert db.batches.find_one({"_id": CODE})["holder_id"] == "ENT-NSM"
    assert "in_transit" in [r["code"] for r in scan(client, clerks, "ENT-BPS")["reasons"]]
    assert "unrecorded_transfer" not in [r["code"] for r in scan(client, clerks, "ENT-BPS")["reasons"]]
    for who in ("ENT-NSM", "ENT-BPS"):
        used = post(client, clerks[who], [{"event_id": f"C-{who}", "type": "consumption", "occurred_at": "2026-11-04",
                                           "code": CODE, "status": "consumed"}])
        assert used.status_code == 422, (who, used.json)
        assert used.json["errors"]["receipt"]["errors"][0]["code"] in (("in_transit",) if who == "ENT-NSM"
                                                                       else ("not_your_enterprise",))
    received = post(client, clerks["ENT-BPS"], [{"event_id": "R1", "type": "receipt", "occurred_at": "2026-11-04",
                                                 "code": CODE, "from_id": "ENT-NSM", "doc_no": "WB-S1",
                                                 "mass_kg": 1000}])
    assert received.status_code == 201, received.json
    after = db.batches.find_one({"_id": CODE})
    assert after["holder_id"] == "ENT-BPS" and "in_transit" not in after
