"""The service skeleton: health, docs, meta, configuration and the demo dataset."""
import subprocess
import sys
import time

import pytest

from api import create_app
from inspector.verdict.reasons import REASONS


def test_healthz_and_readyz_answer_on_a_reachable_database(client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["status"] == "ready"


def test_openapi_spec_and_offline_docs(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert spec.json["openapi"].startswith("3.")
    assert "/api/meta" in spec.json["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn" not in html.lower()
    # Every asset the page names is served by us.
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/api/docs/assets/{asset}" in html
        assert client.get(f"/api/docs/assets/{asset}").status_code == 200


def test_meta_lists_every_reason(client):
    meta = client.get("/api/meta").json
    assert {r["code"] for r in meta["reasons"]} == set(REASONS)
    assert len(REASONS) == 16  # the twelve of product.md; in_transit, disputed_holder (two-sided transfers); unverified_import; forged_label (signed labels)


def test_demo_cases_cover_every_reason_three_times(seeded):
    counts = {code: 0 for code in REASONS}
    for case in seeded:
        for reason in case["expected_reasons"]:
            counts[reason] += 1
    assert all(n >= 3 for n in counts.values()), counts
    assert sum(1 for c in seeded if c["expected_status"] == "pass") >= 3


def test_seed_load_is_idempotent(db):
    from seed.loader import load

    first = load(db, "small")
    counts = {c: db[c].count_documents({}) for c in ("batches", "movements", "enterprises", "quotas")}
    load(db, "small", force=True)
    assert {c: db[c].count_documents({}) for c in counts} == counts
    assert counts["batches"] == first["batches"]


def test_seed_is_deterministic():
    from seed.cases import Planter
    from seed.flow import generate_flow
    from seed.ledger import Ledger
    from seed.loader import SEED, today_utc

    def codes():
        ledger = Ledger(SEED, today_utc())
        generate_flow(ledger, "small")
        Planter(ledger).plant()
        return sorted(ledger.batches)

    assert codes() == codes()


def test_quotas_cover_2023_to_this_year_at_real_scale(seeded, db):
    from datetime import datetime, timezone

    years = set(db.quotas.distinct("year"))
    assert years == set(range(2023, datetime.now(timezone.utc).year + 1))
    biggest_2024 = db.quotas.find_one({"enterprise_id": "ENT-NSM", "year": 2024, "issue_batch": 1})
    assert abs(biggest_2024["tonnes_reo"] - 94_580) <= 1
    assert biggest_2024["category"] == "mining_light"
    for year, mining, separation in ((2023, 255_000, 243_850), (2024, 270_000, 254_000)):
        quotas = list(db.quotas.find({"year": year}))
        assert abs(sum(q["tonnes_reo"] for q in quotas if q["category"] != "separation") - mining) <= 10
        assert abs(sum(q["tonnes_reo"] for q in quotas if q["category"] == "separation") - separation) <= 10


def test_demo_cases_endpoint_is_only_in_demo_mode(client, seeded):
    response = client.get("/api/demo/cases")
    assert response.status_code == 200
    assert {"code", "expected_status", "expected_reasons", "description"} <= set(response.json[0])


@pytest.mark.parametrize("env,needle", [
    ({"MONGO_URI": "redis://localhost"}, "MONGO_URI"),
    ({"MAX_UPLOAD_BYTES": "lots"}, "MAX_UPLOAD_BYTES"),
    ({"MONGO_URI": "mongodb://localhost:27017"}, "SECRET_KEY"),
])
def test_invalid_configuration_refuses_to_start_with_one_line(env, needle, tmp_path):
    code = "from api import create_app; create_app()"
    base = {k: v for k, v in __import__("os").environ.items() if k not in ("MONGO_URI", "SECRET_KEY")}
    result = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                            timeout=60, cwd=str(__import__("pathlib").Path(__file__).parent.parent))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("configuration error")


def test_unreachable_mongodb_gives_503_with_retry_after_quickly(monkeypatch):
    # Port 9 on loopback has no MongoDB: the real driver path, failing fast.
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:9/?directConnection=true")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("MONGO_TIMEOUT_MS", "1500")
    app = create_app({"MONGO_DB": "unreachable"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    started = time.monotonic()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    login = client.post("/api/auth/login", json={"username": "a", "password": "b"})
    elapsed = time.monotonic() - started
    assert client.get("/api/meta").json["demo"] is False
    for response in (login,):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json["errors"]["error_code"] == "database_unavailable"
    assert elapsed < 3 * 6


def test_gunicorn_refuses_several_workers_in_embedded_mode(tmp_path):
    import os
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "MONGO_URI"}
    root = Path(__file__).parent.parent
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers", "3",
                             "--bind", "127.0.0.1:0", "api:create_app()"], env=env, cwd=root, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "exactly one worker" in result.stderr


def test_read_endpoints_are_documented_with_examples(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in ("/api/scans", "/api/scans/{scan_id}", "/api/batches/{code}", "/api/batches/{code}/provenance",
                 "/api/batches/{code}/descendants", "/api/enterprises/{enterprise_id}",
                 "/api/enterprises/{enterprise_id}/quota"):
        operations = paths[path]
        documented = [op for op in operations.values() if isinstance(op, dict) and "responses" in op]
        assert documented, path
        success = [r for op in documented for code, r in op["responses"].items() if code in ("200", "201")]
        assert any("example" in str(r) for r in success), path


@pytest.mark.parametrize("body,error", [
    (b"[" * 100_000 + b"]" * 100_000, "nested"),
    (b'{"username": "a", "password": "b", "year": 1' + b"0" * 5_000 + b"}", "number"),
    (b'{"username": "a\\ud800", "password": "b", "refresh_token": "\\udfff", "code": "\\ud800"}', "surrogate"),
], ids=["deep", "long-number", "lone-surrogate"])
def test_json_no_view_can_use_is_400_not_500(client, seeded, auth, body, error):
    # Found by the API fuzz work: Python's parser raised RecursionError or ValueError inside every JSON endpoint,
    # and a lone surrogate escape broke hashing (refresh) and storing (scans) later on.
    admin = auth.headers("admin")
    for path, headers in (("/api/auth/login", {}), ("/api/auth/refresh", {}), ("/api/scans", admin),
                          ("/api/users", admin), ("/api/inspections", admin)):
        response = client.post(path, data=body, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 400, (path, response.json)
        assert response.json["errors"]["error_code"] == "invalid_json"
        assert error in response.json["message"]
    # The sign-in check still comes first, and a surrogate pair (an emoji) is text like any other.
    assert client.post("/api/users", data=body, headers={"Content-Type": "application/json"}).status_code == 401
    assert client.post("/api/auth/login", json={"username": "\U0001F600", "password": "x"}).status_code == 401


def test_cases_hold_when_the_reporting_deadline_passes_after_the_load(db):
    # Loaded early on the 10th (UTC), judged that evening, when it is already the 11th in China and last month's
    # ledger deadline has passed: every enterprise filed before the 10th, so nobody turns late.
    from datetime import datetime, timezone

    from inspector.codes.labels import read_code
    from inspector.settings import Settings
    from inspector.verdict.judge import ScanContext, judge
    from seed.loader import build, load

    as_of, now = datetime(2026, 11, 10, tzinfo=timezone.utc), datetime(2026, 11, 10, 17, tzinfo=timezone.utc)
    load(db, as_of=as_of, now=now)
    for case in build("small", as_of)[1]:
        if case["expected_reasons"] == ["cloned_code"]:
            continue  # needs a located scan
        scan = case["scan"]
        ctx = ScanContext(scanned_at=now, site=scan.get("site"), holder_enterprise_id=scan.get("holder_enterprise_id"),
                          observed_mass_kg=scan.get("observed_mass_kg"))
        got = sorted(r["code"] for r in judge(db, read_code(case["code"]), ctx, Settings(), now).reasons)
        assert got == case["expected_reasons"], case["description"]
