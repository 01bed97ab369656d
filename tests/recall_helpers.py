"""A planted recall case on the demo enterprises: illegal ore is 10% of a separator's feed, then split and merged.

    BAD ore 1000 kg (ENT-RHA, never whitelisted) --1000--\
                                                           OX oxide 3000 kg (ENT-RRS) --1000--> OXA 1000 kg
    GOOD ore 9000 kg (ENT-SHI, whitelisted) --------9000--/                          \--2000--> OXB 2000 kg
    OXA --1000--> MET metal 600 kg (ENT-GMW) --600--\
                     CLEAN metal 800 kg (400 left) --400--> MIX 1000 kg, held by ENT-GMT (Jiangxi)
    OXB --500--> MAG magnet 400 kg (ENT-NHM), held by ENT-BMM (Inner Mongolia)

Hand-computed: taint OX, OXA, OXB, MET, MAG 10%; MIX 0.6 x 10% = 6%. Of the source's 1000 kg: OX took 1000 (100%),
OXA 1/3, OXB 2/3, MET 1/3 (all of OXA), MIX 1/3 (all of MET), MAG 2/3 x 500/2000 = 1/6.
"""
from datetime import datetime, timedelta, timezone

from conftest import gen_batch

CODES = dict(zip(("BAD", "GOOD", "OX", "OXA", "OXB", "MET", "CLEAN", "MIX", "MAG"),
                 ("REDHHBF9G2H", "REFWPQA9N9A", "RE2BBVCP6ZD", "RERMB2U9ZMD", "REA2X6UMPND", "RE2GGMNQB9P",
                  "REUBDAFU4DE", "REHFJN7ZLB5", "REL3B4VU2JH")))  # batch_code.issue(random.Random(16))
EXPECTED = {  # code: (taint %, share of the source's mass %, holder)
    "OX": (10.0, 100.0, "ENT-RRS"), "OXA": (10.0, 100 / 3, "ENT-RRS"), "OXB": (10.0, 200 / 3, "ENT-RRS"),
    "MET": (10.0, 100 / 3, "ENT-GMW"), "MIX": (6.0, 100 / 3, "ENT-GMT"), "MAG": (10.0, 100 / 6, "ENT-BMM"),
}


def grant(db, enterprise_id, stage):
    db.approvals.insert_one({"_id": f"APR-{enterprise_id}-{stage}", "enterprise_id": enterprise_id, "seq": 1,
                             "action": "grant", "stage": stage,
                             "effective_from": datetime(2020, 1, 1, tzinfo=timezone.utc), "effective_to": None,
                             "reason": None, "decision_no": None,
                             "recorded_at": datetime(2020, 1, 1, tzinfo=timezone.utc), "recorded_by": "test"})


def plant(db):
    """Insert the planted lineage (the demo enterprises must exist); return {name: code}."""
    grant(db, "ENT-SHI", "mining")
    grant(db, "ENT-RRS", "separation")
    day = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=30)
    c = CODES

    def make(name, stage, producer, kg, parents=(), days=0, **fields):
        return gen_batch(db, code=c[name], stage=stage, producer_id=producer, mass_kg=kg,
                         produced_on=day + timedelta(days=days), parents=[(c[p], m) for p, m in parents], **fields)

    make("BAD", "ore", "ENT-RHA", 1000.0, status="consumed")
    make("GOOD", "ore", "ENT-SHI", 9000.0, status="consumed", within_quota=True)
    make("OX", "compound", "ENT-RRS", 3000.0, [("BAD", 1000.0), ("GOOD", 9000.0)], 1, status="transformed",
         within_quota=True)
    make("OXA", "compound", "ENT-RRS", 1000.0, [("OX", 1000.0)], 2, status="consumed", within_quota=True)
    make("OXB", "compound", "ENT-RRS", 2000.0, [("OX", 2000.0)], 2, remaining_kg=1500.0, within_quota=True)
    make("MET", "metal", "ENT-GMW", 600.0, [("OXA", 1000.0)], 3, status="consumed")
    make("CLEAN", "metal", "ENT-NMS", 800.0, (), 3, remaining_kg=400.0)
    make("MIX", "metal", "ENT-GMW", 1000.0, [("MET", 600.0), ("CLEAN", 400.0)], 4, holder_id="ENT-GMT",
         repackaged=True)
    make("MAG", "magnet", "ENT-NHM", 400.0, [("OXB", 500.0)], 5, holder_id="ENT-BMM")
    return dict(c)
