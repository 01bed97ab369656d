"""Where to inspect next: enterprises ranked by weighted recent evidence, each with the factors behind its score."""
import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from inspector.ledger import transfers
from inspector.oversight import reporting
from inspector.findings import workflow
from inspector.periods import due_periods, next_period, period_of, settings_deadline
from inspector.clock import aware
from inspector.registry.approvals import approval_on


@dataclass(frozen=True)
class Factor:
    """One kind of evidence: the points each occurrence adds, and how to say it."""

    key: str
    weight: int
    label: str
    one: str
    many: str
    since: str  # how far back the evidence is counted, in words ({days} is the window)


REPORT_WINDOW = 12  # due periods looked back on for late and missing reports

# The weights, in one place: points per occurrence. Evidence a supervisor established outweighs what a rule infers.
FACTORS = (
    Factor("producer_not_approved", 6, "Production while not whitelisted",
           "month of production while not on the whitelist", "months of production while not on the whitelist",
           "in the last {days} days"),
    Factor("confirmed_findings", 5, "Confirmed findings", "confirmed finding", "confirmed findings",
           "in the last {days} days"),
    Factor("over_quota", 5, "Production over quota", "over-quota production flag", "over-quota production flags",
           "in the last {days} days"),
    Factor("unverified_import", 5, "Unverified imports", "import the customs register does not confirm",
           "imports the customs register does not confirm", "in the last {days} days"),
    Factor("mass_balance", 4, "Mass balance", "mass-balance flag (more REO out than in)",
           "mass-balance flags (more REO out than in)", "in the last {days} days"),
    Factor("missing_reports", 4, "Missing monthly reports", "monthly report never entered",
           "monthly reports never entered", f"in the last {REPORT_WINDOW} due months"),
    Factor("fail_verdicts", 3, "Failing scans", "batch it produced or held failed a scan",
           "batches it produced or held failed a scan", "in the last {days} days"),
    Factor("receipt_claims", 3, "Receipts without shipment", "receipt of a batch its holder never shipped",
           "receipts of batches their holders never shipped", "in the last {days} days"),
    Factor("overdue_transits", 2, "Shipments in transit too long", "shipment never received",
           "shipments never received", "past the in-transit limit"),
    Factor("late_reports", 2, "Late monthly reports", "monthly report entered late", "monthly reports entered late",
           f"in the last {REPORT_WINDOW} due months"),
)
WEIGHTS = {f.key: f.weight for f in FACTORS}
FLAG_CODES = ("mass_balance", "over_quota", "producer_not_approved", "unverified_import")
# A finding counts once confirmed, unless the supervisor finally accepted the enterprise's answer.
FINDING_STATES = (workflow.CONFIRMED, *workflow.SENT_STATES)
ACCEPTED_OUTCOME = "accepted"
# The production stage whose recovery ceiling applies to an enterprise's month; mines (ore) have no inputs to balance.
ROLE_STAGES = {"separator": "compound", "recycler": "compound", "metal_smelter": "metal", "magnet_maker": "magnet"}
QUOTA_STAGES = {"mining_light": "ore", "mining_medium_heavy": "ore", "separation": "compound"}


def weights():
    """The factors and their weights, as shown to supervisors."""
    return [{"factor": f.key, "label": f.label, "weight": f.weight} for f in FACTORS]


def rank(db, enterprise_filter, now, settings, limit=None):
    """Score every enterprise matching the filter and rank them, worst first: ten queries in all."""
    window_days = settings.risk_window_days
    since = now - timedelta(days=window_days)
    deadline = settings_deadline(settings)
    enterprises = {e["_id"]: e for e in db.enterprises.find(enterprise_filter, reporting.ENTERPRISE_FIELDS)}
    ids = sorted(enterprises)
    due = due_periods(now, REPORT_WINDOW, **deadline)

    counts = defaultdict(lambda: defaultdict(int))
    details = defaultdict(lambda: defaultdict(set))
    batches = defaultdict(lambda: defaultdict(set))  # the evidence of the transfer factors: the batches concerned
    for eid, codes in _failing_batches(db, since).items():
        if eid in enterprises:
            counts[eid]["fail_verdicts"] = len(codes)
    for eid, n in _confirmed_findings(db, since, ids).items():
        counts[eid]["confirmed_findings"] = n
    for eid, standing in reporting.standings(db, enterprises.values(), due, now, **deadline).items():
        for row in standing:
            key = {reporting.LATE: "late_reports", reporting.MISSING: "missing_reports"}.get(row["status"])
            if key:
                counts[eid][key] += 1
                details[eid][key].add(row["period"])
    for (eid, code, period), n in _flags(db, enterprises, since, now, settings).items():
        counts[eid][code] += n
        details[eid][code].add(period)

    for claim in transfers.claims_since(db, since):
        eid = claim["claimant_id"]
        if eid in enterprises:
            counts[eid]["receipt_claims"] += 1
            batches[eid]["receipt_claims"].add(claim["batch_code"])
    for b in transfers.overdue(db, now - timedelta(days=settings.in_transit_days)):
        for eid in {b["in_transit"]["from_id"], b["in_transit"]["to_id"]} & enterprises.keys():
            counts[eid]["overdue_transits"] += 1
            batches[eid]["overdue_transits"].add(b["_id"])

    rows = [_row(enterprises[eid], counts[eid], details[eid], window_days, batches[eid]) for eid in ids]
    rows.sort(key=lambda r: (-r["score"], -max((f["weight"] for f in r["factors"] if f["count"]), default=0),
                             r["enterprise_id"]))
    for position, row in enumerate(rows):
        # Equal scores share a rank (1, 2, 2, 4).
        row["rank"] = rows[position - 1]["rank"] if position and rows[position - 1]["score"] == row["score"] \
            else position + 1
    return {"as_of": now, "window_days": window_days, "since": since, "due_periods": due, "weights": weights(),
            "total": len(rows), "items": rows[:limit] if limit else rows}


def _row(enterprise, counts, details, window_days, batches):
    factors = []
    for f in FACTORS:
        count = counts.get(f.key, 0)
        if not count:
            continue
        entry = {"factor": f.key, "label": f.label, "count": count, "weight": f.weight, "points": count * f.weight}
        if details.get(f.key):
            entry["periods"] = sorted(details[f.key], reverse=True)
        if batches.get(f.key):
            entry["batches"] = sorted(batches[f.key])
        factors.append(entry)
    factors.sort(key=lambda x: (-x["points"], -x["weight"]))
    top = factors[0] if factors else None
    return {
        "enterprise_id": enterprise["_id"], "enterprise_name": enterprise.get("name"),
        "province": enterprise.get("province"), "roles": enterprise.get("roles", []),
        "score": sum(x["points"] for x in factors),
        "top_factor": {"factor": top["factor"], "text": _sentence(top, window_days)} if top else None,
        "factors": factors,
    }


def _sentence(entry, window_days):
    f = next(x for x in FACTORS if x.key == entry["factor"])
    noun = f.one if entry["count"] == 1 else f.many
    text = f"{entry['count']} {noun} {f.since.format(days=window_days)}"
    if entry.get("periods"):
        text += f" ({', '.join(entry['periods'])})"
    return f"{text}: {entry['points']} points."


def _failing_batches(db, since):
    """{enterprise_id: {batch codes}}: batches that failed a scan, for their producer, recorded and found holder."""
    rows = db.scans.aggregate([
        {"$match": {"verdict.status": "fail", "received_at": {"$gte": since}, "batch_code": {"$ne": None}}},
        # Repeat scans of one batch count once.
        {"$group": {"_id": {"b": "$batch_code", "p": "$batch.producer_id", "h": "$batch.holder_id",
                            "f": "$holder_enterprise_id"}}},
    ])
    out = defaultdict(set)
    for row in rows:
        key = row["_id"]
        for eid in {key.get("p"), key.get("h"), key.get("f")} - {None}:
            out[eid].add(key["b"])
    return out


def _confirmed_findings(db, since, ids):
    """{enterprise_id: count} of findings confirmed against it, observed in the window."""
    rows = db.findings.aggregate([
        {"$match": {"status": {"$in": list(FINDING_STATES)}, "observed_at": {"$gte": since},
                    "enterprise_id": {"$in": ids},
                    "$or": [{"status": {"$ne": workflow.RESOLVED}}, {"outcome": {"$ne": ACCEPTED_OUTCOME}}]}},
        {"$group": {"_id": "$enterprise_id", "n": {"$sum": 1}}},
    ])
    return {row["_id"]: row["n"] for row in rows}


def _flags(db, enterprises, since, now, settings):
    """{(enterprise_id, flag code, period): n}: flagged ledger events, and the month tallies of older history.

    A month the tallies show in breach counts once; flagged events of that month count each, and not on top of it.
    """
    ids = sorted(enterprises)
    flagged = defaultdict(int)
    for row in db.ledger_events.aggregate([
        {"$match": {"flags.code": {"$in": list(FLAG_CODES)}, "occurred_at": {"$gte": since},
                    "enterprise_id": {"$in": ids}}},
        {"$unwind": "$flags"},
        {"$match": {"flags.code": {"$in": list(FLAG_CODES)}}},
        {"$group": {"_id": {"e": "$enterprise_id", "c": "$flags.code", "id": "$_id"},
                    "at": {"$first": "$occurred_at"}}},
    ]):
        key = row["_id"]
        flagged[(key["e"], key["c"], period_of(aware(row["at"])))] += 1
    for key in _tally_breaches(db, enterprises, since, now, settings):
        flagged[key] = max(flagged[key], 1)
    return flagged


def _window_periods(since, now):
    out, period = [], period_of(since)
    while period <= period_of(now):
        out.append(period)
        period = next_period(period)
    return out


def _tally_breaches(db, enterprises, since, now, settings):
    """(enterprise_id, flag code, period) for months touching the window whose production tallies break a rule."""
    periods = _window_periods(since, now)
    tallies = list(db.production_periods.find(
        {"enterprise_id": {"$in": sorted(enterprises)}, "period": {"$in": periods}},
        {"enterprise_id": 1, "period": 1, "output_reo_kg": 1, "input_reo_kg": 1, "quota_used_t": 1}))
    bound = sorted({t["enterprise_id"] for t in tallies if t.get("quota_used_t")})
    allocated, histories = {}, defaultdict(list)
    if bound:
        # The whitelist history is its own append-only collection, as the verdict reads it.
        for entry in db.approvals.find({"enterprise_id": {"$in": bound}}):
            histories[entry["enterprise_id"]].append(entry)
        for row in db.quotas.aggregate([
            {"$match": {"enterprise_id": {"$in": bound}, "year": {"$in": sorted({int(p[:4]) for p in periods})}}},
            {"$group": {"_id": {"e": "$enterprise_id", "y": "$year", "c": "$category"}, "t": {"$sum": "$tonnes_reo"}}},
        ]):
            allocated[(row["_id"]["e"], row["_id"]["y"], row["_id"]["c"])] = row["t"]
    out = set()
    for t in tallies:
        eid, period = t["enterprise_id"], t["period"]
        stage = _balance_stage(enterprises[eid])
        ceiling = settings.recovery_ceiling_for(stage) if stage else None
        if ceiling and (t.get("output_reo_kg") or 0) > (t.get("input_reo_kg") or 0) * ceiling:
            out.add((eid, "mass_balance", period))
        for category, used in (t.get("quota_used_t") or {}).items():
            if category not in QUOTA_STAGES:
                continue
            if not _approved_during(histories[eid], QUOTA_STAGES[category], period):
                out.add((eid, "producer_not_approved", period))
                continue
            limit = allocated.get((eid, int(period[:4]), category), 0)
            if not (limit > 0 and used <= limit):  # as quota.allocation.within_quota judges a batch
                out.add((eid, "over_quota", period))
    return out


def _balance_stage(enterprise):
    return next((ROLE_STAGES[r] for r in enterprise.get("roles") or [] if r in ROLE_STAGES), None)


def _approved_during(history, stage, period):
    """True when the whitelist covered the stage on at least one day of the month (a month's tally has no days)."""
    year, month = int(period[:4]), int(period[5:])
    days = calendar.monthrange(year, month)[1]
    return any(approval_on({"approvals": history}, stage, datetime(year, month, d, tzinfo=timezone.utc)) is not False
               for d in range(1, days + 1))
