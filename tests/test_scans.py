"""Scanning through the HTTP API: the planted cases, idempotency, clones, photos and bad input."""
import io
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from seed.loader import build

CASES = build("small")[1]


def scan_body(code, **extra):
    return {"code": code, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "market", "name": "Test market"}, **extra}


def label_png(text, fmt=zxingcpp.BarcodeFormat.QRCode, gs1=False):
    options = {"gs1": True} if gs1 else {}
    symbol = Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(text, fmt, **options),
                                                                        scale=8)))
    canvas = Image.new("L", (symbol.width + 200, symbol.height + 200), 255)
    canvas.paste(symbol, (100, 100))
    out = io.BytesIO()
    canvas.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def inspector(client, seeded, auth):
    return auth.headers("inspector")


@pytest.mark.parametrize("case", CASES, ids=[f"{c['order']:02d}-{'+'.join(c['expected_reasons']) or 'pass'}" for c in CASES])
def test_planted_case_gets_its_verdict(client, inspector, case):
    response = client.post("/api/scans", json=scan_body(case["code"], **case["scan"]), headers=inspector)
    assert response.status_code == 201, response.json
    verdict = response.json["verdict"]
    assert verdict["status"] == case["expected_status"]
    assert sorted(r["code"] for r in verdict["reasons"]) == case["expected_reasons"]
    for reason in verdict["reasons"]:
        assert reason["severity"] in ("fail", "warning") and reason["message"].endswith(".")


def test_demo_cases_endpoint_matches_the_seed_list(client, seeded):
    listed = client.get("/api/demo/cases").json
    assert [c["code"] for c in listed] == [c["code"] for c in CASES]


def test_over_quota_evidence_names_producer_year_category_and_tonnage(client, inspector):
    case = next(c for c in CASES if c["expected_reasons"] == ["over_quota"])
    reason = client.post("/api/scans", json=scan_body(case["code"]), headers=inspector).json["verdict"]["reasons"][0]
    ev = reason["evidence"]
    assert {"producer_name", "year", "category", "allocated_t", "used_t"} <= set(ev)
    assert ev["used_t"] > ev["allocated_t"] > 0
    assert ev["producer_name"] in reason["message"] and str(ev["year"]) in reason["message"]


def test_typo_reads_as_a_typo(client, inspector):
    case = next(c for c in CASES if c["expected_reasons"] == ["malformed_code"])
    reason = client.post("/api/scans", json=scan_body(case["code"]), headers=inspector).json["verdict"]["reasons"][0]
    assert "this looks like a typo" in reason["message"]


def test_scan_returns_provenance_back_to_the_mine_and_quota(client, inspector):
    deep = next(c for c in CASES if "nine levels" in c["description"])
    body = client.post("/api/scans", json=scan_body(deep["code"], **deep["scan"]), headers=inspector).json
    ancestors = body["provenance"]["ancestors"]
    assert body["provenance"]["depth"] == 9
    mines = [a for a in ancestors if a["stage"] == "ore"]
    assert mines and all(a["approved_on_production_date"] for a in mines)
    assert sum(a["mass_share_pct"] for a in mines) == pytest.approx(100, abs=0.5)
    assert body["provenance"]["holders"][-1]["to_id"] == "ENT-GMT"
    assert body["quota"]["enterprise_name"] == body["batch"]["producer_name"]


def test_same_client_id_replays_and_a_different_payload_conflicts(client, inspector, db):
    body = scan_body(CASES[-1]["code"])
    first = client.post("/api/scans", json=body, headers=inspector)
    again = client.post("/api/scans", json=body, headers=inspector)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["id"] == first.json["id"]
    other = client.post("/api/scans", json={**body, "observed_mass_kg": 5.0}, headers=inspector)
    assert other.status_code == 409
    assert other.json["errors"]["error_code"] == "client_id_reused"
    assert db.scans.count_documents({"client_id": body["client_id"]}) == 1


def test_offline_scan_keeps_device_time_and_is_judged_on_todays_data(client, inspector):
    hours_ago = datetime.now(timezone.utc) - timedelta(hours=5)
    case = next(c for c in CASES if c["expected_reasons"] == ["retired_code"])
    body = scan_body(case["code"], scanned_at=hours_ago.isoformat())
    stored = client.post("/api/scans", json=body, headers=inspector).json
    assert datetime.fromisoformat(stored["scanned_at"]) == hours_ago.replace(microsecond=hours_ago.microsecond // 1000 * 1000) or \
        abs(datetime.fromisoformat(stored["scanned_at"]) - hours_ago) < timedelta(milliseconds=1)
    assert datetime.fromisoformat(stored["received_at"]) - datetime.fromisoformat(stored["scanned_at"]) > timedelta(hours=4)
    assert stored["verdict"]["status"] == "fail"


def test_two_scans_too_far_apart_mark_the_later_one_cloned_and_link_both(client, inspector, auth):
    clean = next(c for c in CASES if c["expected_status"] == "pass" and c["code"].startswith("RE"))
    now = datetime.now(timezone.utc)
    first = client.post("/api/scans", json=scan_body(clean["code"], scanned_at=(now - timedelta(hours=2)).isoformat(),
                        location={"lat": 40.65, "lon": 109.84, "accuracy_m": 10}), headers=inspector).json
    assert first["verdict"]["status"] == "pass"
    other = auth.headers("inspector2")
    second = client.post("/api/scans", json=scan_body(clean["code"], scanned_at=now.isoformat(),
                         location={"lat": 22.49, "lon": 113.89, "accuracy_m": 10}), headers=other).json
    assert [r["code"] for r in second["verdict"]["reasons"]] == ["cloned_code"]
    evidence = second["verdict"]["reasons"][0]["evidence"]
    assert evidence["other_scan_id"] == first["id"] and evidence["speed_kmh"] > 150
    assert second["cloned_with"] == [first["id"]]
    supervisor = auth.headers("supervisor")
    assert client.get(f"/api/scans/{first['id']}", headers=supervisor).json["cloned_with"] == [second["id"]]


def test_nearby_scans_are_not_clones(client, inspector):
    clean = next(c for c in CASES if c["expected_status"] == "pass" and c["code"].startswith("RE"))
    now = datetime.now(timezone.utc)
    for minutes, lat in ((30, 25.830), (0, 25.840)):
        body = scan_body(clean["code"], scanned_at=(now - timedelta(minutes=minutes)).isoformat(),
                         location={"lat": lat, "lon": 114.93, "accuracy_m": 20})
        assert client.post("/api/scans", json=body, headers=inspector).json["verdict"]["status"] == "pass"


def test_photo_scan_decodes_the_label_and_judges_it(client, inspector):
    case = next(c for c in CASES if c["expected_reasons"] == ["retired_code"])
    form = {"client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": '{"type": "market", "name": "Stall 12"}', "image": (io.BytesIO(label_png(case["code"])), "label.png")}
    response = client.post("/api/scans", data=form, headers=inspector, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert response.json["codes"] == [{"text": case["code"], "format": "qr_code"}]
    assert [r["code"] for r in response.json["verdict"]["reasons"]] == ["retired_code"]


def test_gs1_datamatrix_photo_maps_to_the_registered_batch(client, inspector):
    gs1 = next(c for c in CASES if c["code"].startswith("(01)") and c["expected_status"] == "pass")
    form = {"client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site_type": "market", "holder_enterprise_id": "ENT-GMT",
            "image": (io.BytesIO(label_png(gs1["code"], zxingcpp.BarcodeFormat.DataMatrix, gs1=True)), "dm.png")}
    response = client.post("/api/scans", data=form, headers=inspector, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert response.json["verdict"]["status"] == "pass"
    assert response.json["batch"]["code"] == gs1["code"].split("(10)")[1]


def test_photo_without_code_is_422_no_code_found(client, inspector):
    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 180, 150)).save(blank, "JPEG")
    form = {"client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": '{"type": "port"}', "image": (io.BytesIO(blank.getvalue()), "bag.jpg")}
    response = client.post("/api/scans", data=form, headers=inspector, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.json["errors"]["error_code"] == "no_code_found"
    assert "type the code" in response.json["message"]
    decoded = client.post("/api/decode", data={"image": (io.BytesIO(blank.getvalue()), "bag.jpg")}, headers=inspector,
                          content_type="multipart/form-data")
    assert decoded.status_code == 200 and decoded.json["codes"] == []


def _png_bomb(side=20000):
    image = Image.new("1", (side, side), 1)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.mark.parametrize("payload,status,error_code", [
    (b"this is not an image at all", 415, "unsupported_image"),
    (None, 422, "broken_image"),  # a truncated JPEG
    ("bomb", 422, "image_too_large"),
])
def test_bad_photos_get_clear_4xx(client, inspector, payload, status, error_code):
    if payload is None:
        full = io.BytesIO()
        Image.effect_noise((800, 600), 64).convert("RGB").save(full, "JPEG")
        payload = full.getvalue()[:2000]
    elif payload == "bomb":
        payload = _png_bomb()
    response = client.post("/api/decode", data={"image": (io.BytesIO(payload), "x.jpg")}, headers=inspector,
                           content_type="multipart/form-data")
    assert response.status_code == status, response.json
    assert response.json["errors"]["error_code"] == error_code


def test_a_50_mb_upload_is_413(client, inspector):
    big = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024))
    response = client.post("/api/decode", data={"image": (big, "huge.jpg")}, headers=inspector,
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.json["code"] == 413


def test_broken_exif_still_decodes(client, inspector):
    case = CASES[-1]
    image = Image.open(io.BytesIO(label_png(case["code"]))).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 9  # an orientation value that does not exist
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes()[:-4] + b"\xff\xff\xff\xff", quality=95)
    response = client.post("/api/decode", data={"image": (io.BytesIO(out.getvalue()), "x.jpg")}, headers=inspector,
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    assert [c["text"] for c in response.json["codes"]] == [case["code"]]


@pytest.mark.parametrize("body,field", [
    ({"code": ""}, "code"),
    ({"code": "RE" + "A" * 10_000}, "code"),
    ({"client_id": "not-a-uuid"}, "client_id"),
    ({"scanned_at": "yesterday"}, "scanned_at"),
    ({"scanned_at": "2026-01-01T10:00:00"}, "scanned_at"),  # no offset: ambiguous device time
    ({"site": {"type": "moon"}}, "site"),
    ({"location": {"lat": 123, "lon": 0}}, "location"),
    ({"observed_mass_kg": "heavy"}, "observed_mass_kg"),
])
def test_bad_fields_get_422_naming_the_field(client, inspector, body, field):
    response = client.post("/api/scans", json={**scan_body("RE6LWUT4A5U"), **body}, headers=inspector)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_control_characters_give_a_malformed_verdict_not_an_error(client, inspector):
    response = client.post("/api/scans", json=scan_body("RE6L\x07WUT4A5U"), headers=inspector)
    assert response.status_code == 201
    assert [r["code"] for r in response.json["verdict"]["reasons"]] == ["malformed_code"]


def test_unknown_holder_enterprise_is_422(client, inspector):
    response = client.post("/api/scans", json=scan_body(CASES[-1]["code"], holder_enterprise_id="ENT-NOPE"),
                           headers=inspector)
    assert response.status_code == 422
    assert response.json["errors"]["error_code"] == "unknown_enterprise"


def test_non_json_body_is_422(client, inspector):
    response = client.post("/api/scans", data="code=RE6LWUT4A5U", headers={**inspector, "Content-Type": "text/plain"})
    assert response.status_code == 422


def test_scanning_needs_a_field_role(client, seeded, auth):
    assert client.post("/api/scans", json=scan_body("RE6LWUT4A5U")).status_code == 401
    enterprise = auth.headers("enterprise")
    response = client.post("/api/scans", json=scan_body("RE6LWUT4A5U"), headers=enterprise)
    assert response.status_code == 403


def test_inspectors_see_only_their_own_scans(client, inspector, auth):
    mine = client.post("/api/scans", json=scan_body(CASES[-1]["code"]), headers=inspector).json
    other = auth.headers("inspector2")
    assert client.get(f"/api/scans/{mine['id']}", headers=other).status_code == 404
    assert client.get(f"/api/scans/{mine['id']}", headers=inspector).status_code == 200
    listed = client.get("/api/scans", headers=other)
    assert listed.status_code == 200 and mine["id"] not in [s["id"] for s in listed.json]



def test_a_province_supervisor_sees_only_the_scans_made_in_their_provinces(client, inspector, auth, db):
    from tests.conftest import gen_user
    mine = client.post("/api/scans", json=scan_body(CASES[-1]["code"]), headers=inspector).json
    province = db.scans.find_one({"_id": mine["id"]})["province"]
    assert province
    other = "Hainan" if province != "Hainan" else "Tibet"
    gen_user(db, "scans-here", "supervisor", password="pw-here-1", provinces=[province])
    gen_user(db, "scans-elsewhere", "supervisor", password="pw-elsewhere-1", provinces=[other])
    here = auth.headers("scans-here", password="pw-here-1")
    elsewhere = auth.headers("scans-elsewhere", password="pw-elsewhere-1")
    assert client.get(f"/api/scans/{mine['id']}", headers=here).status_code == 200
    assert client.get(f"/api/scans/{mine['id']}", headers=elsewhere).status_code == 404
    code = mine["batch"]["code"] if mine.get("batch") else CASES[-1]["code"]
    assert mine["id"] in [s["id"] for s in client.get(f"/api/scans?batch_code={code}", headers=here).json]
    assert client.get(f"/api/scans?batch_code={code}", headers=elsewhere).json == []

def test_batch_views_and_recall_trace(client, inspector):
    deep = next(c for c in CASES if "nine levels" in c["description"])
    view = client.get(f"/api/batches/{deep['code']}", headers=inspector)
    assert view.status_code == 200 and view.json["verdict"]["status"] == "pass"
    mine = next(a for a in view.json["provenance"]["ancestors"] if a["stage"] == "ore")
    trace = client.get(f"/api/batches/{mine['code']}/descendants", headers=inspector).json
    assert deep["code"] in [d["code"] for d in trace["descendants"]]
    assert max(d["generation"] for d in trace["descendants"]) == 9
    assert client.get("/api/batches/RE12/provenance", headers=inspector).status_code == 422
    unknown = next(c for c in CASES if c["expected_reasons"] == ["unknown_code"])
    assert client.get(f"/api/batches/{unknown['code']}", headers=inspector).status_code == 404


def test_enterprise_quota_and_scope(client, seeded, auth):
    supervisor = auth.headers("supervisor")
    quota = client.get("/api/enterprises/ENT-NSM/quota?year=2024", headers=supervisor).json
    light = quota["categories"][0]
    assert light["category"] == "mining_light" and light["remaining_t"] == pytest.approx(light["allocated_t"] - light["used_t"], abs=0.2)
    enterprise = auth.headers("enterprise")
    assert client.get("/api/enterprises/ENT-GMT", headers=enterprise).status_code == 200
    assert client.get("/api/enterprises/ENT-BMM", headers=enterprise).status_code == 404
    assert client.get("/api/enterprises/ENT-NSM/quota?year=abc", headers=supervisor).status_code == 422


@pytest.mark.parametrize("scanned_at", ["0001-01-01T00:00:00+14:00", "0001-01-01T05:30:00+05:31"])
def test_a_scan_time_with_no_utc_equivalent_is_422_not_an_error(client, inspector, scanned_at):
    # Found by tests/test_api_fuzz.py: the time passed validation, then could not be stored (OverflowError, 500).
    response = client.post("/api/scans", json=scan_body("RE6LWUT4A5U", scanned_at=scanned_at), headers=inspector)
    assert response.status_code == 422, response.json
    assert "scanned_at" in response.json["errors"]["json"]
    form = {k: v for k, v in scan_body("RE6LWUT4A5U", scanned_at=scanned_at).items() if k != "site"}
    response = client.post("/api/scans", data={**form, "site_type": "market"}, headers=inspector,
                           content_type="multipart/form-data")
    assert response.status_code == 422, response.json
    assert "scanned_at" in response.json["errors"]["form"]
    assert client.get("/api/scans", headers=inspector).status_code == 200


BAOTOU = {"lat": 40.65, "lon": 109.84, "accuracy_m": 10}
SHENZHEN = {"lat": 22.49, "lon": 113.89, "accuracy_m": 10}


def test_an_offline_scan_whose_wait_was_measured_keeps_its_time_and_its_clone_check(client, inspector, auth):
    clean = next(c for c in CASES if c["expected_status"] == "pass" and c["code"].startswith("RE"))
    waited = timedelta(hours=5)
    offline = client.post("/api/scans", json=scan_body(
        clean["code"], scanned_at=(datetime.now(timezone.utc) - waited).isoformat(), location=BAOTOU,
        queued_ms=int(waited.total_seconds() * 1000)), headers=inspector).json
    assert offline["time_check"]["status"] == "consistent" and offline["verdict"]["checks_not_done"] == []
    live = client.post("/api/scans", json=scan_body(clean["code"], location=SHENZHEN, queued_ms=0),
                       headers=auth.headers("inspector2")).json
    assert [r["code"] for r in live["verdict"]["reasons"]] == ["cloned_code"]
    assert live["time_check"]["status"] == "consistent"


def test_a_wait_measured_only_in_part_is_unverified_not_refused(client, inspector):
    clean = next(c for c in CASES if c["expected_status"] == "pass" and c["code"].startswith("RE"))
    body = scan_body(clean["code"], scanned_at=(datetime.now(timezone.utc) - timedelta(hours=9)).isoformat(),
                     location=BAOTOU, queued_ms=3_600_000, queue_interrupted=True)
    stored = client.post("/api/scans", json=body, headers=inspector)
    assert stored.status_code == 201, stored.json
    assert stored.json["time_check"]["status"] == "unverified"
    assert [c["reason"] for c in stored.json["verdict"]["checks_not_done"]] == ["time_unverified"]


def test_a_retry_that_waited_longer_replays_the_stored_scan(client, inspector):
    body = scan_body(CASES[-1]["code"], queued_ms=0)
    first = client.post("/api/scans", json=body, headers=inspector)
    again = client.post("/api/scans", json={**body, "queued_ms": 90_000}, headers=inspector)
    assert first.status_code == 201 and again.status_code == 200 and again.json["id"] == first.json["id"]


def test_a_photo_scan_sends_its_wait_as_form_fields(client, inspector):
    case = next(c for c in CASES if c["expected_reasons"] == ["retired_code"])
    form = {"client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site_type": "market", "queued_ms": "1500", "queue_interrupted": "false",
            "image": (io.BytesIO(label_png(case["code"])), "label.png")}
    r = client.post("/api/scans", data=form, headers=inspector, content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    assert r.json["queued_ms"] == 1500 and r.json["time_check"]["status"] == "consistent"


def test_scan_review_takes_a_province_and_refuses_a_bad_limit(client, inspector, auth):
    clean = next(c for c in CASES if c["expected_status"] == "pass" and c["code"].startswith("RE"))
    client.post("/api/scans", json=scan_body(clean["code"], location=BAOTOU), headers=inspector)
    client.post("/api/scans", json=scan_body(clean["code"], location=SHENZHEN), headers=auth.headers("inspector2"))
    supervisor = auth.headers("supervisor")
    everyone = client.get("/api/risk/inspectors", headers=supervisor).json["items"]
    assert {"inspector", "inspector2"} <= {row["inspector"] for row in everyone}
    assert client.get("/api/risk/inspectors?province=Hainan", headers=supervisor).json["items"] == []
    assert client.get("/api/risk/inspectors?limit=0", headers=supervisor).status_code == 422
