"""Laundering ore as an import, through the HTTP API: only approved importers import, and the customs register decides."""
import io
import uuid
from datetime import datetime, timezone

import pytest

from inspector.codes import batch_code

SUBMIT = "/api/ledger/submissions"
REGISTER = "/api/registry/customs-declarations"
DECLARATION = "531020261000123456"


def code(n):
    body = "RELQ" + "".join(batch_code.ALPHABET[n // 31 ** i % 31] for i in range(6))
    return body + batch_code.check_character(body)


def post(client, headers, events):
    return client.post(SUBMIT, headers=headers, json={"events": events})


def import_event(event_id, outputs, declaration=DECLARATION, port="Shanghai", origin="MY", day="2026-11-12"):
    return {"event_id": event_id, "type": "import", "occurred_at": day, "declaration_no": declaration, "port": port,
            "origin_country": origin, "outputs": outputs}


def oxide(c, kg=800):
    return {"code": c, "stage": "compound", "product_type": "prnd_oxide", "mass_kg": kg, "reo_pct": 99.0}


def ore(c, kg=5000):
    return {"code": c, "stage": "ore", "product_type": "ion_adsorption_mixed_oxide", "mass_kg": kg, "reo_pct": 90.0}


def declare(client, clerks, **fields):
    row = {"declaration_no": DECLARATION, "declared_on": "2026-11-10", "importer_id": "ENT-SMT", "port": "Shanghai",
           "hs_code": "2846.90.19.10", "net_mass_kg": 1000, "origin_country": "MY", **fields}
    response = client.post(REGISTER, headers=clerks["admin"], json={"declarations": [row]})
    assert response.status_code == 201, response.json
    return response.json


def verdict(client, clerks, c, holder):
    body = {"code": c, "client_id": str(uuid.uuid4()), "scanned_at": datetime.now(timezone.utc).isoformat(),
            "site": {"type": "warehouse", "name": "Bonded warehouse"}, "holder_enterprise_id": holder}
    response = client.post("/api/scans", json=body, headers=clerks["inspector"])
    assert response.status_code in (200, 201), response.json
    return response.json["verdict"]


def codes_of(v):
    return sorted(r["code"] for r in v["reasons"])


def test_a_mine_off_the_whitelist_cannot_report_its_ore_as_an_import(client, clerks, db):
    before = db.batches.count_documents({})
    response = post(client, clerks["ENT-RHA"], [import_event("I1", [ore(code(1))], declaration="D-MADE-UP",
                                                             port="Ruili", origin="MM")])
    assert response.status_code == 422
    (error,) = response.json["errors"]["receipt"]["errors"]
    assert error["code"] == "import_not_approved" and "approved for import" in error["message"]
    assert db.batches.count_documents({}) == before


def test_a_made_up_declaration_is_flagged_and_its_batch_and_descendants_fail(client, clerks, db):
    response = post(client, clerks["ENT-GMT"], [
        import_event("I1", [ore(code(1))], declaration="531020269999999999", port="Ruili", origin="MM"),
        {"event_id": "S1", "type": "split", "occurred_at": "2026-11-13", "code": code(1),
         "outputs": [{"code": code(2), "mass_kg": 2000}, {"code": code(3), "mass_kg": 2000}]}])
    assert response.status_code == 201, response.json
    (flag,) = [f for f in response.json["flags"] if f["code"] == "unverified_import"]
    assert flag["problems"] == ["declaration_unknown"] and "531020269999999999" in flag["message"]
    laundered = verdict(client, clerks, code(1), "ENT-GMT")
    assert laundered["status"] == "fail" and codes_of(laundered) == ["unverified_import"]
    (reason,) = laundered["reasons"]
    assert reason["evidence"]["declaration_no"] == "531020269999999999"
    assert "does not confirm" in reason["message"] and "no declaration" in reason["message"]
    child = verdict(client, clerks, code(2), "ENT-GMT")
    assert child["status"] == "fail" and codes_of(child) == ["tainted_lineage"]
    assert "unverified_import" in child["reasons"][0]["evidence"]["ancestors"][0]["reasons"]


def test_a_declared_import_passes(client, clerks):
    declare(client, clerks)
    response = post(client, clerks["ENT-SMT"], [import_event("I1", [oxide(code(1), 998)])])
    assert response.status_code == 201, response.json
    assert not [f for f in response.json["flags"] if f["code"] == "unverified_import"]
    assert verdict(client, clerks, code(1), "ENT-SMT")["status"] == "pass"


def test_stretching_a_declaration_over_more_than_its_mass_fails_the_excess(client, clerks):
    declare(client, clerks)
    first = post(client, clerks["ENT-SMT"], [import_event("I1", [oxide(code(1), 800)])])
    second = post(client, clerks["ENT-SMT"], [import_event("I2", [oxide(code(2), 800)])])
    assert first.status_code == second.status_code == 201
    assert verdict(client, clerks, code(1), "ENT-SMT")["status"] == "pass"
    stretched = verdict(client, clerks, code(2), "ENT-SMT")
    assert codes_of(stretched) == ["unverified_import"]
    assert [p["code"] for p in stretched["reasons"][0]["evidence"]["problems"]] == ["over_declared"]
    listed = client.get(REGISTER, headers=clerks["admin"], query_string={"declaration_no": DECLARATION}).json
    assert listed[0]["used_kg"] == 1600


@pytest.mark.parametrize("who, port, origin, goods, problem", [
    ("ENT-GMT", "Shanghai", "MY", "oxide", "importer_mismatch"),   # another importer's declaration
    ("ENT-SMT", "Ningbo", "MY", "oxide", "port_mismatch"),
    ("ENT-SMT", "Shanghai", "MM", "oxide", "origin_mismatch"),
    ("ENT-SMT", "Shanghai", "MY", "ore", "hs_code_mismatch"),      # ore under a declaration of oxide
])
def test_a_borrowed_declaration_does_not_vouch_for_other_goods(client, clerks, who, port, origin, goods, problem):
    declare(client, clerks, net_mass_kg=9000)
    item = oxide(code(1)) if goods == "oxide" else ore(code(1))
    response = post(client, clerks[who], [import_event("I1", [item], port=port, origin=origin)])
    assert response.status_code == 201, response.json
    found = verdict(client, clerks, code(1), who)
    assert codes_of(found) == ["unverified_import"]
    assert [p["code"] for p in found["reasons"][0]["evidence"]["problems"]] == [problem]


def test_a_declaration_far_from_the_import_date_does_not_vouch(client, clerks):
    declare(client, clerks, declared_on="2026-06-01")
    post(client, clerks["ENT-SMT"], [import_event("I1", [oxide(code(1))])])
    found = verdict(client, clerks, code(1), "ENT-SMT")
    assert [p["code"] for p in found["reasons"][0]["evidence"]["problems"]] == ["date_mismatch"]


def test_a_register_load_after_the_import_confirms_it(client, clerks, db):
    post(client, clerks["ENT-SMT"], [import_event("I1", [oxide(code(1))])])
    assert verdict(client, clerks, code(1), "ENT-SMT")["status"] == "fail"
    loaded = declare(client, clerks)
    assert loaded["created"] == 1 and loaded["imports_changed"] == [
        {"code": code(1), "declaration_no": DECLARATION, "verified": True}]
    assert verdict(client, clerks, code(1), "ENT-SMT")["status"] == "pass"
    entry = db.audit_log.find_one({"action": "customs.load"})
    assert entry and entry["details"]["imports_rechecked"] == 1


def test_only_administrators_load_the_register(client, clerks, db):
    row = {"declaration_no": DECLARATION, "declared_on": "2026-11-10", "importer_id": "ENT-SMT", "port": "Shanghai",
           "hs_code": "284690", "net_mass_kg": 1000000, "origin_country": "MY"}
    for who in ("ENT-SMT", "supervisor", "inspector"):
        response = client.post(REGISTER, headers=clerks[who], json={"declarations": [row]})
        assert response.status_code == 403, who
    assert client.get(REGISTER, headers=clerks["ENT-SMT"]).status_code == 403
    assert db.customs_declarations.count_documents({"_id": DECLARATION}) == 0


def test_a_province_limited_supervisor_reads_only_its_provinces_declarations(client, clerks, db, auth):
    from conftest import gen_user
    declare(client, clerks)  # ENT-SMT is in Shanghai
    gen_user(db, "sup-jx", role="supervisor", password="pw-sup-jx-1", provinces=["Jiangxi"])
    headers = auth.headers("sup-jx", "pw-sup-jx-1")
    assert client.get(REGISTER, headers=headers).json == []
    assert client.get(f"{REGISTER}/{DECLARATION}", headers=headers).status_code == 404
    assert client.get(f"{REGISTER}/{DECLARATION}", headers=clerks["supervisor"]).status_code == 200


def test_a_bad_register_file_loads_nothing_and_names_every_problem_of_every_line(client, clerks, db):
    csv = ("declaration_no,declared_on,importer_id,port,hs_code,net_mass_kg,origin_country\n"
           "531020261000000001,2026-11-10,ENT-SMT,Shanghai,284690,1000,MY\n"
           "5.31020261E+17,2026-13-40,ENT-NOBODY,,28,-5,Malaysia\n")
    response = client.post(f"{REGISTER}/upload", headers=clerks["admin"], content_type="multipart/form-data",
                           data={"file": (io.BytesIO(csv.encode()), "register.csv")})
    assert response.status_code == 422
    (line,) = response.json["errors"]["lines"]
    assert line["line"] == 3
    assert {p["field"] for p in line["problems"]} == {"declaration_no", "declared_on", "importer_id", "port",
                                                       "hs_code", "net_mass_kg", "origin_country"}
    lost = next(p for p in line["problems"] if p["field"] == "declaration_no")
    assert lost["code"] == "number_lost_digits" and "format the column as text" in lost["message"]
    assert db.customs_declarations.count_documents({"_id": {"$in": ["531020261000000001", "5.31020261E+17"]}}) == 0


def test_a_gbk_register_with_chinese_headers_and_a_title_row_loads(client, clerks, db):
    uscc = db.enterprises.find_one({"_id": "ENT-SMT"})["uscc"]
    text = ("进口报关单登记表 2026年11月\n"
            "报关单号,申报日期,境内收发货人,进境口岸,商品编码,净重（千克）,原产国（地区）\n"
            f"531020261000000002,2026/11/10,{uscc},Shanghai,2846.9019.10,\"1,500\",MY\n")
    response = client.post(f"{REGISTER}/upload", headers=clerks["admin"], content_type="multipart/form-data",
                           data={"file": (io.BytesIO(text.encode("gbk")), "报关单.csv")})
    assert response.status_code == 201, response.json
    stored = db.customs_declarations.find_one({"_id": "531020261000000002"})
    assert stored["importer_id"] == "ENT-SMT" and stored["net_mass_kg"] == 1500 and stored["hs_code"] == "2846901910"


def test_a_separators_imported_feed_counts_on_its_quota_once(client, clerks, db):
    declare(client, clerks, importer_id="ENT-LKS", hs_code="253090", net_mass_kg=5000, origin_country="MM",
            port="Ruili")
    quota = lambda: next(c for c in client.get("/api/enterprises/ENT-LKS/quota?year=2026",  # noqa: E731
                                              headers=clerks["supervisor"]).json["categories"]
                         if c["category"] == "separation")
    before = quota()
    response = post(client, clerks["ENT-LKS"], [import_event("I1", [ore(code(1), 5000)], port="Ruili", origin="MM")])
    assert response.status_code == 201, response.json
    after_import = quota()
    assert after_import["imported_t"] == pytest.approx(before["imported_t"] + 4.5, abs=0.05)
    assert after_import["used_t"] == pytest.approx(before["used_t"] + 4.5, abs=0.05)
    separated = post(client, clerks["ENT-LKS"], [
        {"event_id": "P1", "type": "production", "occurred_at": "2026-11-20",
         "inputs": [{"code": code(1), "mass_kg": 5000}],
         "outputs": [{"code": code(2), "stage": "compound", "product_type": "prnd_oxide", "mass_kg": 4000,
                      "reo_pct": 99.0}]}])
    assert separated.status_code == 201, separated.json
    assert quota()["used_t"] == pytest.approx(after_import["used_t"], abs=0.05)  # not counted a second time
    made = verdict(client, clerks, code(2), "ENT-LKS")
    assert made["status"] != "fail", made["reasons"]


def test_an_importer_with_unverified_imports_is_ranked_for_review(client, clerks):
    post(client, clerks["ENT-GMT"], [import_event("I1", [ore(code(1))], declaration="531020269999999998",
                                                  port="Ruili", origin="MM")])
    ranking = client.get("/api/risk/enterprises", headers=clerks["supervisor"]).json
    row = next(r for r in ranking["items"] if r["enterprise_id"] == "ENT-GMT")
    factor = next(f for f in row["factors"] if f["factor"] == "unverified_import")
    assert factor["count"] == 1 and row["score"] >= factor["weight"]
