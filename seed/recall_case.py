"""The planted recall case: illegal ore is 10% of a separator's feed, then split, merged with clean metal and made
into a magnet, reaching four holders in three provinces. The demo store loads it (load_demo) and the tests assert it.

    BAD ore 1000 kg (ENT-RHA, never whitelisted) --1000--\\
                                                           OX oxide 3000 kg (ENT-RRS) --1000--> OXA 1000 kg
    GOOD ore 9000 kg (ENT-SHI, whitelisted) --------9000--/                          \\--2000--> OXB 2000 kg
    OXA --1000--> MET metal 600 kg (ENT-GMW) --600--\\
                     CLEAN metal 800 kg (400 left) --400--> MIX 1000 kg, held by ENT-GMT (Jiangxi)
    OXB --500--> MAG magnet 400 kg (ENT-NHM, Zhejiang), held by ENT-BMM (Inner Mongolia)

Hand-computed: taint OX, OXA, OXB, MET, MAG 10%; MIX 0.6 x 10% = 6%. Of the source's 1000 kg: OX took all of it
(100%), OXA 1/3, OXB 2/3, MET 1/3 (all of OXA), MIX 1/3 (all of MET), MAG 2/3 x 500/2000 = 1/6.
"""
from datetime import datetime, timedelta, timezone

NAMES = ("BAD", "GOOD", "OX", "OXA", "OXB", "MET", "CLEAN", "MIX", "MAG")
CODES = dict(zip(NAMES, ("REDHHBF9G2H", "REFWPQA9N9A", "RE2BBVCP6ZD", "RERMB2U9ZMD", "REA2X6UMPND", "RE2GGMNQB9P",
                         "REUBDAFU4DE", "REHFJN7ZLB5", "REL3B4VU2JH")))  # batch_code.issue(random.Random(16))
EXPECTED = {  # name: (taint %, share of the source's mass %, holder)
    "OX": (10.0, 100.0, "ENT-RRS"), "OXA": (10.0, 100 / 3, "ENT-RRS"), "OXB": (10.0, 200 / 3, "ENT-RRS"),
    "MET": (10.0, 100 / 3, "ENT-GMW"), "MIX": (6.0, 100 / 3, "ENT-GMT"), "MAG": (10.0, 100 / 6, "ENT-BMM"),
}
PRODUCT = {"ore": ("ion_adsorption_mixed_oxide", 90.0), "compound": ("prnd_oxide", 99.0),
           "metal": ("prnd_metal", 115.0), "magnet": ("ndfeb_sintered_magnet", 34.0)}
QUOTA = {"ore": "mining_medium_heavy", "compound": "separation"}
#        name     stage       producer   kg      parents                          day  extra
PLAN = (("BAD", "ore", "ENT-RHA", 1000.0, (), 0, {"status": "consumed", "remaining_kg": 0.0}),
        ("GOOD", "ore", "ENT-SHI", 9000.0, (), 0, {"status": "consumed", "remaining_kg": 0.0, "within_quota": True}),
        ("OX", "compound", "ENT-RRS", 3000.0, (("BAD", 1000.0), ("GOOD", 9000.0)), 1,
         {"status": "transformed", "remaining_kg": 0.0, "within_quota": True}),
        ("OXA", "compound", "ENT-RRS", 1000.0, (("OX", 1000.0),), 2,
         {"status": "consumed", "remaining_kg": 0.0, "within_quota": True}),
        ("OXB", "compound", "ENT-RRS", 2000.0, (("OX", 2000.0),), 2, {"remaining_kg": 1500.0, "within_quota": True}),
        ("MET", "metal", "ENT-GMW", 600.0, (("OXA", 1000.0),), 3, {"status": "consumed", "remaining_kg": 0.0}),
        ("CLEAN", "metal", "ENT-NMS", 800.0, (), 3, {"remaining_kg": 400.0}),
        ("MIX", "metal", "ENT-GMW", 1000.0, (("MET", 600.0), ("CLEAN", 400.0)), 4,
         {"holder_id": "ENT-GMT", "repackaged": True}),
        ("MAG", "magnet", "ENT-NHM", 400.0, (("OXB", 500.0),), 5, {"holder_id": "ENT-BMM"}))
GRANTS = (("ENT-SHI", "mining"), ("ENT-RRS", "separation"))


def documents(as_of=None):
    """{collection: documents} of the case, dated a month before as_of (today by default)."""
    as_of = as_of or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = as_of - timedelta(days=30)
    batches, movements = [], []
    for name, stage, producer, kg, parents, day, extra in PLAN:
        produced = start + timedelta(days=day)
        product, reo = PRODUCT[stage]
        doc = {"_id": CODES[name], "code": CODES[name], "stage": stage, "product_type": product, "mass_kg": kg,
               "remaining_kg": kg, "reo_pct": reo, "producer_id": producer, "produced_on": produced,
               "parents": [{"code": CODES[p], "mass_kg": m} for p, m in parents],
               "parent_codes": [CODES[p] for p, _ in parents], "holder_id": producer, "status": "active",
               "status_since": produced, "gs1": {"lot": CODES[name]}, "demo_case": "recall"}
        if stage in QUOTA:
            doc.update(quota_category=QUOTA[stage], quota_used_t=0.0)
        doc.update(extra)
        batches.append(doc)
        if doc["holder_id"] != producer:
            moved = produced + timedelta(days=1)
            movements.append({"_id": f"MV-RECALL-{name}", "batch_code": CODES[name], "from_id": producer,
                              "to_id": doc["holder_id"], "mass_kg": kg, "date": moved,
                              "period": moved.strftime("%Y-%m"), "doc_no": f"WB-RECALL-{name}", "kind": "transfer"})
    return {"batches": batches, "movements": movements}


def plant(db, as_of=None):
    """Insert (or replace) the case's batches and movements, and the whitelist grants it needs if missing."""
    for collection, docs in documents(as_of).items():
        for doc in docs:
            db[collection].replace_one({"_id": doc["_id"]}, doc, upsert=True)
    for enterprise_id, stage in GRANTS:
        if db.approvals.count_documents({"enterprise_id": enterprise_id, "stage": stage}, limit=1) == 0:
            at = datetime(2020, 1, 1, tzinfo=timezone.utc)
            db.approvals.insert_one({"_id": f"APR-RECALL-{enterprise_id}-{stage}", "enterprise_id": enterprise_id,
                                     "seq": 1, "action": "grant", "stage": stage, "effective_from": at,
                                     "effective_to": None, "reason": None, "decision_no": None, "recorded_at": at,
                                     "recorded_by": "seed"})
    return dict(CODES)
