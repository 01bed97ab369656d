"""Garbled GS1: a fake or mangled label must read as malformed_code, never as the real batch it resembles."""
import json
import uuid
from datetime import datetime, timezone

import pytest
from biip.checksums import gs1_standard_check_digit

FOREIGN = "0400638133393" + str(gs1_standard_check_digit("0400638133393"))  # another company's GTIN


def scan(client, headers, code):
    body = {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Test market"}}
    response = client.post("/api/scans", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["verdict"]


@pytest.fixture
def clean(seeded, db):
    """A batch the demo data labels with a GS1 code that passes."""
    case = next(c for c in seeded if c["code"].startswith("(01)") and c["expected_status"] == "pass")
    gtin, lot = case["code"][4:18], case["code"].split("(10)")[1]
    return gtin, lot


GARBLED = {
    "a trailing unread field": "(01){gtin}(10){lot}(XYZ)",
    "a space inside the lot": "(01){gtin}(10){lot_spaced}",
    "an unknown symbology identifier": "]A0{raw}",
    "element strings in a plain QR code": "]Q1{raw}",
    "a Digital Link with its lot in the query": "https://id.example.org/01/{gtin}?10={lot}",
    "a Digital Link with a zero-suppressed GTIN": "https://id.example.org/01/{short}/10/{lot}",
    "a Digital Link repeating an AI": "https://id.example.org/01/{gtin}/10/{lot}?17=271231&17=281231",
    "(01) with (37), an invalid pair": "(01){gtin}(10){lot}(37)5",
    "(250) without (21)": "(01){gtin}(10){lot}(250)X1",
    "an SSCC whose check digit fails": "(00)106141412345678909(01){gtin}(10){lot}",
    "a country code ISO 3166 lacks": "(01){gtin}(10){lot}(422)999",
    "a currency code ISO 4217 lacks": "(01){gtin}(10){lot}(30)5(3932)0001000",
}


def test_the_clean_label_passes(client, auth, clean):
    gtin, lot = clean
    assert scan(client, auth.headers("inspector"), f"(01){gtin}(10){lot}")["status"] == "pass"


@pytest.mark.parametrize("what", GARBLED)
def test_a_garbled_label_is_malformed_not_the_real_batch(client, auth, clean, what):
    gtin, lot = clean
    text = GARBLED[what].format(gtin=gtin, lot=lot, lot_spaced=f"{lot[:4]} {lot[4:]}", raw=f"01{gtin}10{lot}",
                                short=gtin.lstrip("0"))
    verdict = scan(client, auth.headers("inspector"), text)
    assert verdict["status"] == "fail"
    (reason,) = verdict["reasons"]
    assert reason["code"] == "malformed_code"


def _held(db):
    batch = db.batches.find_one({"status": "active", "gs1.lot": {"$exists": True}, "remaining_kg": {"$gt": 1},
                                 "$expr": {"$eq": ["$holder_id", "$producer_id"]}})
    assert batch["gs1"]["gtin"] != FOREIGN
    return batch


def test_epcis_a_foreign_gtin_with_our_lot_does_not_move_our_batch(client, clerks, db):
    batch = _held(db)
    to = "ENT-TPE" if batch["holder_id"] != "ENT-TPE" else "ENT-BPS"
    event = {"type": "ObjectEvent", "eventID": "urn:uuid:0c4f6a52-3333-4c1e-9a10-000000000001",
             "eventTime": "2026-11-20T09:00:00.000+08:00", "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
             "bizStep": "shipping", "epcList": [f"https://id.gs1.org/01/{FOREIGN}/10/{batch['gs1']['lot']}"],
             "rei:massKg": batch["remaining_kg"],
             "sourceList": [{"type": "owning_party", "source": batch["holder_id"]}],
             "destinationList": [{"type": "owning_party", "destination": to}],
             "bizTransactionList": [{"type": "bol", "bizTransaction": "urn:rare-earth-inspector:doc:WB-X1"}]}
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                             {"rei": "https://rare-earth-inspector.example/epcis/"}],
                "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-20T10:00:00+08:00",
                "epcisBody": {"eventList": [event]}}
    response = client.post("/api/epcis/capture", headers=clerks[batch["holder_id"]], data=json.dumps(document),
                           content_type="application/ld+json")
    assert response.status_code == 422, response.json
    (error,) = response.json["errors"]["receipt"]["errors"]
    assert error["code"] == "unknown_batch"
    assert db.batches.find_one({"_id": batch["_id"]})["holder_id"] == batch["holder_id"]


def test_json_a_foreign_gtin_beside_our_code_is_refused(client, clerks, db):
    batch = _held(db)
    to = "ENT-TPE" if batch["holder_id"] != "ENT-TPE" else "ENT-BPS"
    event = {"event_id": "X1", "type": "shipment", "occurred_at": "2026-11-20", "enterprise_id": batch["holder_id"],
             "code": batch["_id"], "gs1": {"gtin": FOREIGN, "lot": batch["gs1"]["lot"]},
             "mass_kg": batch["remaining_kg"], "to_id": to, "doc_no": "WB-X1"}
    response = client.post("/api/ledger/submissions", headers=clerks[batch["holder_id"]], json={"events": [event]})
    assert response.status_code == 422, response.json
    (error,) = response.json["errors"]["receipt"]["errors"]
    assert error["code"] == "bad_field" and error["field"] == "code"
    assert db.batches.find_one({"_id": batch["_id"]})["holder_id"] == batch["holder_id"]
