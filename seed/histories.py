"""The seeded ledger as ledger events, so that every demo batch has its history (and its EPCIS export).

The dataset is written as documents (batches, movements), not through the ledger; `history_docs` gives each batch
the events the ledger would have recorded for it, in the shape inspector/ledger/effects.py stores: its production
(or import), and each movement as a shipment, the receiver's receipt (unless still awaited) or an export. The
events read through the ledger's own reader (inspector.ledger.events.read_event), so their payloads are canonical;
one the reader refuses (a planted case's deliberately odd batch) is left out rather than invented. Seeded events
belong to no submission. A seeded day is that China day (the dataset's dates are midnights).
"""
from inspector.ledger.book import event_key
from inspector.ledger.events import LineError, read_event

EXPORT_PORT = "CNTSN"


def _day(moment):
    return f"{moment:%Y-%m-%d}"


def _output(batch):
    out = {"code": batch["_id"], "mass_kg": batch["mass_kg"], "stage": batch["stage"],
           "product_type": batch["product_type"], "reo_pct": batch["reo_pct"]}
    if batch.get("quota_category"):
        out["quota_category"] = batch["quota_category"]
    return out


def _raw_events(batches, movements):
    for batch in batches:
        if batch.get("imported"):
            check = batch.get("import_check") or {}
            yield {"event_id": f"SEED-IMP-{batch['_id']}", "type": "import", "enterprise_id": batch["producer_id"],
                   "occurred_at": _day(batch["produced_on"]), "declaration_no": check.get("declaration_no"),
                   "port": check.get("port"), "origin_country": check.get("origin_country"),
                   "outputs": [_output(batch)]}
        else:
            yield {"event_id": f"SEED-PRD-{batch['_id']}", "type": "production", "enterprise_id": batch["producer_id"],
                   "occurred_at": _day(batch["produced_on"]), "outputs": [_output(batch)],
                   "inputs": [{"code": p["code"], "mass_kg": p["mass_kg"]} for p in batch.get("parents", [])]}
    for move in movements:
        common = {"code": move["batch_code"], "mass_kg": move["mass_kg"], "occurred_at": _day(move["date"])}
        if move["kind"] == "transfer":
            yield {**common, "event_id": f"SEED-SHP-{move['_id']}", "type": "shipment",
                   "enterprise_id": move["from_id"], "to_id": move["to_id"], "doc_no": move["doc_no"]}
            if not move.get("awaiting_receipt"):
                yield {**common, "event_id": f"SEED-RCV-{move['_id']}", "type": "receipt",
                       "enterprise_id": move["to_id"], "from_id": move["from_id"], "doc_no": move["doc_no"]}
        elif move["kind"] == "export":
            yield {**common, "event_id": f"SEED-EXP-{move['_id']}", "type": "export", "enterprise_id": move["from_id"],
                   "licence_no": move["doc_no"], "port": move.get("port") or EXPORT_PORT}


def history_docs(batches, movements, recorded_at):
    """The ledger_events documents of the seeded batches and movements."""
    out = []
    for line, raw in enumerate(_raw_events(batches, movements), start=1):
        try:
            ev = read_event({k: v for k, v in raw.items() if v is not None}, line)
        except LineError:
            continue
        out.append({"_id": event_key(ev.enterprise_id, ev.event_id), "enterprise_id": ev.enterprise_id,
                    "event_id": ev.event_id, "submission_id": None, "type": ev.type, "occurred_at": ev.occurred_at,
                    "period": ev.period, "recorded_at": recorded_at, "codes": ev.codes(), "payload": ev.payload(),
                    "flags": [], "fingerprints": [ev.fingerprint()], "seeded": True})
    return out
