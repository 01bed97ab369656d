"""Registry administration through the HTTP API: enterprises, whitelist approvals, quota issues, penalties."""
import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from inspector.codes import uscc
from seed.loader import build

CASES = build("small")[1]
NEW = {"name": "Eastern Sea Rare Earth Separation", "uscc": "91320000FAKE00996P", "province": "Jiangsu",
       "roles": ["separator"], "city": "Lianyungang", "location": {"lat": 34.6, "lon": 119.2}}


@pytest.fixture
def admin(client, seeded, auth):
    return auth.headers("admin")


@pytest.fixture
def supervisor(auth, seeded):
    return auth.headers("supervisor")


@pytest.fixture
def inspector(auth, seeded):
    return auth.headers("inspector")


@pytest.fixture
def clerk(auth, seeded):
    return auth.headers("enterprise")  # a clerk of ENT-GMT


def scan(client, headers, code):
    body = {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Test market"}}
    response = client.post("/api/scans", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return {r["code"]: r for r in response.json["verdict"]["reasons"]}


def error_code(response):
    return response.json["errors"].get("error_code")


def etag(response):
    return response.headers["ETag"]


def day(text_or_date, shift=0):
    value = date.fromisoformat(text_or_date) if isinstance(text_or_date, str) else text_or_date
    return (value + timedelta(days=shift)).isoformat()


# -- enterprises ---------------------------------------------------------------------------------------------------
def test_admin_registers_an_enterprise_and_everyone_sees_its_uscc(client, admin, inspector, db):
    response = client.post("/api/registry/enterprises", json=NEW, headers=admin)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["uscc"] == NEW["uscc"] and created["uscc_parts"]["division_province"] == "Jiangsu"
    assert created["id"] == "ENT-FAKE00996" and etag(response)
    seen = client.get(f"/api/enterprises/{created['id']}", headers=inspector)
    assert seen.status_code == 200 and seen.json["uscc"] == NEW["uscc"] and seen.json["approvals"] == []
    entry = db.audit_log.find_one({"action": "registry.enterprise.create"})
    assert entry["target"] == f"enterprise:{created['id']}" and entry["actor"] == "admin"


def test_seed_enterprises_show_their_uscc(client, inspector):
    body = client.get("/api/enterprises/ENT-NSM", headers=inspector).json
    assert uscc.is_valid(body["uscc"]) and "FAKE" in body["uscc"]


@pytest.mark.parametrize("change, status, code", [
    ({"uscc": "91320000FAKE00996Q"}, 422, "uscc_check_character"),
    ({"uscc": "91320000FAKE0O996P"}, 422, "uscc_character"),
    ({"uscc": "9132000FAKE00996P"}, 422, "uscc_length"),
    ({"province": "Atlantis"}, 422, None),
    ({"roles": ["smuggler"]}, 422, None),
    ({"roles": []}, 422, None),
    ({"name": "   "}, 422, None),
    ({"location": {"lat": 95, "lon": 0}}, 422, None),
    ({"id": "nope"}, 422, None),
])
def test_bad_enterprise_input_is_422(client, admin, change, status, code):
    response = client.post("/api/registry/enterprises", json={**NEW, **change}, headers=admin)
    assert response.status_code == status, response.json
    if code:
        assert error_code(response) == code and response.json["errors"]["field"] == "uscc"


def test_a_mistyped_uscc_is_explained_as_a_typo(client, admin):
    response = client.post("/api/registry/enterprises", json={**NEW, "uscc": "91320000FAKE00996Q"}, headers=admin)
    assert response.json["message"].startswith("The check character should be P, not Q: this looks like a typo")


def test_a_duplicate_uscc_is_409_and_names_the_holder(client, admin):
    nsm = client.get("/api/registry/enterprises/ENT-NSM", headers=admin).json
    response = client.post("/api/registry/enterprises", json={**NEW, "uscc": nsm["uscc"].lower()}, headers=admin)
    assert response.status_code == 409 and error_code(response) == "uscc_taken"
    assert response.json["errors"]["enterprise_id"] == "ENT-NSM"
    again = client.post("/api/registry/enterprises", json={**NEW, "id": "ENT-NSM",
                                                           "uscc": uscc.complete("91320000FAKE0777")}, headers=admin)
    assert again.status_code == 409


@pytest.mark.parametrize("who", ["supervisor", "inspector", "enterprise"])
def test_only_admins_write_the_registry(client, seeded, auth, who):
    headers = auth.headers(who)
    assert client.post("/api/registry/enterprises", json=NEW, headers=headers).status_code == 403
    assert client.patch("/api/registry/enterprises/ENT-GMT", json={"name": "X"},
                        headers={**headers, "If-Match": '"x"'}).status_code == 403
    action = {"action": "revoke", "stage": "mining", "effective_from": "2025-01-01", "reason": "r"}
    assert client.post("/api/registry/enterprises/ENT-NSM/approvals", json=action, headers=headers).status_code == 403
    quota = {"enterprise_id": "ENT-NSM", "year": 2030, "issue_batch": 1, "category": "mining_light",
             "tonnes_reo": 1000, "issued_on": "2030-02-01"}
    assert client.post("/api/registry/quotas", json=quota, headers=headers).status_code == 403
    penalty = {"year": 2024, "kind": "other", "cut_pct": 5, "decided_on": "2025-01-01", "reason": "r",
               "decision_no": "D-1"}
    assert client.post("/api/registry/enterprises/ENT-NSM/penalties", json=penalty,
                       headers=headers).status_code == 403


def test_registry_reads_for_admin_and_supervisor_enterprise_users_see_their_own(client, supervisor, inspector, clerk):
    for path in ("/api/registry/enterprises", "/api/registry/quotas", "/api/registry/enterprises/ENT-NSM",
                 "/api/registry/enterprises/ENT-NSM/approvals", "/api/registry/enterprises/ENT-NSM/penalties"):
        assert client.get(path, headers=supervisor).status_code == 200, path
        assert client.get(path, headers=inspector).status_code == 403, path
    mine = client.get("/api/registry/enterprises", headers=clerk).json
    assert [e["id"] for e in mine] == ["ENT-GMT"]
    assert client.get("/api/registry/enterprises/ENT-GMT", headers=clerk).status_code == 200
    for path in ("/api/registry/enterprises/ENT-NSM", "/api/registry/enterprises/ENT-NSM/approvals",
                 "/api/registry/enterprises/ENT-NSM/penalties", "/api/registry/quotas?enterprise_id=ENT-NSM"):
        assert client.get(path, headers=clerk).status_code == 404, path


def test_listing_filters_by_province_role_and_uscc_with_pages(client, supervisor):
    jiangxi = client.get("/api/registry/enterprises?province=Jiangxi&page_size=3", headers=supervisor)
    assert jiangxi.status_code == 200 and len(jiangxi.json) == 3
    total = json.loads(jiangxi.headers["X-Pagination"])["total"]
    everyone = client.get("/api/registry/enterprises?province=Jiangxi&page_size=100", headers=supervisor).json
    assert len(everyone) == total > 3 and all(e["province"] == "Jiangxi" for e in everyone)
    separators = client.get("/api/registry/enterprises?role=separator&page_size=100", headers=supervisor).json
    assert separators and all("separator" in e["roles"] for e in separators)
    assert all("separation" in {w["stage"] for w in e["whitelist"]} for e in separators)
    code = separators[0]["uscc"]
    assert [e["uscc"] for e in client.get(f"/api/registry/enterprises?uscc={code}", headers=supervisor).json] == [code]
    assert client.get("/api/registry/enterprises?province=Atlantis", headers=supervisor).status_code == 422


def test_patch_needs_the_current_etag(client, admin, supervisor):
    path = "/api/registry/enterprises/ENT-BPS"
    first = client.get(path, headers=admin)
    assert client.patch(path, json={"name": "Baotou Plains Separation Co."}, headers=admin).status_code == 428
    stale = client.patch(path, json={"name": "X"}, headers={**admin, "If-Match": '"not-the-etag"'})
    assert stale.status_code == 412
    changed = client.patch(path, json={"name": "Baotou Plains Separation Co.", "province": "Hebei"},
                           headers={**admin, "If-Match": etag(first)})
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Baotou Plains Separation Co." and changed.json["province"] == "Hebei"
    assert etag(changed) != etag(first)
    assert client.patch(path, json={"name": "Y"}, headers={**admin, "If-Match": etag(first)}).status_code == 412
    seen = client.get("/api/enterprises/ENT-BPS", headers=supervisor)
    assert seen.json["name"] == "Baotou Plains Separation Co." and etag(seen) == etag(changed)


def test_patch_audits_what_changed(client, admin, db):
    path = "/api/registry/enterprises/ENT-BMM"
    current = client.get(path, headers=admin)
    response = client.patch(path, json={"roles": ["trader", "exporter"]}, headers={**admin, "If-Match": etag(current)})
    assert response.status_code == 200 and response.json["roles"] == ["trader", "exporter"]
    entry = db.audit_log.find_one({"action": "registry.enterprise.update"})
    assert entry["details"]["changes"]["roles"] == {"from": ["trader"], "to": ["trader", "exporter"]}


@pytest.mark.parametrize("body", [{}, {"uscc": "91320000FAKE00996P"}, {"roles": ["wizard"]}, {"name": ""}])
def test_bad_patches_are_422(client, admin, body):
    path = "/api/registry/enterprises/ENT-GMT"
    current = client.get(path, headers=admin)
    assert client.patch(path, json=body, headers={**admin, "If-Match": etag(current)}).status_code == 422


def test_a_role_cannot_go_while_its_approval_is_in_force(client, admin):
    path = "/api/registry/enterprises/ENT-NSM"
    current = client.get(path, headers=admin)
    response = client.patch(path, json={"roles": ["trader"]}, headers={**admin, "If-Match": etag(current)})
    assert response.status_code == 409 and error_code(response) == "approval_in_force"
    assert client.patch("/api/registry/enterprises/ENT-NOPE", json={"name": "X"},
                        headers={**admin, "If-Match": '"x"'}).status_code == 404


# -- approvals -----------------------------------------------------------------------------------------------------
def approvals_path(eid):
    return f"/api/registry/enterprises/{eid}/approvals"


def test_seed_approvals_come_from_the_history(client, supervisor):
    body = client.get(approvals_path("ENT-SSP"), headers=supervisor).json
    assert [(e["action"], e["stage"], e["effective_from"], e["effective_to"]) for e in body["history"]] == [
        ("grant", "separation", "2020-01-01", "2024-06-30")]
    assert body["today"] == [{"stage": "separation", "approved": False, "state": "expired"}]


@pytest.mark.parametrize("body, status, field", [
    ({"action": "suspend", "stage": "mining", "effective_from": "2025-01-01"}, 422, "reason"),
    ({"action": "suspend", "stage": "mining", "effective_from": "2025-01-01", "reason": "  "}, 422, "reason"),
    ({"action": "revoke", "stage": "mining", "effective_from": "2025-01-01"}, 422, "reason"),
    ({"action": "suspend", "stage": "mining", "effective_from": "2025-03-01", "effective_to": "2025-02-01",
      "reason": "r"}, 422, "effective_to"),
    ({"action": "grant", "stage": "smelting", "effective_from": "2025-01-01"}, 422, None),
    ({"action": "pause", "stage": "mining", "effective_from": "2025-01-01"}, 422, None),
    ({"action": "grant", "stage": "mining", "effective_from": "2025-13-01"}, 422, None),
    ({"action": "grant", "stage": "mining"}, 422, None),
    ({"action": "reinstate", "stage": "mining", "effective_from": "2025-01-01", "effective_to": "2025-02-01"}, 422,
     "effective_to"),
    ({"action": "reinstate", "stage": "mining", "effective_from": "2025-01-01"}, 409, None),
    ({"action": "grant", "stage": "mining", "effective_from": "2025-01-01"}, 409, None),
    ({"action": "grant", "stage": "separation", "effective_from": "2025-01-01"}, 422, None),
    ({"action": "suspend", "stage": "separation", "effective_from": "2025-01-01", "reason": "r"}, 409, None),
])
def test_bad_approval_actions_are_refused(client, admin, body, status, field):
    response = client.post(approvals_path("ENT-NSM"), json=body, headers=admin)
    assert response.status_code == status, response.json
    if field:
        assert response.json["errors"]["field"] == field
    assert len(client.get(approvals_path("ENT-NSM"), headers=admin).json["history"]) == 1


def test_history_is_appended_never_overwritten(client, admin, db):
    path = approvals_path("ENT-NSM")
    steps = [{"action": "suspend", "stage": "mining", "effective_from": "2025-03-01",
              "reason": "Tailings dam inspection failed.", "decision_no": "IM-2025-44"},
             {"action": "reinstate", "stage": "mining", "effective_from": "2025-05-10", "decision_no": "IM-2025-61"},
             {"action": "revoke", "stage": "mining", "effective_from": "2026-01-01", "reason": "Licence not renewed."}]
    for step in steps:
        response = client.post(path, json=step, headers=admin)
        assert response.status_code == 201, response.json
        assert response.json["action"] == step["action"] and response.json["recorded_by"] == "admin"
    history = client.get(path, headers=admin).json["history"]
    assert [e["action"] for e in history] == ["grant", "suspend", "reinstate", "revoke"]
    assert history[0]["effective_from"] == "2020-01-01" and history[0]["effective_to"] is None
    assert history[1]["reason"] == "Tailings dam inspection failed." and history[1]["decision_no"] == "IM-2025-44"
    assert [e["action"] for e in db.audit_log.find({"action": {"$regex": "^registry.approval"}})] == [
        "registry.approval.suspend", "registry.approval.reinstate", "registry.approval.revoke"]
    # After a revocation, a new grant re-admits the mine for its own period.
    regrant = client.post(path, json={"action": "grant", "stage": "mining", "effective_from": "2026-06-01"},
                          headers=admin)
    assert regrant.status_code == 201


def test_a_new_enterprise_is_granted_then_seen_approved_today(client, admin, supervisor):
    created = client.post("/api/registry/enterprises", json=NEW, headers=admin).json
    today = date.today()
    grant = {"action": "grant", "stage": "separation", "effective_from": day(today, -30),
             "effective_to": day(today, 365), "decision_no": "MIIT-WL-2026-9"}
    assert client.post(approvals_path(created["id"]), json=grant, headers=admin).status_code == 201
    view = client.get(f"/api/registry/enterprises/{created['id']}", headers=supervisor).json
    assert view["whitelist"] == [{"stage": "separation", "approved": True, "state": "granted"}]


def _clean_case():
    return next(c for c in CASES if c["description"].startswith("Clean magnets at a market"))


def _ancestor(client, headers, code, stage):
    ancestors = client.get(f"/api/batches/{code}/provenance", headers=headers).json["provenance"]["ancestors"]
    return next(a for a in ancestors if a["stage"] == stage)


def test_a_suspension_fails_batches_produced_in_its_window(client, admin, inspector):
    magnet = _clean_case()["code"]
    oxide = _ancestor(client, inspector, magnet, "compound")
    assert "producer_not_approved" not in scan(client, inspector, oxide["code"])
    assert scan(client, inspector, magnet) == {}
    window = {"action": "suspend", "stage": "separation", "effective_from": day(oxide["produced_on"], -3),
              "effective_to": day(oxide["produced_on"], 3), "reason": "Effluent over the discharge limit.",
              "decision_no": "JX-ENV-77"}
    assert client.post(approvals_path(oxide["producer_id"]), json=window, headers=admin).status_code == 201

    reasons = scan(client, inspector, oxide["code"])
    evidence = reasons["producer_not_approved"]["evidence"]
    assert evidence["approval_state"] == "suspended" and evidence["produced_on"] == oxide["produced_on"]
    assert evidence["deciding_entry"]["reason"] == "Effluent over the discharge limit."
    assert [a["action"] for a in evidence["approvals"]] == ["grant", "suspend"]
    assert set(scan(client, inspector, magnet)) == {"tainted_lineage"}


def test_a_batch_produced_outside_the_suspension_still_passes(client, admin, inspector):
    oxide = _ancestor(client, inspector, _clean_case()["code"], "compound")
    later = {"action": "suspend", "stage": "separation", "effective_from": day(oxide["produced_on"], 1),
             "reason": "Safety audit."}
    assert client.post(approvals_path(oxide["producer_id"]), json=later, headers=admin).status_code == 201
    assert "producer_not_approved" not in scan(client, inspector, oxide["code"])


def test_a_revocation_fails_later_production_and_reinstating_a_suspension_does_not_rewrite_the_past(
        client, admin, inspector):
    magnet = _clean_case()["code"]
    ore = _ancestor(client, inspector, magnet, "ore")
    revoke = {"action": "revoke", "stage": "mining", "effective_from": ore["produced_on"],
              "reason": "Mining licence withdrawn."}
    assert client.post(approvals_path(ore["producer_id"]), json=revoke, headers=admin).status_code == 201
    evidence = scan(client, inspector, ore["code"])["producer_not_approved"]["evidence"]
    assert evidence["approval_state"] == "revoked" and evidence["approvals"][-1]["reason"] == "Mining licence withdrawn."
    assert set(scan(client, inspector, magnet)) == {"tainted_lineage"}

    oxide = _ancestor(client, inspector, magnet, "compound")
    path = approvals_path(oxide["producer_id"])
    suspend = {"action": "suspend", "stage": "separation", "effective_from": day(oxide["produced_on"], -1),
               "reason": "Unreported stock."}
    assert client.post(path, json=suspend, headers=admin).status_code == 201
    assert client.get(path, headers=admin).json["today"] == [{"stage": "separation", "approved": False,
                                                             "state": "suspended"}]
    reinstate = {"action": "reinstate", "stage": "separation", "effective_from": date.today().isoformat()}
    assert client.post(path, json=reinstate, headers=admin).status_code == 201
    assert client.get(path, headers=admin).json["today"][0]["approved"] is True
    assert "producer_not_approved" in scan(client, inspector, oxide["code"])


# -- quotas --------------------------------------------------------------------------------------------------------
QUOTA = {"enterprise_id": "ENT-BPS", "year": 2030, "issue_batch": 1, "category": "separation", "tonnes_reo": 90000,
         "issued_on": "2030-02-20"}


def test_quota_issues_are_recorded_once_and_listed(client, admin, supervisor, db):
    response = client.post("/api/registry/quotas", json=QUOTA, headers=admin)
    assert response.status_code == 201, response.json
    assert response.json["tonnes_reo"] == 90000 and response.json["issued_on"] == "2030-02-20"
    again = client.post("/api/registry/quotas", json={**QUOTA, "tonnes_reo": 5}, headers=admin)
    assert again.status_code == 409 and error_code(again) == "quota_batch_taken"
    second = client.post("/api/registry/quotas", json={**QUOTA, "issue_batch": 2, "issued_on": "2030-08-15",
                                                       "tonnes_reo": 45000.5}, headers=admin)
    assert second.status_code == 201
    listed = client.get("/api/registry/quotas?year=2030&enterprise_id=ENT-BPS", headers=supervisor).json
    assert [(q["issue_batch"], q["tonnes_reo"]) for q in listed] == [(1, 90000), (2, 45000.5)]
    assert db.audit_log.count_documents({"action": "registry.quota.issue"}) == 2
    status = client.get("/api/enterprises/ENT-BPS/quota?year=2030", headers=supervisor).json
    assert status["categories"][0]["allocated_t"] == 135000.5


@pytest.mark.parametrize("change, status, code", [
    ({"category": "mining_light"}, 422, "category_not_fit"),
    ({"enterprise_id": "ENT-NSM"}, 422, "category_not_fit"),
    ({"enterprise_id": "ENT-NOPE"}, 422, "unknown_enterprise"),
    ({"tonnes_reo": 0}, 422, None),
    ({"tonnes_reo": -5}, 422, None),
    ({"category": "gold"}, 422, None),
    ({"year": 1850}, 422, None),
    ({"issue_batch": 0}, 422, None),
    ({"issued_on": "2027-01-01"}, 422, "bad_dates"),
    ({"issued_on": "yesterday"}, 422, None),
])
def test_bad_quota_issues_are_422(client, admin, change, status, code):
    response = client.post("/api/registry/quotas", json={**QUOTA, **change}, headers=admin)
    assert response.status_code == status, response.json
    if code:
        assert error_code(response) == code


def test_a_clerk_lists_only_its_own_quotas(client, clerk, supervisor):
    assert client.get("/api/registry/quotas", headers=clerk).json == []  # a trader holds no quota
    assert client.get("/api/registry/quotas?enterprise_id=ENT-GMT", headers=clerk).status_code == 200
    assert len(client.get("/api/registry/quotas?year=2024&page_size=100", headers=supervisor).json) > 10


# -- the quota view ------------------------------------------------------------------------------------------------
def test_the_quota_view_fills_issue_batches_in_issue_order(client, supervisor):
    year = date.today().year - 1
    status = client.get(f"/api/enterprises/ENT-NSM/quota?year={year}", headers=supervisor).json
    light = status["categories"][0]
    assert {"allocated_t", "used_t", "remaining_t", "used_pct"} <= set(light)  # what the PWA's gauge reads
    assert light["effective_t"] == light["allocated_t"] and light["penalty_cut_t"] == 0
    batches = light["issue_batches"]
    assert [b["issue_batch"] for b in batches] == [1, 2]
    assert batches[0]["used_t"] == batches[0]["tonnes_reo"] and batches[0]["remaining_t"] == 0
    assert sum(b["used_t"] for b in batches) == pytest.approx(light["used_t"], abs=0.2)
    assert batches[1]["remaining_t"] == pytest.approx(light["remaining_t"], abs=0.2)
    assert light["over_t"] == 0


def test_over_quota_shows_what_was_used_beyond_the_allocation(client, supervisor):
    year = date.today().year - 1
    status = client.get(f"/api/enterprises/ENT-ERR/quota?year={year}", headers=supervisor).json
    heavy = status["categories"][0]
    assert heavy["over_t"] > 0 and heavy["remaining_t"] == 0
    assert heavy["over_t"] == pytest.approx(heavy["used_t"] - heavy["allocated_t"], abs=0.2)
    assert all(b["remaining_t"] == 0 for b in heavy["issue_batches"])


# -- penalties -----------------------------------------------------------------------------------------------------
PENALTY = {"kind": "over_quota", "decision_no": "MIIT-PEN-7", "reason": "Mined beyond the quota."}


def test_an_over_quota_penalty_cuts_next_years_quota_by_the_tonnes_over(client, admin, supervisor, clerk):
    year = date.today().year - 1
    over = client.get(f"/api/enterprises/ENT-ERR/quota?year={year}", headers=supervisor).json["categories"][0]
    response = client.post("/api/registry/enterprises/ENT-ERR/penalties",
                           json={**PENALTY, "year": year, "decided_on": f"{year + 1}-01-20"}, headers=admin)
    assert response.status_code == 201, response.json
    assert response.json["effect"] == {"year": year + 1, "categories": [
        {"category": "mining_medium_heavy", "over_t": over["over_t"], "cut_t": over["over_t"]}]}

    heavy = client.get(f"/api/enterprises/ENT-ERR/quota?year={year + 1}", headers=supervisor).json["categories"][0]
    assert heavy["penalty_cut_t"] == pytest.approx(over["over_t"], abs=0.1)
    assert heavy["effective_t"] == pytest.approx(heavy["allocated_t"] - over["over_t"], abs=0.1)
    assert [p["decision_no"] for p in heavy["penalties"]] == ["MIIT-PEN-7"]
    assert heavy["issue_batches"][0]["cut_t"] == pytest.approx(over["over_t"], abs=0.1)
    assert heavy["remaining_t"] == pytest.approx(max(0, heavy["effective_t"] - heavy["used_t"]), abs=0.2)
    # The offence year itself is untouched.
    same = client.get(f"/api/enterprises/ENT-ERR/quota?year={year}", headers=supervisor).json["categories"][0]
    assert same["penalty_cut_t"] == 0
    listed = client.get("/api/registry/enterprises/ENT-ERR/penalties", headers=supervisor).json
    assert [p["decision_no"] for p in listed] == ["MIIT-PEN-7"]


def test_an_other_penalty_cuts_each_category_by_its_percentage(client, admin, supervisor):
    year = date.today().year - 1
    before = client.get(f"/api/enterprises/ENT-WHM/quota?year={year + 1}", headers=supervisor).json["categories"]
    body = {"kind": "other", "cut_pct": 10, "year": year, "decided_on": f"{year}-11-03", "decision_no": "SC-9",
            "reason": "Falsified shipment records."}
    assert client.post("/api/registry/enterprises/ENT-WHM/penalties", json=body, headers=admin).status_code == 201
    after = client.get(f"/api/enterprises/ENT-WHM/quota?year={year + 1}", headers=supervisor).json["categories"]
    assert len(after) == len(before) == 2
    for b, a in zip(before, after):
        assert a["penalty_cut_t"] == pytest.approx(b["allocated_t"] * 0.10, abs=0.1)
        assert a["effective_t"] == pytest.approx(b["allocated_t"] * 0.90, abs=0.1)
        assert a["penalties"][0]["cut_pct"] == 10


@pytest.mark.parametrize("body, code", [
    ({"kind": "other"}, "cut_pct_required"),
    ({"kind": "over_quota", "cut_pct": 5}, "bad_field"),
    ({"kind": "other", "cut_pct": 150}, None),
    ({"kind": "other", "cut_pct": -1}, None),
    ({"kind": "fine"}, None),
    ({"kind": "over_quota", "decided_on": "2019-05-01"}, "bad_dates"),
    ({"kind": "over_quota", "reason": ""}, None),
    ({"kind": "over_quota", "decision_no": None}, None),
    ({"kind": "over_quota", "category": "gold"}, None),
])
def test_bad_penalties_are_422(client, admin, body, code):
    full = {"year": 2024, "decided_on": "2025-01-10", "reason": "r", "decision_no": "D-1", **body}
    response = client.post("/api/registry/enterprises/ENT-ERR/penalties", json=full, headers=admin)
    assert response.status_code == 422, response.json
    if code:
        assert error_code(response) == code


def test_a_penalty_on_an_unknown_enterprise_is_404(client, admin):
    body = {"kind": "other", "cut_pct": 5, "year": 2024, "decided_on": "2025-01-10", "reason": "r", "decision_no": "D"}
    assert client.post("/api/registry/enterprises/ENT-NOPE/penalties", json=body, headers=admin).status_code == 404


def test_the_enterprise_directory_lists_only_what_the_caller_may_see(client, db, auth, inspector, clerk):
    """The finding form's offline picker: ids and names within the caller's scope, nothing more."""
    from tests.conftest import gen_user
    everyone = client.get("/api/enterprises?page_size=1000", headers=inspector)
    assert everyone.status_code == 200
    names = {e["id"]: e["name"] for e in everyone.json}
    assert names["ENT-GMT"] and names["ENT-BMM"] and set(everyone.json[0]) == {"id", "name", "province", "city"}
    gen_user(db, "north-supervisor", "supervisor", password="pw-north-1", provinces=["Inner Mongolia"])
    north = client.get("/api/enterprises?page_size=1000", headers=auth.headers("north-supervisor", password="pw-north-1")).json
    assert north and {e["province"] for e in north} == {"Inner Mongolia"}
    assert "ENT-GMT" not in {e["id"] for e in north}
    assert [e["id"] for e in client.get("/api/enterprises", headers=clerk).json] == ["ENT-GMT"]
    assert client.get("/api/enterprises").status_code == 401
    too_many = client.get("/api/enterprises?page_size=5000", headers=inspector)
    assert too_many.status_code == 422 and "page_size" in json.dumps(too_many.json)
