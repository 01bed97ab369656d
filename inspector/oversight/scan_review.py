"""Whose scans to review first: inspectors ranked by the cloned-code hits and contradicted times their scans make.

A clone needs two sightings, and either may be the false one. An inspector whose scans clash with many different
colleagues is more likely the forger than each colleague (who clashes once, with them), so the ranking counts
counterparts first.
"""
from datetime import timedelta

MAX_HITS = 5000  # the most recent hits read per ranking: a bounded read, far above any honest window
MAX_SCAN_IDS = 20  # scans listed per inspector to open for review


def scope_filter(actor, province=None):
    """The scans an actor may see here (supervisors: those found in their provinces), narrowed to a province."""
    clauses = []
    if actor.get("role") == "supervisor" and actor.get("provinces") is not None:
        clauses.append({"province": {"$in": list(actor["provinces"])}})
    if province is not None:
        clauses.append({"province": province})
    return clauses


def _row(rows, inspector_id, inspector):
    return rows.setdefault(inspector_id, {"inspector_id": inspector_id, "inspector": inspector, "device_ids": set(),
                                          "clone_hits": 0, "counterparts": set(), "time_disagreements": 0,
                                          "scan_ids": []})


def _note(row, scan_id, device_id):
    if device_id:
        row["device_ids"].add(device_id)
    if scan_id not in row["scan_ids"]:
        row["scan_ids"].append(scan_id)


def rank(db, actor, moment, settings, limit, province=None):
    """The inspectors to review, most counterparts first, with the scans behind each count."""
    since = moment - timedelta(days=settings.scan_review_days)
    scope = scope_filter(actor, province)
    fields = {"inspector_id": 1, "inspector": 1, "device_id": 1, "verdict.reasons": 1}
    rows = {}
    # Served by scans (verdict.reasons.code, received_at).
    hits = db.scans.find({"$and": [{"verdict.reasons.code": "cloned_code", "received_at": {"$gte": since}}, *scope]},
                         fields).sort("received_at", -1).limit(MAX_HITS)
    for scan in hits:
        ev = next(r["evidence"] for r in scan["verdict"]["reasons"] if r["code"] == "cloned_code")
        sides = [(scan["inspector_id"], scan.get("inspector"), scan["_id"], scan.get("device_id"))]
        if ev.get("other_inspector_id"):  # hits recorded before evidence named both inspectors have one side
            sides.append((ev["other_inspector_id"], ev.get("other_inspector"), ev["other_scan_id"],
                          ev.get("other_device_id")))
        for inspector_id, inspector, scan_id, device_id in sides:
            row = _row(rows, inspector_id, inspector)
            row["clone_hits"] += 1
            row["counterparts"].update(other[0] for other in sides if other[0] != inspector_id)
            _note(row, scan_id, device_id)
    # Served by scans (time_check.status, received_at).
    contradicted = db.scans.find({"$and": [{"time_check.status": "disagrees", "received_at": {"$gte": since}},
                                           *scope]}, {"inspector_id": 1, "inspector": 1, "device_id": 1}
                                 ).sort("received_at", -1).limit(MAX_HITS)
    for scan in contradicted:
        row = _row(rows, scan["inspector_id"], scan.get("inspector"))
        row["time_disagreements"] += 1
        _note(row, scan["_id"], scan.get("device_id"))
    items = [{**r, "device_ids": sorted(r["device_ids"]), "counterparts": len(r["counterparts"]),
              "counterpart_ids": sorted(str(c) for c in r["counterparts"]), "scan_ids": r["scan_ids"][:MAX_SCAN_IDS]}
             for r in rows.values()]
    items.sort(key=lambda r: (-r["counterparts"], -r["clone_hits"], -r["time_disagreements"], r["inspector"] or ""))
    return {"since": since, "window_days": settings.scan_review_days, "items": items[:limit]}
