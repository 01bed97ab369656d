"""The EPCIS 2.0 repository: every captured document kept as received, each event with its outcome.

`capture(db, settings, actor, doc, now, behaviour)` files a document that validates against the official schema
(schema.py; the caller refuses one that does not) as a capture job in `epcis_captures` (the document's text as
received, and an outcome per event), and stores its accepted events in `epcis_events`, one document per event
holding the event's JSON text as received plus the fields the queries filter on (query.py). Outcomes:

    applied    the event is a ledger flow (capture.py translates it) and the ledger took it
    stored     kept and queryable, with no ledger effect: sensor readings, inspections, aggregation of cartons
               onto pallets, error declarations, and events that name no batch of our registry
    duplicate  an event with this eventID and the same content is stored already (nothing changes)
    refused    with every reason, in EPCIS field names; not stored as an event (the capture job keeps it)

An event without an eventID takes its GS1 event hash (hashing.py). Security: an enterprise captures only events
that name it (its GLNs, PGLN or SGLNs, or our enterprise URN) or a batch it holds or held; a ledger flow must be
its own as the ledger sees it (submission.py); a GS1 identifier names our batch only with the batch's registered
GTIN, so a foreign GTIN with our lot is "outside the registry" and moves nothing. `GS1-Capture-Error-Behaviour`
`rollback` (the bindings' default) refuses every event of a document one of whose events is refused; `proceed`
keeps the others.
"""
import json
import uuid
from urllib.parse import quote
from datetime import datetime

from pymongo.errors import BulkWriteError

from inspector.ledger import submission, transfers
from inspector.ledger.epcis import parties
from inspector.ledger.epcis.capture import event_list, read_event
from inspector.ledger.epcis.hashing import event_hash
from inspector.ledger.epcis.identifiers import NS, Refused, context_prefixes, read_identifier, vocab
from inspector.ledger.epcis.reasons import ledger_reason, pointer, translator_reasons

EVENTS, CAPTURES = "epcis_events", "epcis_captures"
BEHAVIOURS = ("rollback", "proceed")
NO_LEDGER_EFFECT = ("unsupported_event", "not_a_ledger_event")
PROCEED_ROUNDS = 3


def _text(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _time(text):
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _ours(event, ours_prefixes):
    """True when the event uses our extension terms (rei:...), at its top level or inside its ilmd."""
    keys = list(event) + list(event.get("ilmd") or {} if isinstance(event.get("ilmd"), dict) else [])
    return any(isinstance(k, str) and (k.startswith(NS) or k.split(":", 1)[0] in ours_prefixes) for k in keys)


class _Batches:
    """Which identifiers name a batch of our registry (native codes; GS1 only with the batch's registered GTIN)."""

    def __init__(self, db):
        self.db, self.cache = db, {}

    def code_of(self, value):
        if value in self.cache:
            return self.cache[value]
        try:
            ref = read_identifier(value, "epc")
        except Refused:
            ref = None
        code = None
        if ref and "code" in ref:
            found = self.db.batches.find_one({"_id": ref["code"]}, {"_id": 1})
            code = found["_id"] if found else None
        elif ref:
            gs1 = ref["gs1"]
            key = "gs1.lot" if "lot" in gs1 else "gs1.serial"
            found = self.db.batches.find_one({"gs1.gtin": gs1["gtin"], key: gs1.get("lot", gs1.get("serial"))},
                                             {"_id": 1})
            code = found["_id"] if found else None
        self.cache[value] = (code, bool(ref and "code" in ref))
        return self.cache[value]

    def holders(self, codes):
        out = set()
        for batch in self.db.batches.find({"_id": {"$in": list(codes)}}, {"holder_id": 1, "producer_id": 1}):
            out.update(x for x in (batch.get("holder_id"), batch.get("producer_id")) if x)
        return out


def _by_gln(db, events):
    wanted = set().union(*(parties.gln_candidates(e) for e in events if isinstance(e, dict))) if events else set()
    if not wanted:
        return {}
    out = {}
    for ent in db.enterprises.find({"glns": {"$in": sorted(wanted)}}, {"glns": 1}):
        out.update({g: ent["_id"] for g in ent.get("glns", []) if g in wanted})
    return out


def _entry(event, index, context, prefixes, by_gln, batches):
    """What the repository knows of one event before the ledger sees it."""
    event_id = event.get("eventID") if isinstance(event.get("eventID"), str) else None
    entry = {"index": index, "event": event, "eventID": event_id or event_hash(event, context),
             "hashed": event_id is None, "reasons": []}
    named = {}
    for field, ident in parties.places(event):
        eid = parties.enterprise_of(ident, by_gln)
        if eid:
            named.setdefault(eid, field)
    codes, native = set(), False
    for value in parties.epcs(event) + parties.epc_classes(event):
        code, is_native = batches.code_of(value)
        native = native or is_native
        if code:
            codes.add(code)
    ours = {p for p, iri in context_prefixes(event.get("@context"), prefixes).items() if iri == NS}
    entry.update(named=named, codes=codes, relevant=bool(codes) or native or _ours(event, ours))
    return entry


def _check_actor(entry, actor, db, batch_viewers):
    """An enterprise's capture must be about itself: its GLNs or a batch it holds or held."""
    me = actor.get("enterprise_id")
    if actor.get("role") != "enterprise" or me in entry["named"]:
        return
    if any(transfers.really_held(db, code, me) for code in entry["codes"]):
        return
    if entry["relevant"] and not entry["named"] and not entry["codes"]:
        return  # a new batch of its own (rei: terms only): the ledger checks the reporting enterprise
    entry["reasons"].append({"code": "not_your_enterprise", "field": "bizLocation",
                             "message": "The event names none of your enterprise's GLNs (readPoint, bizLocation, "
                                        "sourceList, destinationList) and no batch your enterprise holds or held; "
                                        "capture only your own events."})


def _translate(entry, prefixes, by_gln):
    event = parties.rewritten_parties(entry["event"], by_gln)
    event["eventID"] = entry["eventID"]
    found = read_event(event, entry["index"] + 1, prefixes)
    return found


def _stored_doc(entry, context, job_id, actor, now, batch_viewers):
    event = entry["event"]
    ident = (lambda v: v.get("id") if isinstance(v, dict) else v)
    viewers = set(entry["named"]) | batch_viewers | {x for x in [entry.get("enterprise_id")] if x}
    if actor.get("enterprise_id"):
        viewers.add(actor["enterprise_id"])
    return {
        "_id": entry["eventID"], "json": _text(event), "context": _text(context), "hashed": entry["hashed"],
        "type": event.get("type"), "event_time": _time(event.get("eventTime")), "record_time": now,
        "action": event.get("action"), "biz_step": vocab(event.get("bizStep"), "bizstep"),
        "disposition": vocab(event.get("disposition"), "disp"), "read_point": ident(event.get("readPoint")),
        "biz_location": ident(event.get("bizLocation")), "epcs": parties.epcs(event),
        "epc_list": parties.epcs(event, ("epcList", "childEPCs")), "parent_id": ident(event.get("parentID")),
        "input_epcs": parties.epcs(event, ("inputEPCList",)), "output_epcs": parties.epcs(event, ("outputEPCList",)),
        "epc_classes": parties.epc_classes(event), "viewers": sorted(viewers), "batches": sorted(entry["codes"]),
        "outcome": entry["outcome"], "reasons": entry["reasons"], "capture_id": job_id,
        "captured_by": actor.get("username"),
    }


def capture(db, settings, actor, doc, now, behaviour="rollback", max_events=None):
    """File a schema-valid EPCIS document: store its events with their outcomes; return the capture job."""
    events, prefixes = event_list(doc, max_events)
    context = doc.get("@context")
    by_gln, batches = _by_gln(db, events), _Batches(db)
    entries = [_entry(e, i, context, prefixes, by_gln, batches) for i, e in enumerate(events)]
    known = {d["_id"]: d for d in db[EVENTS].find({"_id": {"$in": [e["eventID"] for e in entries]}},
                                                    {"json": 1, "outcome": 1})}
    seen, candidates = set(), {}
    for entry in entries:
        prior = known.get(entry["eventID"])
        if prior is not None or entry["eventID"] in seen:
            same = prior is not None and prior["json"] == _text(entry["event"])
            if same:
                entry["outcome"] = "duplicate"
                continue
            entry["reasons"].append({"code": "duplicate_event_id", "field": "eventID",
                                     "message": f"eventID {entry['eventID'][:80]} names another event already "
                                                "captured; give each event its own id."})
        seen.add(entry["eventID"])
        _check_actor(entry, actor, db, None)
        if entry["reasons"]:  # every reason: what else the ledger translator finds wrong with it too
            found = _translate(entry, prefixes, by_gln) if entry["relevant"] else None
            if found is not None and not isinstance(found, dict) and found.code not in NO_LEDGER_EFFECT:
                entry["reasons"].extend(translator_reasons(found))
            entry["outcome"] = "refused"
            continue
        if not entry["relevant"]:
            entry.update(outcome="stored", note="outside_registry")
            continue
        found = _translate(entry, prefixes, by_gln)
        if isinstance(found, dict):
            entry["enterprise_id"] = found.get("enterprise_id")
            candidates[entry["index"] + 1] = (entry, found)
        elif found.code in NO_LEDGER_EFFECT:
            entry.update(outcome="stored", note="no_ledger_effect", message=found.message)
        else:
            entry.update(outcome="refused", reasons=translator_reasons(found))
    ledger = _apply(db, settings, actor, candidates, now, behaviour, any(e.get("outcome") == "refused"
                                                                          for e in entries))
    if behaviour == "rollback" and any(e.get("outcome") == "refused" for e in entries):
        for entry in entries:
            if entry.get("outcome") not in ("refused", "duplicate"):  # nothing was applied (see _apply)
                entry.update(outcome="refused", reasons=[{
                    "code": "rolled_back", "field": "eventID",
                    "message": "Not captured: another event of this document was refused, and the capture asked "
                               "for rollback (GS1-Capture-Error-Behaviour). Fix it and capture the document again, "
                               "or send GS1-Capture-Error-Behaviour: proceed."}])
    job_id = uuid.uuid4().hex
    kept = [e for e in entries if e.get("outcome") in ("applied", "stored")]
    if kept:
        try:
            db[EVENTS].insert_many([_stored_doc(e, context, job_id, actor, now, batches.holders(e["codes"]))
                                    for e in kept], ordered=False)
        except BulkWriteError as exc:  # a concurrent capture stored the same event first: it is kept once
            if any(err.get("code") != 11000 for err in exc.details.get("writeErrors", [])):
                raise
    job = {
        "_id": job_id, "running": False, "success": all(e.get("outcome") != "refused" for e in entries),
        "captureErrorBehaviour": behaviour, "createdAt": now, "finishedAt": now,
        "captured_by": actor.get("username"), "enterprise_id": actor.get("enterprise_id"),
        "events": [_summary(e) for e in entries], "ledger": ledger, "document": _text(doc),
    }
    job["errors"] = [{"eventID": s["eventID"], "index": s["index"], **r} for s in job["events"]
                     for r in s.get("reasons", []) if s["outcome"] == "refused"]
    job["counts"] = {o: sum(1 for s in job["events"] if s["outcome"] == o)
                     for o in ("applied", "stored", "duplicate", "refused")}
    db[CAPTURES].insert_one(job)
    return job


def _summary(entry):
    out = {"index": entry["index"], "eventID": entry["eventID"], "type": entry["event"].get("type"),
           "outcome": entry["outcome"]}
    if entry.get("note"):
        out["note"] = entry["note"]
    if entry.get("message"):
        out["message"] = entry["message"]
    if entry["reasons"]:  # each with where it is in the document and what a translation needs to say it
        out["reasons"] = [{**r, "pointer": pointer(entry["index"], r.get("field")),
                           "params": {"eventIndex": entry["index"], "field": r.get("field"), **(r.get("params") or {})}}
                          for r in entry["reasons"]]
    return out


def _apply(db, settings, actor, candidates, now, behaviour, refused_already):
    """Apply the ledger flows; mark each candidate applied or refused. Returns the ledger receipts' summary."""
    receipts = []
    if not candidates:
        return receipts
    if behaviour == "rollback" and refused_already:
        for entry, _ in candidates.values():
            entry["outcome"] = "pending"
        return receipts
    pending = dict(candidates)
    for _round in range(PROCEED_ROUNDS if behaviour == "proceed" else 1):
        lines = [(line, dict(found)) for line, (_, found) in sorted(pending.items())]
        receipt = submission.submit(db, settings, actor, lines, "epcis", now)
        if receipt["status"] == "accepted":
            for entry, _ in pending.values():
                entry["outcome"] = "applied"
            receipts.append({k: receipt.get(k) for k in ("submission_id", "accepted", "duplicates", "flags",
                                                         "issued_codes")})
            return receipts
        failed = {}
        for err in receipt["errors"]:
            failed.setdefault(err.get("line"), []).append(ledger_reason(err))
        for line, reasons in failed.items():
            if line in pending:
                entry, _ = pending.pop(line)
                entry.update(outcome="refused", reasons=reasons)
        if behaviour == "rollback" or not pending or not failed:
            break
    for entry, _ in pending.values():
        entry["outcome"] = "pending"  # rollback: the caller marks these rolled back
    if behaviour == "proceed":
        for entry, _ in pending.values():
            entry.update(outcome="refused", reasons=[{"code": "not_applied", "field": "eventID",
                                                      "message": "The ledger did not settle this event after the "
                                                                 "others were refused; capture it again."}])
    return receipts


def job(db, job_id):
    """A capture job, or None."""
    return db[CAPTURES].find_one({"_id": job_id}, {"document": 0})


def jobs(db, enterprise_ids, limit):
    """The latest capture jobs (of these enterprises' clerks, or all for None), newest first."""
    query = {} if enterprise_ids is None else {"enterprise_id": {"$in": list(enterprise_ids)}}
    return list(db[CAPTURES].find(query, {"document": 0}).sort([("createdAt", -1), ("_id", -1)]).limit(limit))


def captured(db, event_ids):
    """The stored events (as captured) among these ids, by id: a batch's history gives them back unchanged."""
    ids = sorted({i for i in event_ids if isinstance(i, str)})
    return {d["_id"]: d for d in db[EVENTS].find({"_id": {"$in": ids}})} if ids else {}


def digital_links(db, codes):
    """GS1 Digital Link URIs of the batches that have a GTIN (with their lot or serial), by batch code."""
    out = {}
    for batch in db.batches.find({"_id": {"$in": sorted(set(codes))}}, {"gs1": 1}):
        gs1 = batch.get("gs1") or {}
        if gs1.get("gtin") and (gs1.get("serial") or gs1.get("lot")):
            ai, value = ("21", gs1["serial"]) if gs1.get("serial") else ("10", gs1["lot"])
            out[batch["_id"]] = f"https://id.gs1.org/01/{gs1['gtin']}/{ai}/{quote(str(value), safe='')}"
    return out
