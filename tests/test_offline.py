"""The offline verdict pack and signed labels through the HTTP API: scope, signature, deltas, ledger signatures."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import gen_user, make_app, sign_in
from inspector.codes.labels import read_code
from inspector.offline.signing import Key, Keyring, demo_keyring, demo_signer, unb64url
from inspector.verdict.judge import ScanContext, judge
from inspector.offline.pack import STANDING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def world():
    """One seeded app for the module (the pack is read-mostly); the clock stands still unless a test moves it."""
    from api.context import db as current_db
    from seed import users as demo_users
    from seed.loader import load

    app = make_app(f"test_{uuid.uuid4().hex}")
    clock = {"now": NOW}
    app.config["CLOCK"] = lambda: clock["now"]
    with app.app_context():
        db = current_db()
        load(db, "small")
        demo_users.ensure_demo_users(db)
        inspector, _ = gen_user(db, "insp-mongolia", role="inspector", password="pw-mongolia")
        gen_user(db, "sup-jiangxi", role="supervisor", password="pw-jiangxi", provinces=["Jiangxi"])
        # A task in Inner Mongolia that also sends the inspector to check one Jiangxi batch.
        jiangxi = db.enterprises.find_one({"province": "Jiangxi"})["_id"]
        far = db.batches.find_one({"holder_id": jiangxi})["_id"]
        db.tasks.insert_one({"_id": "TSK-offline", "province": "Inner Mongolia", "status": "open", "pool": False,
                             "assignees": [inspector["_id"]], "items": [{"batch_code": far}], "due_at": NOW})
    client = app.test_client()
    yield app, db, client, clock
    with app.app_context():
        db.client.drop_database(db.name)


_TOKENS = {}


def _headers(client, username, password="demo"):
    if username not in _TOKENS:
        _TOKENS[username] = sign_in(client, username, password)["access_token"]
    return {"Authorization": "Bearer " + _TOKENS[username]}


def _pack(client, username, password="demo"):
    """The user's pack (the service reuses a pack built in the last 15 minutes, so asking again is cheap)."""
    r = client.get("/api/offline/pack", headers=_headers(client, username, password))
    assert r.status_code == 200, r.json
    return r.json, json.loads(r.json["pack"]), r


def _verify(keys, envelope):
    key = next(k for k in keys if k["kid"] == envelope["kid"])
    Ed25519PublicKey.from_public_bytes(unb64url(key["public_key"])).verify(
        unb64url(envelope["signature"]), envelope["pack"].encode())


def test_pack_is_signed_with_a_key_the_service_publishes_and_a_changed_byte_breaks_it(world):
    app, db, client, _ = world
    envelope, pack, response = _pack(client, "inspector")
    anchor = client.get("/api/meta").json["signing_keys"]
    _verify(anchor, envelope)
    assert response.headers["ETag"] == f'"{pack["version"]}"'
    assert pack["codes"] == {"exact": True, "false_positive_rate": 0.0, "count": db.batches.count_documents({})}
    assert pack["not_offline"] == ["cloned_code"] and pack["as_of"].startswith("2026-12-03")
    tampered = dict(envelope, pack=envelope["pack"].replace('"r":', '"r":9', 1))
    with pytest.raises(InvalidSignature):
        _verify(anchor, tampered)
    again = client.get("/api/offline/pack", headers={**_headers(client, "inspector"),
                                                     "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_an_inspector_gets_only_their_area_and_an_enterprise_gets_no_pack(world):
    app, db, client, _ = world
    _, pack, _ = _pack(client, "insp-mongolia", "pw-mongolia")
    mongolian = {e["_id"] for e in db.enterprises.find({"province": "Inner Mongolia"})}
    far = db.tasks.find_one({"_id": "TSK-offline"})["items"][0]["batch_code"]
    assert pack["batches"] and pack["scope"] == {"provinces": ["Inner Mongolia"], "task_batches": 1}
    assert far in pack["batches"]
    assert all(b["h"] in mongolian or b.get("t") in mongolian for c, b in pack["batches"].items() if c != far)
    assert len(pack["batches"]) < db.batches.count_documents({})
    _, jiangxi, _ = _pack(client, "sup-jiangxi", "pw-jiangxi")
    assert jiangxi["scope"] == {"provinces": ["Jiangxi"], "task_batches": 0}
    assert not set(jiangxi["batches"]) & {c for c, b in pack["batches"].items() if b["h"] in mongolian}
    for who in ("enterprise", "enterprise2"):
        r = client.get("/api/offline/pack", headers=_headers(client, who))
        assert r.status_code == 403 and r.json["errors"]["error_code"] == "forbidden_role"
        r = client.get("/api/offline/delta?since=" + pack["version"], headers=_headers(client, who))
        assert r.status_code == 403


def test_a_delta_from_another_users_version_is_refused(world):
    app, db, client, _ = world
    _, mine, _ = _pack(client, "insp-mongolia", "pw-mongolia")
    r = client.get("/api/offline/delta?since=" + mine["version"], headers=_headers(client, "inspector"))
    assert r.status_code == 409 and r.json["errors"]["error_code"] == "pack_version_unknown"
    r = client.get("/api/offline/delta?since=not-a-version", headers=_headers(client, "inspector"))
    assert r.status_code == 422


def test_pack_reasons_are_the_online_verdicts_standing_reasons(world):
    """For planted native codes of every standing reason (and clean ones): the pack carries exactly the reasons the
    online judge gives for the batch."""
    app, db, client, clock = world
    _, pack, _ = _pack(client, "inspector")
    settings = app.config["SETTINGS"]
    checked, seen = 0, set()
    with app.app_context():
        for case in db.demo_cases.find().sort("order", 1):
            label = read_code(case["code"])
            kind = set(case["expected_reasons"]) or {"pass"}
            if label.kind != "native" or label.batch_code not in pack["batches"] or kind <= seen:
                continue
            seen |= kind
            online = judge(db, label, ScanContext(scanned_at=NOW), settings, NOW)
            expected = sorted(r["code"] for r in online.reasons if r["code"] in STANDING)
            offline = sorted(r["code"] for r in pack["batches"][label.batch_code].get("reasons", []))
            assert offline == expected, case
            checked += 1
    assert seen >= set(STANDING) | {"pass"}
    assert checked >= 8


def test_daily_delta_holds_only_what_changed(world):
    app, db, client, clock = world
    headers = _headers(client, "insp-mongolia", "pw-mongolia")
    _, before, _ = _pack(client, "insp-mongolia", "pw-mongolia")
    code = sorted(before["batches"])[0]
    try:
        db.batches.update_one({"_id": code}, {"$inc": {"remaining_kg": -1.5}})
        clock["now"] = NOW + timedelta(minutes=16)  # past the rebuild window, too soon for any day count to move
        r = client.get("/api/offline/delta?since=" + before["version"], headers=headers)
        assert r.status_code == 200, r.json
        _verify(before["keys"], r.json)
        delta = json.loads(r.json["pack"])
        assert delta["from"] == before["version"] and delta["version"] != before["version"]
        assert list(delta["batches"]) == [code]
        assert delta["batches"][code]["r"] == before["batches"][code]["r"] - 1.5
    finally:
        db.batches.update_one({"_id": code}, {"$inc": {"remaining_kg": 1.5}})
        clock["now"] = NOW


def test_ledger_returns_a_signature_for_every_code_it_issues(world):
    app, db, client, clock = world
    with app.app_context():
        user, password = gen_user(db, role="enterprise", enterprise_id="ENT-NSM")
    r = client.post("/api/ledger/submissions", headers=_headers(client, user["username"], password), json={"events": [
        {"event_id": "OFF-1", "type": "production", "enterprise_id": "ENT-NSM", "occurred_at": "2026-11-20",
         "outputs": [{"stage": "ore", "product_type": "bastnaesite_concentrate", "mass_kg": 2000, "reo_pct": 55.0}]}]})
    assert r.status_code == 201, r.json
    issued = r.json["issued_codes"]["OFF-1"]
    signatures = r.json["label_signatures"]
    assert set(signatures) == set(issued)
    ring = demo_keyring()
    for code, signature in signatures.items():
        assert len(signature) == 89 <= 90  # GS1's (8030) holds up to 90
        assert ring.verify_label(code, signature) == "valid"
        assert ring.verify_label(issued[0] if code != issued[0] else "RE2345678CX", signature) == "forged"
        # Printed as the label does, the scan of it passes; the same signature moved to a batch of ours fails.
        scan = client.get(f"/api/batches/{code}", headers=_headers(client, "inspector"))
        assert scan.status_code == 200


def test_signed_and_forged_labels_online(world):
    app, db, client, clock = world
    magnet = db.batches.find_one({"stage": "magnet", "status": "active", "gs1.serial": {"$exists": True}})
    code, gs1 = magnet["_id"], magnet["gs1"]
    ring = demo_keyring()
    settings = app.config["SETTINGS"]

    def reasons(text):
        with app.app_context():
            found = judge(db, read_code(text), ScanContext(scanned_at=NOW), settings, NOW).reasons
        return [(r["code"], r["evidence"].get("problem")) for r in found if r["code"] == "forged_label"]

    element = f"(01){gs1['gtin']}(10){code}(21){gs1['serial']}"
    assert reasons(f"{code};{ring.sign_label(code)}") == []
    assert reasons(f"{element}(8030){ring.sign_label(code)}") == []
    assert reasons(code) == []  # typed: no signature to check
    assert reasons(f"{code};{ring.sign_label('RE2345678C' + code[-1])}") == [("forged_label", "forged")]
    assert reasons(element) == [("forged_label", "missing")]
    assert reasons(f"{element}(8030){demo_signer('X00').sign_label(code)}") == [("forged_label", "revoked_key")]
    assert reasons(f"{element}(8030){demo_signer('Q77').sign_label(code)}") == [("forged_label", "unknown_key")]


def test_a_rotated_key_verifies_its_old_labels_until_it_is_revoked():
    old = demo_signer("D00").sign_label("RE2345678C2")
    public = demo_signer("D00").signer.public
    rotated = Keyring([Key("D00", "retired", public), *demo_keyring().keys.values()])
    assert rotated.verify_label("RE2345678C2", old) == "valid"
    assert rotated.signer.kid == "D01"  # the new key signs from now on
    revoked = Keyring([Key("D00", "revoked", public)])
    assert revoked.verify_label("RE2345678C2", old) == "revoked_key"
