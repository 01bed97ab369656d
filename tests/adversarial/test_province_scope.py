"""Attack: a supervisor limited to Jiangxi reads another province's ledger, registry, quota and EPCIS history."""
from datetime import datetime, timezone

import pytest

from conftest import gen_user, sign_in
from inspector.periods import previous_period

HOME, ELSEWHERE = "Jiangxi", "Inner Mongolia"


@pytest.fixture
def scoped(seeded, db, client):
    """Headers for a Jiangxi-only supervisor, and ids of an Inner Mongolia enterprise with quota and history."""
    gen_user(db, "jx.super", role="supervisor", password="supervisor pw 1", provinces=[HOME])
    token = sign_in(client, "jx.super", "supervisor pw 1")["access_token"]
    far = next(e for e in db.enterprises.find({"province": ELSEWHERE, "roles": "mine"})
               if db.quotas.count_documents({"enterprise_id": e["_id"]}))
    return {"Authorization": f"Bearer {token}"}, far["_id"]


def _report(client, clerks, enterprise_id, events=()):
    period = previous_period(datetime.now(timezone.utc).strftime("%Y-%m"))
    events = [{**e, "enterprise_id": enterprise_id, "occurred_at": f"{period}-03"} for e in events]
    response = client.post("/api/ledger/submissions", json={"period": period, "events": events},
                           headers=clerks[enterprise_id])
    assert response.status_code == 201, response.json
    return response.json["submission_id"]


def assert_not_found(response):
    assert response.status_code == 404, response.json
    assert response.json["code"] == 404 and response.json["errors"]["error_code"]


def test_registry_of_another_province_is_404_like_an_unknown_id(client, scoped):
    headers, far = scoped
    for path in (f"/api/registry/enterprises/{far}", f"/api/registry/enterprises/{far}/approvals",
                 f"/api/registry/enterprises/{far}/penalties", f"/api/enterprises/{far}",
                 f"/api/enterprises/{far}/quota", f"/api/registry/quotas?enterprise_id={far}"):
        response = client.get(path, headers=headers)
        assert_not_found(response)
        unknown = client.get(path.replace(far, "ENT-NOPE"), headers=headers)
        assert unknown.status_code == 404 and unknown.json["errors"] == response.json["errors"], path
    listed = client.get("/api/registry/enterprises?page_size=100", headers=headers).json
    assert listed and {e["province"] for e in listed} == {HOME}
    quotas = client.get("/api/registry/quotas?page_size=100", headers=headers).json
    assert far not in {q["enterprise_id"] for q in quotas}


def test_ledger_submissions_of_another_province_are_hidden(client, clerks, db, scoped):
    headers, far = scoped
    home = db.enterprises.find_one({"province": HOME})["_id"]
    theirs, ours = _report(client, clerks, far), _report(client, clerks, home)
    assert_not_found(client.get(f"/api/ledger/submissions/{theirs}", headers=headers))
    assert client.get(f"/api/ledger/submissions/{ours}", headers=headers).status_code == 200
    listed = {r["submission_id"] for r in client.get("/api/ledger/submissions", headers=headers).json}
    assert ours in listed and theirs not in listed
    asked = client.get(f"/api/ledger/submissions?enterprise_id={far}", headers=headers).json
    assert asked == []


def test_epcis_history_of_another_provinces_batch_is_404(client, clerks, db, scoped):
    headers, far = scoped
    _report(client, clerks, far, [{"event_id": "EV-FAR-1", "type": "production", "outputs": [
        {"stage": "ore", "product_type": "bastnaesite_concentrate", "mass_kg": 1000, "reo_pct": 55.5}]}])
    code = db.ledger_events.find_one({"enterprise_id": far, "event_id": "EV-FAR-1"})["codes"][0]
    assert_not_found(client.get(f"/api/epcis/batches/{code}/history", headers=headers))
    # Unlimited staff still read it: the scope is the supervisor's, not the batch's.
    assert client.get(f"/api/epcis/batches/{code}/history", headers=clerks["supervisor"]).status_code == 200
