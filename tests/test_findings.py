"""Findings through the HTTP API: logging them idempotently, scope, the supervisor's list, stats and prefill."""
import json
import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import gen_user
from finding_helpers import act, crew, finding_body, log_finding, read, sent_finding  # noqa: F401


def test_no_token_is_401_and_a_forged_token_is_401(client, crew):
    assert client.get("/api/inspections").status_code == 401
    assert client.post("/api/inspections", json=finding_body()).status_code == 401
    forged = client.get("/api/inspections", headers={"Authorization": "Bearer not.a.real.token"})
    assert forged.status_code == 401 and forged.json["errors"]["error_code"] == "invalid_token"


def test_a_finding_comes_back_with_its_fields_status_timeline_and_province(client, crew):
    body = finding_body()
    response = client.post("/api/inspections", json=body, headers=crew["inspector"])
    assert response.status_code == 201
    finding = response.json
    assert finding["status"] == "submitted"
    assert finding["enterprise_id"] == "ENT-GMT" and finding["enterprise_name"] == "Ganzhou Market Traders"
    assert finding["province"] == "Jiangxi"
    for key in ("site", "location", "batch_codes", "discrepancies", "observed_mass_kg", "severity", "notes"):
        assert finding[key] == body[key], key
    assert finding["client_id"] == body["client_id"]
    assert [e["action"] for e in finding["timeline"]] == ["submit"]
    assert finding["timeline"][0]["actor"] == "inspector"
    assert response.headers["ETag"] == f'"{finding["etag"]}"'


def test_replaying_a_client_id_returns_the_stored_finding(client, db, crew):
    body = finding_body()
    first = client.post("/api/inspections", json=body, headers=crew["inspector"])
    again = client.post("/api/inspections", json=body, headers=crew["inspector"])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert db.findings.count_documents({"client_id": body["client_id"]}) == 1


def test_the_same_client_id_with_another_payload_is_409(client, db, crew):
    body = finding_body()
    client.post("/api/inspections", json=body, headers=crew["inspector"])
    clash = client.post("/api/inspections", json={**body, "severity": "low"}, headers=crew["inspector"])
    assert clash.status_code == 409
    assert clash.json["errors"]["error_code"] == "client_id_reused"
    assert db.findings.find_one({"client_id": body["client_id"]})["severity"] == "high"


def test_client_ids_are_per_inspector(client, crew):
    body = finding_body()
    mine = client.post("/api/inspections", json=body, headers=crew["inspector"])
    theirs = client.post("/api/inspections", json=body, headers=crew["inspector2"])
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json["id"] != theirs.json["id"]


def test_only_inspectors_and_admins_log_findings(client, crew):
    for username in ("supervisor", "enterprise"):
        response = client.post("/api/inspections", json=finding_body(), headers=crew[username])
        assert response.status_code == 403, username
    assert client.post("/api/inspections", json=finding_body(), headers=crew["admin"]).status_code == 201


def test_bad_findings_are_422_with_a_reason(client, crew):
    headers = crew["inspector"]
    future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    cases = {
        "unknown_enterprise": finding_body(enterprise_id="ENT-NOPE"),
        "observed_in_future": finding_body(observed_at=future),
        "missing_fields": finding_body(discrepancies=[]),
    }
    for code, body in cases.items():
        response = client.post("/api/inspections", json=body, headers=headers)
        assert response.status_code == 422, code
        assert response.json["errors"]["error_code"] == code
    schema_errors = [
        finding_body(client_id="not-a-uuid"),
        finding_body(site={"type": "spaceport", "name": "x"}),
        finding_body(discrepancies=["made_up_reason"]),
        finding_body(severity="extreme"),
        finding_body(location={"lat": 91, "lon": 0}),
        finding_body(observed_at="2025-02-19T10:00:00"),  # no offset: device time must say its zone
        finding_body(enterprise_id={"$ne": None}),  # an operator is not a string
        {**finding_body(), "status": "resolved"},  # the client cannot choose the status
    ]
    for body in schema_errors:
        assert client.post("/api/inspections", json=body, headers=headers).status_code == 422, body


def test_every_verdict_reason_and_field_only_type_is_accepted(client, crew):
    from inspector.verdict.reasons import REASONS

    codes = list(REASONS) + ["label_missing_or_damaged", "packaging_noncompliant", "documents_missing",
                             "unlicensed_trading", "other"]
    finding = log_finding(client, crew["inspector"], discrepancies=codes, severity=None)
    assert finding["discrepancies"] == codes
    assert finding["severity"] == "high"  # failing reasons default to high


def test_scope_inspectors_see_their_own_findings_only(client, crew):
    mine = log_finding(client, crew["inspector"])
    theirs = log_finding(client, crew["inspector2"])
    assert client.get(f"/api/inspections/{theirs['id']}", headers=crew["inspector"]).status_code == 404
    listed = client.get("/api/inspections", headers=crew["inspector"]).json
    assert [f["id"] for f in listed] == [mine["id"]]


def test_scope_enterprises_see_only_their_sent_findings_and_others_are_404(client, crew):
    unsent = log_finding(client, crew["inspector"])
    sent = sent_finding(client, crew)
    bmm = sent_finding(client, crew, enterprise_id="ENT-BMM", site={"type": "market", "name": "Baotou metals market"})
    enterprise = crew["enterprise"]
    assert client.get(f"/api/inspections/{sent}", headers=enterprise).status_code == 200
    hidden = client.get(f"/api/inspections/{unsent['id']}", headers=enterprise)
    assert hidden.status_code == 404 and hidden.json["errors"]["error_code"] == "finding_not_found"
    other = client.get(f"/api/inspections/{bmm}", headers=enterprise)
    nowhere = client.get(f"/api/inspections/{uuid.uuid4()}", headers=enterprise)
    # Another enterprise's finding answers exactly like one that does not exist.
    assert other.status_code == nowhere.status_code == 404
    assert other.json == nowhere.json
    assert [f["id"] for f in client.get("/api/inspections", headers=enterprise).json] == [sent]
    # Asking for another enterprise by filter cannot widen the scope.
    assert client.get("/api/inspections?enterprise_id=ENT-BMM", headers=enterprise).json == []
    assert client.get(f"/api/inspections/{bmm}", headers=crew["enterprise2"]).status_code == 200


def test_scope_supervisors_see_their_provinces_only(client, db, auth, crew):
    jiangxi = log_finding(client, crew["inspector"])
    baotou = log_finding(client, crew["inspector"], enterprise_id="ENT-BMM")
    gen_user(db, "north", "supervisor", password="pw-north", provinces=["Inner Mongolia"])
    north = auth.headers("north", password="pw-north")
    assert client.get(f"/api/inspections/{jiangxi['id']}", headers=north).status_code == 404
    assert client.get(f"/api/inspections/{baotou['id']}", headers=north).status_code == 200
    assert [f["id"] for f in client.get("/api/inspections", headers=north).json] == [baotou["id"]]
    refused = act(client, north, jiangxi["id"], "confirm", etag='"whatever"')
    assert refused.status_code == 404
    stats = client.get("/api/inspections/stats", headers=north).json
    assert stats["total"] == 1 and stats["by_province"] == {"Inner Mongolia": 1}
    # The all-province supervisor and the admin see both.
    assert len(client.get("/api/inspections", headers=crew["supervisor"]).json) == 2
    assert len(client.get("/api/inspections", headers=crew["admin"]).json) == 2


def _seed_variety(client, crew):
    now = datetime.now(timezone.utc)
    made = [
        log_finding(client, crew["inspector"], severity="low", observed_at=(now - timedelta(days=10)).isoformat(),
                    discrepancies=["documents_missing"]),
        log_finding(client, crew["inspector"], enterprise_id="ENT-BMM", site={"type": "warehouse", "name": "W1"},
                    observed_at=(now - timedelta(days=5)).isoformat(), discrepancies=["over_quota"]),
        log_finding(client, crew["inspector2"], enterprise_id="ENT-TPE", site={"type": "port", "name": "Xingang"},
                    observed_at=(now - timedelta(days=1)).isoformat(), discrepancies=["no_export_record", "other"]),
    ]
    act(client, crew["supervisor"], made[1]["id"], "confirm")
    return made


def test_list_filters_each_narrow_the_log(client, crew):
    old, bmm, port = _seed_variety(client, crew)
    headers = crew["supervisor"]

    def ids(query):
        response = client.get(f"/api/inspections?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return {f["id"] for f in response.json}

    assert ids("status=confirmed") == {bmm["id"]}
    assert ids("status=confirmed&status=submitted") == {old["id"], bmm["id"], port["id"]}
    assert ids("enterprise_id=ENT-TPE") == {port["id"]}
    assert ids(f"inspector_id={port['inspector_id']}") == {port["id"]}
    assert ids("reason=over_quota") == {bmm["id"]}
    assert ids("severity=low") == {old["id"]}
    assert ids("site_type=port") == {port["id"]}
    assert ids("province=Inner%20Mongolia") == {bmm["id"]}
    since = (datetime.now(timezone.utc) - timedelta(days=7)).date().isoformat()
    assert ids(f"observed_from={since}") == {bmm["id"], port["id"]}
    assert ids(f"observed_to={since}") == {old["id"]}
    assert ids("province=Jiangxi&severity=high") == set()


def test_list_refuses_unknown_filter_values_instead_of_passing_them_to_the_database(client, crew):
    headers = crew["supervisor"]
    for query in ("status=bogus", "sort=$where", "overdue=maybe", "observed_from=yesterday", "reason=$ne"):
        assert client.get(f"/api/inspections?{query}", headers=headers).status_code == 422, query
    # An operator spelled as a value is only ever compared as text.
    log_finding(client, crew["inspector"])
    response = client.get('/api/inspections?enterprise_id={"$ne":null}', headers=headers)
    assert response.status_code == 200 and response.json == []


def test_list_sorts_and_paginates_with_x_pagination(client, crew):
    made = _seed_variety(client, crew)
    headers = crew["supervisor"]
    first = client.get("/api/inspections?sort=observed_at&page_size=2&page=1", headers=headers)
    second = client.get("/api/inspections?sort=observed_at&page_size=2&page=2", headers=headers)
    pagination = json.loads(first.headers["X-Pagination"])
    assert pagination["total"] == 3 and pagination["total_pages"] == 2 and pagination["next_page"] == 2
    assert [f["id"] for f in first.json + second.json] == [m["id"] for m in made]
    newest_first = client.get("/api/inspections", headers=headers).json
    assert [f["id"] for f in newest_first] == [m["id"] for m in reversed(made)]
    assert "timeline" not in newest_first[0]  # lists stay light; the finding itself has the timeline
    assert client.get("/api/inspections?page_size=1000", headers=headers).status_code == 422


def test_stats_count_by_status_reason_province_and_week(client, crew):
    _seed_variety(client, crew)
    stats = client.get("/api/inspections/stats", headers=crew["supervisor"])
    assert stats.status_code == 200
    body = stats.json
    assert body["total"] == 3 and body["overdue"] == 0
    assert body["by_status"] == {"confirmed": 1, "submitted": 2}
    assert body["by_reason"] == {"documents_missing": 1, "no_export_record": 1, "other": 1, "over_quota": 1}
    assert body["by_province"] == {"Inner Mongolia": 1, "Jiangxi": 1, "Tianjin": 1}
    assert sum(w["count"] for w in body["by_week"]) == 3
    assert all(len(w["week"]) == 8 and "-W" in w["week"] for w in body["by_week"])
    filtered = client.get("/api/inspections/stats?province=Jiangxi", headers=crew["supervisor"]).json
    assert filtered["total"] == 1
    assert client.get("/api/inspections/stats", headers=crew["inspector"]).status_code == 403


def _scan(db, inspector_id, **fields):
    scan = {"_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()), "inspector_id": inspector_id,
            "batch_code": "RE5Q7KX2M", "code": "RE5Q7KX2M", "holder_enterprise_id": "ENT-GMT",
            "scanned_at": datetime.now(timezone.utc) - timedelta(hours=1),
            "site": {"type": "market", "name": "Ganzhou rare-earth market"},
            "location": {"lat": 25.84, "lon": 114.94, "accuracy_m": 9.0}, "observed_mass_kg": 520.0,
            "verdict": {"status": "fail", "reasons": [
                {"code": "unrecorded_transfer", "severity": "warning", "message": "...", "evidence": {}},
                {"code": "quantity_mismatch", "severity": "fail", "message": "...", "evidence": {}}]}}
    scan.update(fields)
    db.scans.insert_one(scan)
    return scan


def test_prefill_drafts_a_finding_from_the_inspectors_scans(client, db, crew):
    inspector_id = db.users.find_one({"username": "inspector"})["_id"]
    scan = _scan(db, inspector_id)
    draft = client.get(f"/api/inspections/prefill?scan_id={scan['_id']}", headers=crew["inspector"])
    assert draft.status_code == 200
    assert draft.json["discrepancies"] == ["unrecorded_transfer", "quantity_mismatch"]
    assert draft.json["enterprise_id"] == "ENT-GMT" and draft.json["batch_codes"] == ["RE5Q7KX2M"]
    assert draft.json["severity"] == "high" and draft.json["observed_mass_kg"] == 520.0
    assert draft.json["site"]["type"] == "market"


def test_a_finding_citing_scans_fills_what_it_leaves_out(client, db, crew):
    inspector_id = db.users.find_one({"username": "inspector"})["_id"]
    scan = _scan(db, inspector_id)
    body = {"client_id": str(uuid.uuid4()), "scan_ids": [scan["_id"]], "notes": "Seen at stall 3."}
    response = client.post("/api/inspections", json=body, headers=crew["inspector"])
    assert response.status_code == 201, response.json
    finding = response.json
    assert finding["scan_ids"] == [scan["_id"]]
    assert finding["discrepancies"] == ["unrecorded_transfer", "quantity_mismatch"]
    assert finding["enterprise_id"] == "ENT-GMT" and finding["province"] == "Jiangxi"
    assert finding["location"]["lat"] == 25.84
    # What the inspector says wins over the scans.
    own = client.post("/api/inspections", json={**body, "client_id": str(uuid.uuid4()),
                                                "discrepancies": ["other"]}, headers=crew["inspector"])
    assert own.json["discrepancies"] == ["other"]


def test_scans_of_another_inspector_cannot_be_cited(client, db, crew):
    other_id = db.users.find_one({"username": "inspector2"})["_id"]
    scan = _scan(db, other_id)
    draft = client.get(f"/api/inspections/prefill?scan_id={scan['_id']}", headers=crew["inspector"])
    assert draft.status_code == 422 and draft.json["errors"]["error_code"] == "unknown_scans"
    body = finding_body(scan_ids=[scan["_id"]])
    assert client.post("/api/inspections", json=body, headers=crew["inspector"]).status_code == 422


def test_demo_findings_cover_every_state_and_both_demo_enterprises(client, db, crew):
    from seed.findings import load_demo_findings

    assert load_demo_findings(db) >= 15
    assert load_demo_findings(db) == 0  # a second load adds nothing
    states = {f["status"] for f in db.findings.find()}
    assert states == {"submitted", "confirmed", "dismissed", "awaiting_response", "responded", "resolved"}
    gmt = client.get("/api/inspections?page_size=100", headers=crew["enterprise"]).json
    assert gmt and {f["enterprise_id"] for f in gmt} == {"ENT-GMT"}
    assert {f["status"] for f in gmt} == {"awaiting_response", "responded", "resolved"}
    assert any(f["overdue"] for f in gmt)
    bmm = client.get("/api/inspections?page_size=100", headers=crew["enterprise2"]).json
    assert bmm and {f["enterprise_id"] for f in bmm} == {"ENT-BMM"}
    everything = client.get("/api/inspections?page_size=100", headers=crew["supervisor"]).json
    assert {f["inspector"] for f in everything} == {"inspector", "inspector2"}
    assert any(a["kind"] == "photo" for f in everything for a in f.get("attachments", []))
    assert any(a["kind"] == "document" for f in everything for a in f.get("attachments", []))


def test_openapi_documents_the_findings_endpoints(client):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    for path in ("/api/inspections", "/api/inspections/{finding_id}", "/api/inspections/{finding_id}/transitions",
                 "/api/inspections/{finding_id}/attachments", "/api/inspections/export", "/api/inspections/stats",
                 "/api/inspections/prefill"):
        assert path in paths, path
    create = paths["/api/inspections"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert create["requestBody"]["content"]["application/json"]["example"]["enterprise_id"] == "ENT-GMT"
    assert "multipart/form-data" in paths["/api/inspections/{finding_id}/attachments"]["post"]["requestBody"]["content"]
    transition = paths["/api/inspections/{finding_id}/transitions"]["post"]
    assert any(p["name"] == "If-Match" for p in transition["parameters"])
    assert {"403", "404", "409", "412", "428"} <= set(transition["responses"])
    assert {"413", "415"} <= set(paths["/api/inspections/{finding_id}/attachments"]["post"]["responses"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(list(finding_body()) + ["scan_ids", "$where", "status"]),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                                    | st.text(max_size=20), lambda inner: st.lists(inner, max_size=3)
                                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)))
def test_no_payload_makes_the_server_fail(client, crew, junk):
    body = {**finding_body(), **junk}
    response = client.post("/api/inspections", json=body, headers=crew["inspector"])
    assert response.status_code in (200, 201, 409, 422), (response.status_code, body)
