"""Monthly reporting compliance through the HTTP API: the deadline edges in Shanghai time, scope, history."""
import uuid
from datetime import datetime, timezone

import pytest

from api import create_app
from api.context import db as current_db
from conftest import TEST_SECRET, AuthActions, gen_enterprise, gen_user
from inspector.clock import CST

PERIOD = "2026-02"  # due by the end of 10 March 2026, China time
AFTER_DEADLINE = datetime(2026, 3, 15, 12, 0, tzinfo=CST)
ENTERPRISES = [
    {"enterprise_id": "ENT-AAA", "name": "Punctual Separation", "roles": ["separator"], "province": "Jiangxi"},
    {"enterprise_id": "ENT-BBB", "name": "Midnight Metals", "roles": ["metal_smelter"], "province": "Jiangxi"},
    {"enterprise_id": "ENT-CCC", "name": "Silent Magnets", "roles": ["magnet_maker"], "province": "Zhejiang"},
]


def _app(**config):
    return create_app({"MONGO_DB": f"test_{uuid.uuid4().hex}", "SEED_DEMO": False, "TESTING": True,
                       "SECRET_KEY": TEST_SECRET, **config})


@pytest.fixture
def strict_app():
    """An app reading the deadline as "before the 10th": the 10th itself is already late."""
    app = _app(REPORT_DEADLINE_INCLUSIVE=False)
    yield app
    with app.app_context():
        current_db().client.drop_database(current_db().name)


def _world(app, at=AFTER_DEADLINE):
    """Three enterprises, a supervisor, an inspector and a clerk of ENT-AAA; the app's clock stands at `at`."""
    app.config["CLOCK"] = lambda: at
    client = app.test_client()
    auth = AuthActions(client)
    with app.app_context():
        db = current_db()
        for enterprise in ENTERPRISES:
            gen_enterprise(db, **enterprise)
        users = {role: gen_user(db, role=role, **extra) for role, extra in (
            ("supervisor", {}), ("admin", {}), ("inspector", {}), ("enterprise", {"enterprise_id": "ENT-AAA"}))}
        users["jiangxi"] = gen_user(db, role="supervisor", provinces=["Jiangxi"])
    headers = {name: auth.headers(user["username"], password) for name, (user, password) in users.items()}
    return client, headers


def _file(app, client, headers, enterprise_id, period, at):
    """File a nil report (no events) for the month through the ledger intake, with the clock standing at `at`."""
    clock = app.config["CLOCK"]
    app.config["CLOCK"] = lambda: at
    try:
        response = client.post("/api/ledger/submissions", json={"period": period, "events": [],
                                                                 "enterprise_id": enterprise_id},
                               headers=headers["admin"])
    finally:
        app.config["CLOCK"] = clock
    assert response.status_code == 201, response.json
    assert period in response.json["periods"]


def _compliance(client, headers, **query):
    response = client.get("/api/reporting/compliance", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _by_id(body):
    return {row["enterprise_id"]: row for row in body["items"]}


def test_the_10th_at_23_59_59_shanghai_is_on_time_and_the_11th_at_midnight_is_late(app):
    client, headers = _world(app)
    _file(app, client, headers, "ENT-AAA", PERIOD, datetime(2026, 3, 10, 23, 59, 59, tzinfo=CST))
    _file(app, client, headers, "ENT-BBB", PERIOD, datetime(2026, 3, 11, 0, 0, 0, tzinfo=CST))
    body = _compliance(client, headers["supervisor"], period=PERIOD)
    rows = _by_id(body)
    assert body["deadline"] == "2026-03-10T23:59:59+08:00"
    assert rows["ENT-AAA"]["status"] == "on_time"
    assert rows["ENT-AAA"]["submitted_at"] == "2026-03-10T23:59:59+08:00"
    assert rows["ENT-AAA"]["late_by_hours"] is None
    assert rows["ENT-BBB"]["status"] == "late"
    assert rows["ENT-BBB"]["submitted_at"] == "2026-03-11T00:00:00+08:00"
    assert rows["ENT-BBB"]["late_by_days"] == 1 and rows["ENT-BBB"]["late_by_hours"] < 0.01
    assert rows["ENT-CCC"]["status"] == "missing"
    assert rows["ENT-CCC"]["late_by_days"] == 5  # overdue since the end of the 10th, now the 15th at noon
    assert [r["enterprise_id"] for r in body["items"]] == ["ENT-CCC", "ENT-BBB", "ENT-AAA"]  # worst first
    assert body["counts"] == {"missing": 1, "late": 1, "open": 0, "on_time": 1}
    # A correction filed later does not make the month late: the first submission counts.
    _file(app, client, headers, "ENT-AAA", PERIOD, datetime(2026, 3, 12, 9, 0, tzinfo=CST))
    again = _by_id(_compliance(client, headers["supervisor"], period=PERIOD))["ENT-AAA"]
    assert again["status"] == "on_time" and again["submissions"] == 2
    assert again["last_submitted_at"] == "2026-03-12T09:00:00+08:00"


def test_the_same_edge_in_utc_is_judged_in_shanghai_time(app):
    client, headers = _world(app)
    # 15:59:59 UTC on the 10th is 23:59:59 in Shanghai; 16:00 UTC is already the 11th there.
    _file(app, client, headers, "ENT-AAA", PERIOD, datetime(2026, 3, 10, 15, 59, 59, tzinfo=timezone.utc))
    _file(app, client, headers, "ENT-BBB", PERIOD, datetime(2026, 3, 10, 16, 0, 0, tzinfo=timezone.utc))
    rows = _by_id(_compliance(client, headers["supervisor"], period=PERIOD))
    assert (rows["ENT-AAA"]["status"], rows["ENT-BBB"]["status"]) == ("on_time", "late")


def test_before_the_10th_makes_the_10th_itself_late(strict_app):
    client, headers = _world(strict_app)
    _file(strict_app, client, headers, "ENT-AAA", PERIOD, datetime(2026, 3, 9, 23, 59, 59, tzinfo=CST))
    _file(strict_app, client, headers, "ENT-BBB", PERIOD, datetime(2026, 3, 10, 0, 0, 0, tzinfo=CST))
    body = _compliance(client, headers["supervisor"], period=PERIOD)
    rows = _by_id(body)
    assert body["deadline"] == "2026-03-09T23:59:59+08:00"
    assert "before" in body["deadline_rule"]
    assert (rows["ENT-AAA"]["status"], rows["ENT-BBB"]["status"]) == ("on_time", "late")


def test_nothing_entered_is_open_until_the_deadline_passes_then_missing(app):
    client, headers = _world(app, at=datetime(2026, 3, 10, 23, 59, 59, tzinfo=CST))
    body = _compliance(client, headers["supervisor"], period=PERIOD)
    assert body["deadline_passed"] is False
    assert {r["status"] for r in body["items"]} == {"open"}
    app.config["CLOCK"] = lambda: datetime(2026, 3, 11, 0, 0, 0, tzinfo=CST)
    body = _compliance(client, headers["supervisor"], period=PERIOD)
    assert body["deadline_passed"] is True
    assert body["counts"]["missing"] == 3 and body["counts"]["open"] == 0


def test_without_a_period_the_month_being_entered_now_is_shown(app):
    client, headers = _world(app)
    assert _compliance(client, headers["supervisor"])["period"] == PERIOD


@pytest.mark.parametrize("period, code", [("2026-13", "invalid_period"), ("abc", "invalid_period"),
                                          ("2026-00", "invalid_period"), ("2026-3", "invalid_period"),
                                          ("", "invalid_period"), ("1999-12", "period_out_of_range"),
                                          ("2026-04", "period_in_future"), ("2100-01", "period_in_future")])
def test_a_bad_period_is_422_with_a_reason(app, period, code):
    client, headers = _world(app)
    response = client.get("/api/reporting/compliance", query_string={"period": period}, headers=headers["supervisor"])
    assert response.status_code == 422
    assert response.json["errors"]["error_code"] == code
    assert response.json["errors"]["query"]["period"]


def test_the_current_month_can_be_asked_for_and_is_open(app):
    client, headers = _world(app)
    body = _compliance(client, headers["supervisor"], period="2026-03")
    assert body["deadline"] == "2026-04-10T23:59:59+08:00"
    assert body["counts"]["open"] == 3


def test_status_and_province_filters(app):
    client, headers = _world(app)
    _file(app, client, headers, "ENT-BBB", PERIOD, datetime(2026, 3, 12, 9, 0, tzinfo=CST))
    late = _compliance(client, headers["admin"], period=PERIOD, status="late")
    assert [r["enterprise_id"] for r in late["items"]] == ["ENT-BBB"]
    assert late["total"] == 1 and late["counts"]["missing"] == 2  # the counts are before the status filter
    zhejiang = _compliance(client, headers["admin"], period=PERIOD, province="Zhejiang")
    assert [r["enterprise_id"] for r in zhejiang["items"]] == ["ENT-CCC"]
    bad = client.get("/api/reporting/compliance", query_string={"status": "sleeping"}, headers=headers["admin"])
    assert bad.status_code == 422


def test_a_supervisor_with_provinces_sees_only_those(app):
    client, headers = _world(app)
    body = _compliance(client, headers["jiangxi"], period=PERIOD)
    assert {r["province"] for r in body["items"]} == {"Jiangxi"}
    assert sum(body["counts"].values()) == 2
    assert _compliance(client, headers["jiangxi"], period=PERIOD, province="Zhejiang")["items"] == []


def test_only_supervisors_and_admins_see_compliance(app):
    client, headers = _world(app)
    assert client.get("/api/reporting/compliance").status_code == 401
    for role in ("inspector", "enterprise"):
        response = client.get("/api/reporting/compliance", headers=headers[role])
        assert response.status_code == 403
        assert response.json["errors"]["error_code"] == "forbidden_role"


def test_an_enterprise_registered_after_a_month_does_not_owe_it(app):
    client, headers = _world(app)
    with app.app_context():
        gen_enterprise(current_db(), "ENT-NEW", name="Newcomer Trading", roles=["trader"], province="Jiangxi",
                       registered_on=datetime(2026, 3, 5, tzinfo=CST))
    assert "ENT-NEW" not in _by_id(_compliance(client, headers["supervisor"], period=PERIOD))
    assert _by_id(_compliance(client, headers["supervisor"], period="2026-03"))["ENT-NEW"]["status"] == "open"


def test_a_clerk_sees_their_own_record_newest_first(app):
    client, headers = _world(app)
    _file(app, client, headers, "ENT-AAA", PERIOD, datetime(2026, 3, 11, 8, 0, tzinfo=CST))
    _file(app, client, headers, "ENT-AAA", "2026-01", datetime(2026, 2, 3, 8, 0, tzinfo=CST))
    response = client.get("/api/reporting/enterprises/ENT-AAA", query_string={"months": 3},
                          headers=headers["enterprise"])
    assert response.status_code == 200, response.json
    body = response.json
    assert [p["period"] for p in body["periods"]] == ["2026-02", "2026-01", "2025-12"]
    assert [p["status"] for p in body["periods"]] == ["late", "on_time", "missing"]
    assert body["periods"][0]["deadline"] == "2026-03-10T23:59:59+08:00"
    assert body["counts"] == {"missing": 1, "late": 1, "open": 0, "on_time": 1}
    assert len(client.get("/api/reporting/enterprises/ENT-AAA", headers=headers["enterprise"]).json["periods"]) == 12


def test_another_enterprise_record_is_404_for_a_clerk_and_outside_a_supervisors_provinces(app):
    client, headers = _world(app)
    assert client.get("/api/reporting/enterprises/ENT-BBB", headers=headers["enterprise"]).status_code == 404
    assert client.get("/api/reporting/enterprises/ENT-NOPE", headers=headers["admin"]).status_code == 404
    assert client.get("/api/reporting/enterprises/ENT-CCC", headers=headers["jiangxi"]).status_code == 404
    assert client.get("/api/reporting/enterprises/ENT-BBB", headers=headers["jiangxi"]).status_code == 200
    assert client.get("/api/reporting/enterprises/ENT-CCC", headers=headers["supervisor"]).status_code == 200
    assert client.get("/api/reporting/enterprises/ENT-AAA", headers=headers["inspector"]).status_code == 403
    for months in (0, 121, "x"):
        response = client.get("/api/reporting/enterprises/ENT-AAA", query_string={"months": months},
                              headers=headers["enterprise"])
        assert response.status_code == 422


def test_the_record_agrees_with_the_late_reporting_verdict(client, seeded, auth):
    supervisor = auth.headers("supervisor")
    case = next(c for c in seeded if c["expected_reasons"] == ["late_reporting"])
    verdict = client.get(f"/api/batches/{case['code']}", headers=supervisor).json["verdict"]
    reason = next(r for r in verdict["reasons"] if r["code"] == "late_reporting")
    for named in reason["evidence"]["enterprises"]:
        record = client.get(f"/api/reporting/enterprises/{named['enterprise_id']}", headers=supervisor).json
        behind = {p["period"] for p in record["periods"] if p["status"] in ("late", "missing")}
        assert behind == {p["period"] for p in named["periods"]}
