"""A clerk lists the batches their enterprise holds, and only those: GET /api/batches."""
from datetime import datetime, timezone

from conftest import gen_batch

LIST = "/api/batches"


def _all_pages(client, headers, query=""):
    codes, after = [], None
    while True:
        r = client.get(f"{LIST}?limit=7{query}" + (f"&after={after}" if after else ""), headers=headers)
        assert r.status_code == 200, r.json
        codes += [b["code"] for b in r.json["batches"]]
        after = r.json["next_after"]
        if after is None:
            return codes, r.json


def test_a_clerk_lists_every_batch_their_enterprise_holds_page_by_page(client, clerks, db):
    held = sorted(b["_id"] for b in db.batches.find({"holder_id": "ENT-NSM"}, {"_id": 1}))
    assert len(held) > 7  # more than one page
    codes, last = _all_pages(client, clerks["ENT-NSM"])
    assert codes == held and last["enterprise_id"] == "ENT-NSM"
    active_ore, _ = _all_pages(client, clerks["ENT-NSM"], "&status=active&stage=ore")
    assert active_ore == sorted(b["_id"] for b in db.batches.find(
        {"holder_id": "ENT-NSM", "status": "active", "stage": "ore"}, {"_id": 1}))


def test_the_list_shows_the_china_time_production_date(client, clerks, db):
    batch = gen_batch(db, stage="ore", producer_id="ENT-NSM", holder_id="ENT-NSM",
                      produced_on=datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc))  # midnight of 3 Nov in China
    r = client.get(f"{LIST}?code_prefix={batch['_id']}", headers=clerks["ENT-NSM"])
    assert [(b["code"], b["produced_on"]) for b in r.json["batches"]] == [(batch["_id"], "2026-11-03")]


def test_enterprise_b_cannot_list_or_filter_its_way_to_a_s_batches(client, clerks, db):
    theirs = sorted(b["_id"] for b in db.batches.find({"holder_id": "ENT-NSM"}, {"_id": 1}))
    mine = {b["_id"] for b in db.batches.find({"holder_id": "ENT-BPS"}, {"_id": 1})}
    b = clerks["ENT-BPS"]
    asked = client.get(f"{LIST}?enterprise_id=ENT-NSM", headers=b)
    assert asked.status_code == 403 and asked.json["errors"]["error_code"] == "not_your_enterprise"
    # Unknown parameters are ignored; a pattern in code_prefix is refused rather than run.
    for query in (f"?code_prefix={theirs[0]}", f"?after={theirs[0][:3]}", "?status=active", "?limit=500",
                  "?holder_id=ENT-NSM", "?code_prefix[$ne]=x", "?after[$gt]=A", "?enterprise_id=ENT-BPS&holder_id=x"):
        r = client.get(LIST + query, headers=b)
        assert r.status_code == 200 and {x["code"] for x in r.json["batches"]} <= mine, query
        assert all(x["holder_id"] == "ENT-BPS" for x in r.json["batches"])
    assert client.get(LIST + "?code_prefix=RE.*", headers=b).status_code == 422
    assert client.get(LIST, headers=clerks["inspector"]).status_code == 403


def test_supervisors_name_the_enterprise_they_want_to_see(client, clerks, db):
    refused = client.get(LIST, headers=clerks["supervisor"])
    assert refused.status_code == 422 and refused.json["errors"]["error_code"] == "enterprise_required"
    r = client.get(f"{LIST}?enterprise_id=ENT-NSM&limit=500", headers=clerks["supervisor"])
    assert r.status_code == 200 and {x["holder_id"] for x in r.json["batches"]} == {"ENT-NSM"}
