"""The fictional enterprises of the demo dataset; any likeness to a real company is accidental."""
import hashlib
from datetime import datetime, timezone

from biip.checksums import gs1_standard_check_digit

from inspector.codes import uscc


def _d(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


OPEN_END = None
ALWAYS = _d("2020-01-01")

# id, name, roles, province, city, (lat, lon), approvals [(stage, from, to)], categories, pool
# "pool" enterprises take part in the random, clean flow; the others appear only in planted cases.
ENTERPRISES = [
    ("ENT-NSM", "Northern Steppe Rare Earth Mining Co.", ["mine"], "Inner Mongolia", "Baotou", (40.66, 109.84),
     [("mining", ALWAYS, OPEN_END)], ["mining_light"], True),
    ("ENT-WHM", "Western Highlands Minerals", ["mine"], "Sichuan", "Liangshan", (27.88, 102.27),
     [("mining", ALWAYS, OPEN_END)], ["mining_light", "mining_medium_heavy"], True),
    ("ENT-CPM", "Coastal Plain Mining", ["mine"], "Shandong", "Weishan", (34.81, 117.13),
     [("mining", ALWAYS, OPEN_END)], ["mining_light"], True),
    ("ENT-SHI", "Southern Hills Ion-Adsorption Mining", ["mine"], "Jiangxi", "Ganzhou", (25.83, 114.93),
     [("mining", ALWAYS, OPEN_END)], ["mining_medium_heavy"], True),
    ("ENT-RSR", "Red Soil Rare Earths", ["mine"], "Guangdong", "Meizhou", (24.29, 116.12),
     [("mining", ALWAYS, OPEN_END)], ["mining_medium_heavy"], True),
    ("ENT-JRM", "Jade River Mining", ["mine"], "Fujian", "Longyan", (25.08, 117.02),
     [("mining", ALWAYS, OPEN_END)], ["mining_medium_heavy"], True),
    ("ENT-RHA", "Red Hill Artisanal Mining", ["mine"], "Jiangxi", "Xunwu", (24.95, 115.65),
     [], [], False),
    ("ENT-ERR", "Eastern Ridge Rare Earth", ["mine"], "Guangxi", "Chongzuo", (22.38, 107.36),
     [("mining", ALWAYS, OPEN_END)], ["mining_medium_heavy"], False),
    ("ENT-LSM", "Late Spring Mining", ["mine"], "Hunan", "Yongzhou", (26.42, 111.61),
     [("mining", _d("2024-03-01"), OPEN_END)], ["mining_medium_heavy"], False),
    ("ENT-BPS", "Baotou Plains Separation", ["separator"], "Inner Mongolia", "Baotou", (40.60, 110.00),
     [("separation", ALWAYS, OPEN_END)], ["separation"], True),
    ("ENT-HSW", "Highland Separation Works", ["separator"], "Sichuan", "Leshan", (29.55, 103.77),
     [("separation", ALWAYS, OPEN_END)], ["separation"], True),
    ("ENT-RRS", "Riverside Rare Earth Separation", ["separator"], "Jiangxi", "Ganzhou", (25.87, 114.90),
     [("separation", ALWAYS, OPEN_END)], ["separation"], True),
    ("ENT-LKS", "Lakeside Separation", ["separator", "importer"], "Jiangsu", "Yixing", (31.36, 119.82),
     [("separation", ALWAYS, OPEN_END), ("import", ALWAYS, OPEN_END)], ["separation"], False),
    ("ENT-GVS", "Golden Valley Separation", ["separator"], "Guangdong", "Heyuan", (23.74, 114.70),
     [("separation", ALWAYS, OPEN_END)], ["separation"], False),
    ("ENT-SSP", "Sunset Separation Plant", ["separator"], "Fujian", "Sanming", (26.26, 117.64),
     [("separation", ALWAYS, _d("2024-06-30"))], ["separation"], False),
    ("ENT-GLR", "Green Loop Resource Recovery", ["recycler", "separator"], "Jiangxi", "Ganzhou", (25.80, 114.95),
     [("separation", ALWAYS, OPEN_END)], ["separation"], False),
    ("ENT-NMS", "Northern Metals Smelting", ["metal_smelter"], "Inner Mongolia", "Baotou", (40.63, 109.95),
     [], [], True),
    ("ENT-GMW", "Ganjiang Metal Works", ["metal_smelter"], "Jiangxi", "Ganzhou", (25.85, 114.88),
     [], [], True),
    ("ENT-PDA", "Pearl Delta Alloys", ["metal_smelter"], "Guangdong", "Foshan", (23.02, 113.12),
     [], [], True),
    ("ENT-TMS", "Tardy Metals Smelting", ["metal_smelter"], "Hunan", "Changsha", (28.23, 112.94),
     [], [], False),
    ("ENT-OTA", "On the Tenth Alloys", ["metal_smelter"], "Hubei", "Wuhan", (30.59, 114.30),
     [], [], False),
    ("ENT-NHM", "Ningbo Harbour Magnetics", ["magnet_maker"], "Zhejiang", "Ningbo", (29.87, 121.54),
     [], [], True),
    ("ENT-TYM", "Taiyuan Magnet Works", ["magnet_maker"], "Shanxi", "Taiyuan", (37.87, 112.55),
     [], [], True),
    ("ENT-JPM", "Jinhua Precision Magnets", ["magnet_maker"], "Zhejiang", "Jinhua", (29.08, 119.65),
     [], [], True),
    ("ENT-EHM", "Eleventh Hour Magnetics", ["magnet_maker"], "Anhui", "Hefei", (31.82, 117.23),
     [], [], False),
    ("ENT-GMT", "Ganzhou Market Traders", ["trader", "importer"], "Jiangxi", "Ganzhou", (25.84, 114.94),
     [("import", ALWAYS, OPEN_END)], [], True),
    ("ENT-BMM", "Baotou Metals Market Co.", ["trader"], "Inner Mongolia", "Baotou", (40.65, 109.85),
     [], [], True),
    ("ENT-SMT", "Shanghai Materials Trading", ["trader", "importer"], "Shanghai", "Shanghai", (31.23, 121.47),
     [("import", ALWAYS, OPEN_END)], [], True),
    ("ENT-LLT", "Late Ledger Trading", ["trader"], "Jiangxi", "Ganzhou", (25.86, 114.92),
     [], [], False),
    ("ENT-TPE", "Tianjin Port Export Co.", ["exporter", "importer"], "Tianjin", "Tianjin", (38.99, 117.72),
     [("import", ALWAYS, OPEN_END)], [], True),
    ("ENT-NBX", "Ningbo Export Services", ["exporter"], "Zhejiang", "Ningbo", (29.94, 121.85),
     [], [], True),
    ("ENT-SBE", "Shenzhen Bay Export", ["exporter"], "Guangdong", "Shenzhen", (22.49, 113.89),
     [], [], True),
]

# Published 2023-2024 totals (t REO); later years are synthetic, growing 5% a year.
NATIONAL_TOTALS = {2023: {"mining": 255_000, "separation": 243_850}, 2024: {"mining": 270_000, "separation": 254_000}}

# Shares of the national mining or separation total. The 2024 first batch (half the year: 135,000 t mining,
# 127,000 t separation) went to two groups: the largest mined 94,580 t (all light) and separated 88,010 t; the
# second mined 40,420 t (30,280 light + 10,140 ion-adsorption) and separated 38,990 t. Here the second group's
# share is spread over its member mines and separators, so light and ion-adsorption totals stay real.
QUOTA_SHARES = {
    ("ENT-NSM", "mining_light"): 94_580 / 135_000,
    ("ENT-WHM", "mining_light"): 0.1400,
    ("ENT-CPM", "mining_light"): 30_280 / 135_000 - 0.1400,
    ("ENT-WHM", "mining_medium_heavy"): 0.0300,
    ("ENT-SHI", "mining_medium_heavy"): 0.0200,
    ("ENT-RSR", "mining_medium_heavy"): 0.0120,
    ("ENT-JRM", "mining_medium_heavy"): 0.0100,
    ("ENT-ERR", "mining_medium_heavy"): 0.0020,
    ("ENT-LSM", "mining_medium_heavy"): 10_140 / 135_000 - 0.0740,
    ("ENT-BPS", "separation"): 88_010 / 127_000,
    ("ENT-HSW", "separation"): 0.2000,
    ("ENT-RRS", "separation"): 0.0500,
    ("ENT-LKS", "separation"): 0.0150,
    ("ENT-GVS", "separation"): 0.0170,
    ("ENT-SSP", "separation"): 0.0150,
    ("ENT-GLR", "separation"): 38_990 / 127_000 - 0.2970,
}

# Two issue batches a year; the first is half of the year's total, as in 2024.
ISSUE_BATCHES = [(1, 2, 20, 0.5), (2, 8, 15, 0.5)]  # (issue_batch, month, day, share)


def national_total(year, kind):
    """Return the national quota (t REO) for a year and kind (mining or separation)."""
    if year in NATIONAL_TOTALS:
        return NATIONAL_TOTALS[year][kind]
    return round(NATIONAL_TOTALS[2024][kind] * 1.05 ** (year - 2024))


def fictional_uscc(index, province):
    """A valid but plainly fictional USCC: an enterprise (91) in the province, organisation code FAKE + number."""
    return uscc.complete("91" + uscc.PROVINCE_DIVISIONS[province] + f"FAKE{index + 1:04d}")


def glns_of(prefix):
    """The enterprise's GLNs under its GS1 company prefix: the party's own (location 000) and its site (001)."""
    out = []
    for location in ("000", "001"):
        body = prefix + location
        out.append(body + str(gs1_standard_check_digit(body)))
    return out


def enterprise_docs():
    """Return the enterprise documents (their whitelist approvals are in approval_docs())."""
    docs = []
    for index, (eid, name, roles, province, city, (lat, lon), _approvals, categories, _pool) in enumerate(ENTERPRISES):
        docs.append({
            "_id": eid,
            "name": name,
            "uscc": fictional_uscc(index, province),
            "roles": roles,
            "province": province,
            "city": city,
            "location": {"lat": lat, "lon": lon},
            "quota_categories": categories,
            "gs1_prefix": f"695{210100 + index * 7:06d}",
            "glns": glns_of(f"695{210100 + index * 7:06d}"),
            "_etag": hashlib.sha256(f"seed:{eid}".encode()).hexdigest()[:32],
        })
    return docs


def approval_docs():
    """The whitelist approvals as grant entries of each enterprise's append-only history."""
    docs = []
    for eid, *_, approvals, _categories, _pool in ENTERPRISES:
        for seq, (stage, start, end) in enumerate(approvals, start=1):
            docs.append({"_id": f"APR-{eid}-{seq:04d}", "enterprise_id": eid, "seq": seq, "action": "grant",
                         "stage": stage, "effective_from": start, "effective_to": end, "reason": None,
                         "decision_no": None, "recorded_at": start, "recorded_by": "seed"})
    return docs


POOL = {e[0] for e in ENTERPRISES if e[8]}
BY_ID = {e[0]: e for e in ENTERPRISES}
