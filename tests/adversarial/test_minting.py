"""Minting: a clerk records batches of next to nothing to get clean codes that take no quota."""
import csv
import io
import json

import pytest

from inspector.codes import batch_code
from inspector.ledger.files import COLUMNS

SUBMIT, UPLOAD, CAPTURE = "/api/ledger/submissions", "/api/ledger/uploads", "/api/epcis/capture"
MINE = "RE2345678C" + batch_code.check_character("RE2345678C")
SECOND = "RE3456789D" + batch_code.check_character("RE3456789D")


def ore(event_id, mass, code=None, day="2026-11-02"):
    out = {"stage": "ore", "product_type": "bastnaesite_concentrate", "mass_kg": mass, "reo_pct": 50.0}
    if code:
        out["code"] = code
    return {"event_id": event_id, "type": "production", "enterprise_id": "ENT-NSM", "occurred_at": day,
            "outputs": [out]}


def refused(response):
    assert response.status_code == 422, response.json
    return response.json["errors"]["receipt"]["errors"]


def codes_held(db):
    return db.batches.count_documents({"holder_id": "ENT-NSM", "submission_id": {"$exists": True}})


@pytest.mark.parametrize("mass, rule", [(0.0004, "bad_mass"), (0.5, "below_minimum_mass")])
def test_a_production_of_next_to_nothing_is_refused_by_json(client, clerks, db, mass, rule):
    before = codes_held(db)
    (error,) = refused(client.post(SUBMIT, headers=clerks["ENT-NSM"], json={"events": [ore("M1", mass)]}))
    assert (error["code"], error["field"], error["line"]) == (rule, "outputs[0].mass_kg", 1)
    assert codes_held(db) == before
    accepted = client.post(SUBMIT, headers=clerks["ENT-NSM"], json={"events": [ore("M1", 1)]})
    assert accepted.status_code == 201, accepted.json


def test_five_hundred_weightless_outputs_in_one_event_mint_nothing(client, clerks, db):
    event = ore("M500", 0.0004)
    event["outputs"] = event["outputs"] * 500
    errors = refused(client.post(SUBMIT, headers=clerks["ENT-NSM"], json={"events": [event]}))
    assert errors[0]["code"] == "bad_mass"
    assert db.batches.count_documents({"submission_id": {"$exists": True}}) == 0


def test_a_weightless_output_line_of_a_csv_file_is_refused_on_its_line(client, clerks):
    rows = [{"event_id": "C1", "event_type": "production", "occurred_at": "2026-11-02", "enterprise_id": "ENT-NSM",
             "line_role": "output", "mass_kg": mass, "stage": "ore", "product_type": "bastnaesite_concentrate",
             "reo_pct": "55"} for mass in ("1000", "0.0004")]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([[row.get(c, "") for c in COLUMNS] for row in rows])
    response = client.post(UPLOAD, headers=clerks["ENT-NSM"], content_type="multipart/form-data",
                           data={"file": (io.BytesIO(out.getvalue().encode()), "ledger.csv")})
    (error,) = refused(response)
    assert (error["code"], error["field"], error["line"]) == ("bad_mass", "mass_kg", 3)


@pytest.mark.parametrize("quantity, uom, rule", [(0.4, "GRM", "bad_mass"), (500, "GRM", "below_minimum_mass")])
def test_a_weightless_epcis_output_is_refused(client, clerks, quantity, uom, rule):
    event = {"type": "TransformationEvent", "eventID": "urn:uuid:0c4f6a52-2222-4c1e-9a10-000000000001",
             "eventTime": "2026-11-02T09:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
             "outputQuantityList": [{"epcClass": f"urn:rare-earth-inspector:batch:{MINE}", "quantity": quantity,
                                     "uom": uom}],
             "ilmd": {"rei:stage": "ore", "rei:productType": "bastnaesite_concentrate", "rei:reoPct": 55.0},
             "rei:enterprise": "ENT-NSM"}
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                             {"rei": "https://rare-earth-inspector.example/epcis/"}],
                "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-02T10:00:00+08:00",
                "epcisBody": {"eventList": [event]}}
    response = client.post(CAPTURE, headers=clerks["ENT-NSM"], data=json.dumps(document),
                           content_type="application/ld+json")
    (error,) = refused(response)
    # Named as the EPCIS document names it: the output's quantity.
    assert error["code"] == rule and error["field"] == "outputQuantityList[0].quantity"


@pytest.mark.parametrize("kind", ["split", "merge", "import"])
def test_split_merge_and_import_outputs_have_the_minimum_too(client, clerks, db, kind):
    made = client.post(SUBMIT, headers=clerks["ENT-NSM"],
                       json={"events": [ore("P1", 1000, MINE), ore("P2", 1000, SECOND)]})
    assert made.status_code == 201, made.json
    event = {"split": {"event_id": "S1", "type": "split", "occurred_at": "2026-11-04", "code": MINE,
                       "outputs": [{"mass_kg": 999.5}, {"mass_kg": 0.5}]},
             "merge": {"event_id": "S1", "type": "merge", "occurred_at": "2026-11-04",
                       "inputs": [{"code": MINE, "mass_kg": 0.25}, {"code": SECOND, "mass_kg": 0.25}],
                       "outputs": [{"mass_kg": 0.5}]},
             "import": {**ore("S1", 0.5), "type": "import", "enterprise_id": "ENT-GMT", "declaration_no": "D-1",
                        "port": "CNFOC",
                        "origin_country": "MM"}}[kind]
    who = "ENT-GMT" if kind == "import" else "ENT-NSM"  # an importer the registry approves
    before = db.batches.count_documents({})
    (error,) = refused(client.post(SUBMIT, headers=clerks[who], json={"events": [event]}))
    assert error["code"] == "below_minimum_mass" and error["field"].startswith("outputs[")
    assert "MIN_BATCH_MASS_KG" in error["message"]
    assert db.batches.count_documents({}) == before
