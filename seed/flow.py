"""The clean, random flow of the demo ledger: mines to separators to smelters to magnet makers, then trade."""
from collections import deque
from datetime import datetime, timedelta, timezone

from .enterprises import BY_ID, POOL
from .ledger import PRODUCTS, products

LOTS_PER_MONTH = {"small": 2, "medium": 20, "large": 1400}
RECOVERY = 0.95  # below the mass-balance ceiling, so the clean flow never trips it

MINES = [e for e in POOL if "mine" in BY_ID[e][2]]
SEPARATORS = [e for e in POOL if "separator" in BY_ID[e][2]]
SMELTERS = [e for e in POOL if "metal_smelter" in BY_ID[e][2]]
MAGNET_MAKERS = [e for e in POOL if "magnet_maker" in BY_ID[e][2]]
TRADERS = [e for e in POOL if "trader" in BY_ID[e][2]]
EXPORTERS = [e for e in POOL if "exporter" in BY_ID[e][2]]


def months(as_of):
    """Yield the first day of each month from January 2023 to the as-of month."""
    year, month = 2023, 1
    while (year, month) <= (as_of.year, as_of.month):
        yield datetime(year, month, 1, tzinfo=timezone.utc)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _day_in(month_start, rng, as_of):
    latest = min(as_of - timedelta(days=1), (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1))
    span = max((latest - month_start).days, 0)
    return month_start + timedelta(days=rng.randint(0, span))


def _take(pool, ledger, reo_needed_kg, before, producer_id, max_parents=3):
    """Draw feed from the oldest available lots until the REO need is met: mixed feed, FIFO."""
    draws = []
    while pool and reo_needed_kg > 1 and len(draws) < max_parents:
        code = pool[0]
        lot = ledger.batches[code]
        if lot["produced_on"] >= before:
            break
        if lot["remaining_kg"] < 1 or lot["status"] != "active" or lot["holder_id"] != lot["producer_id"]:
            pool.popleft()
            continue
        kg = min(lot["remaining_kg"], reo_needed_kg * 100 / lot["reo_pct"])
        draws.append((code, kg))
        reo_needed_kg -= kg * lot["reo_pct"] / 100
        if lot["remaining_kg"] - kg < 1:
            pool.popleft()
        else:
            pool.rotate(-1)  # move on to another source so feed is mixed
    return draws


def _produce(ledger, stage, producer, date, pool, target_reo_kg, recovery=RECOVERY):
    draws = _take(pool, ledger, target_reo_kg / recovery, date - timedelta(days=3), producer)
    if not draws:
        return None
    input_reo = sum(kg * ledger.batches[c]["reo_pct"] / 100 for c, kg in draws)
    product, reo = products(stage, ledger.rng)
    category = "separation" if stage == "compound" else None
    return ledger.make_batch(stage, producer, date, input_reo * recovery * 100 / reo, reo, product,
                             parents=draws, category=category)


def generate_flow(ledger, scale):
    """Fill the ledger with the clean random flow for the given scale."""
    rng = ledger.rng
    per_month = LOTS_PER_MONTH[scale]
    ore, compounds, metals, magnets = deque(), deque(), deque(), deque()
    for month in months(ledger.as_of):
        for mine in sorted(MINES):
            for category in ledger.enterprises[mine]["quota_categories"]:
                product, low, high = PRODUCTS["ore"][category]
                for _ in range(per_month):
                    mass = rng.uniform(20_000, 40_000) if category == "mining_light" else rng.uniform(6_000, 12_000)
                    lot = ledger.make_batch("ore", mine, _day_in(month, rng, ledger.as_of), mass,
                                            rng.uniform(low, high), product, category=category)
                    ore.append(lot["_id"])
        for stage, producers, feed, out, size in (
            ("compound", SEPARATORS, ore, compounds, (8_000, 14_000)),
            ("metal", SMELTERS, compounds, metals, (2_000, 4_000)),
            ("magnet", MAGNET_MAKERS, metals, magnets, (1_000, 2_000)),
        ):
            for producer in sorted(producers):
                for _ in range(per_month):
                    lot = _produce(ledger, stage, producer, _day_in(month, rng, ledger.as_of), feed, rng.uniform(*size))
                    if lot:
                        out.append(lot["_id"])
        _trade(ledger, month, metals, magnets, per_month)
    ledger.report_all_on_time()


def _trade(ledger, month, metals, magnets, per_month):
    """Sell some finished lots to market traders and exporters; exporters ship most of theirs."""
    rng = ledger.rng
    for pool, share in ((magnets, 0.8), (metals, 0.25)):
        recent = [ledger.batches[c] for c in list(pool)[-per_month * 3:]]
        candidates = [b["_id"] for b in recent if b["status"] == "active" and b["holder_id"] == b["producer_id"]
                      and b["remaining_kg"] == b["mass_kg"]]
        for code in candidates:
            if rng.random() > share:
                continue
            lot = ledger.batches[code]
            date = lot["produced_on"] + timedelta(days=rng.randint(5, 20))
            if date >= ledger.as_of:
                continue
            buyer = rng.choice(sorted(TRADERS) + sorted(EXPORTERS))
            ledger.move(code, buyer, date)
            ship_date = date + timedelta(days=rng.randint(3, 15))
            if buyer in EXPORTERS and rng.random() < 0.6 and ship_date < ledger.as_of:
                ledger.move(code, "FOREIGN", ship_date, kind="export")
