"""EPCIS capture: a GS1 EPCIS 2.0 JSON-LD document to canonical ledger events (pure: no database).

`read_document(doc)` yields `(line, event dict | LineError)`, one line per EPCIS event (1-based index in the
eventList), for `inspector.ledger.submission.submit`. The way back, a batch's history as EPCIS, is export.py; the
identifiers, our URNs and our JSON-LD terms are identifiers.py; the batches an event lists, with their masses,
items.py.

Accepted documents: an `EPCISDocument` (`epcisBody.eventList`), an `EPCISQueryDocument`
(`epcisBody.queryResults.resultsBody.eventList`), or one bare event. `schemaVersion` must be 2.x.

Mapping (bizStep, disposition and type words bare or as `https://ref.gs1.org/cbv/BizStep-shipping` or
`urn:epcglobal:cbv:bizstep:shipping`):

    TransformationEvent (rei:operation absent or production) -> production
        inputs  = inputEPCList + inputQuantityList (+ rei:inputs), each needs a mass
        outputs = outputEPCList + outputQuantityList + rei:outputs, each with stage, product type, REO %
    TransformationEvent rei:operation split (one input) / merge (one output) -> split / merge
    ObjectEvent OBSERVE|ADD   shipping                                   -> shipment
    ObjectEvent OBSERVE|ADD   shipping|departing + export licence        -> export
    ObjectEvent OBSERVE|ADD   receiving                                  -> receipt
    ObjectEvent ADD           commissioning + rei:import                 -> import
    ObjectEvent OBSERVE|DELETE consuming                                 -> consumption (status consumed)
    ObjectEvent OBSERVE|DELETE destroying|decommissioning                -> consumption (status retired)
    ObjectEvent inspecting (any disposition)                             -> error not_a_ledger_event
    anything else (other types, bizSteps or actions, errorDeclaration)   -> error unsupported_event

Inspections are refused rather than taken as observations: the ledger records product flows, and a receipt that
counted an inspection as "accepted" would claim something was recorded that no ledger view shows. The enterprise
leaves them out of what it sends, or a later observation type takes them.

Shipments, receipts, exports and consumptions name one batch (epcList or quantityList); send one event per batch.
Parties: sourceList / destinationList of type owning_party (or possessing_party). A shipment's or export's source
and a receipt's destination are the reporting enterprise; `rei:enterprise` names it for the other kinds (when
absent, the clerk's own enterprise). Document numbers come from bizTransactionList (desadv, bol, inv, po, recadv,
in that preference); an export licence or customs declaration from `rei:exportLicence` or a bizTransaction of type
customs_declaration / export_declaration / export_licence (bare, or in our namespace).

Masses: a quantityList entry's quantity with uom KGM, TNE (tonnes) or GRM, converted to kg; an object named only
in an EPC list takes its mass from `rei:massKg` (on the event for one-batch events, on its rei:inputs/rei:outputs
entry otherwise). A quantity without uom counts items, not kilograms, and is refused.

Identifiers and our extension terms (rei:...) are described in identifiers.py.
"""
from __future__ import annotations

import re
from datetime import datetime

from inspector.errors import DomainError
from inspector.ledger.epcis.hashing import event_hash
from inspector.ledger.epcis.identifiers import (Ext, NS, PREFIX, Refused, context_prefixes, doc_value, read_event_id,
                                                read_party, vocab)
from inspector.ledger.epcis.items import agreeing_mass, attribute_defaults, canonical_item, items_of, list_of, ref_of
from inspector.ledger.events import LineError

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "AssociationEvent", "TransactionEvent", "TransformationEvent")
DOC_TYPES = ("desadv", "bol", "inv", "po", "recadv")
EXPORT_DOC_TYPES = {"customsdeclaration", "exportdeclaration", "exportlicence", "exportlicense", "export"}
_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")


class DocumentError(DomainError, ValueError):
    """The body is not an EPCIS 2.0 document we can read at all (no per-event answer is possible)."""

    def __init__(self, code, message, kind=None, **details):
        super().__init__(message, code=code, kind=kind, **details)


# -- documents and events ----------------------------------------------------------------------------------------------
def event_list(doc, max_events=None):
    """The events of a document (and the JSON-LD prefixes in force); raise DocumentError when there are none to read."""
    if not isinstance(doc, dict):
        raise DocumentError("not_epcis", "The body must be an EPCIS 2.0 JSON-LD object (an EPCISDocument).")
    kind = doc.get("type")
    if kind in EVENT_TYPES:
        events = [doc]
    elif kind in ("EPCISDocument", "EPCISQueryDocument"):
        version = doc.get("schemaVersion")
        if not isinstance(version, (str, int, float)) or isinstance(version, bool) or not str(version).startswith("2"):
            raise DocumentError("unsupported_schema_version",
                                f"schemaVersion must be 2.0 (EPCIS 2.0 JSON-LD); got {str(version)[:20]!r}.")
        body = doc.get("epcisBody")
        if not isinstance(body, dict):
            raise DocumentError("not_epcis", "The document has no epcisBody object.")
        if kind == "EPCISQueryDocument":
            results = body.get("queryResults")
            body = (results if isinstance(results, dict) else {}).get("resultsBody", body.get("resultsBody"))
            body = body if isinstance(body, dict) else {}
        events = body.get("eventList")
        if not isinstance(events, list):
            where = "epcisBody.queryResults.resultsBody.eventList" if kind == "EPCISQueryDocument" \
                else "epcisBody.eventList"
            raise DocumentError("not_epcis", f"The document has no event list ({where} must be a list).")
    else:
        raise DocumentError("not_epcis", "type must be EPCISDocument, EPCISQueryDocument or one EPCIS event type; "
                                         f"got {str(kind)[:40]!r}.")
    if max_events is not None and len(events) > max_events:
        raise DocumentError("too_many_events",
                            f"The document holds {len(events)} events; send at most {max_events} per capture.",
                            kind="too_large", limit=max_events)
    return events, context_prefixes(doc.get("@context"), {PREFIX: NS})


def read_document(doc, max_events=None):
    """Yield (line, canonical event dict or LineError) for every event of an EPCIS document.

    An event without an eventID (the standard makes it optional) is known by its GS1 event hash, so sending it again
    is a duplicate, as the repository does."""
    events, prefixes = event_list(doc, max_events)
    for line, event in enumerate(events, start=1):
        if isinstance(event, dict) and not (isinstance(event.get("eventID"), str) and event["eventID"].strip()):
            event = {**event, "eventID": event_hash(event, doc.get("@context"))}
        yield line, read_event(event, line, prefixes)


class _Problems(list):
    """Every Refused of one event's independent parts: one bad field does not hide the next."""

    def take(self, read, *args):
        try:
            return read(*args)
        except Refused as exc:
            self.append(exc)
            return _FAILED


_FAILED = object()


def read_event(event, line=1, prefixes=None):
    """One EPCIS event as a canonical ledger event dict, or a LineError (its other problems in `.also`)."""
    event_id = None
    problems = _Problems()
    try:
        if not isinstance(event, dict):
            raise Refused("bad_field", f"Event {line} is not a JSON object.")
        prefixes = context_prefixes(event.get("@context"), prefixes or {PREFIX: NS})
        ours = {p for p, iri in prefixes.items() if iri == NS}
        event_id = problems.take(read_event_id, event.get("eventID"))
        event_id = None if event_id is _FAILED else event_id
        out = _translate(event, Ext(ours), event_id, problems)
    except Refused as exc:
        # What kind of event it is decides what the repository does with it: that reason comes first.
        if exc.code in ("unsupported_event", "not_a_ledger_event"):
            problems.insert(0, exc)
        else:
            problems.append(exc)
    if not problems:
        return out
    errors = [LineError(p.code, p.message, p.field, event_id, line) for p in problems]
    errors[0].also = errors[1:]
    return errors[0]


def _translate(event, ext, event_id, problems):
    kind = event.get("type", event.get("isA"))
    if kind not in EVENT_TYPES:
        raise Refused("unsupported_event", f"type {str(kind)[:40]!r} is not an EPCIS 2.0 event type.", "type")
    if "errorDeclaration" in event:
        raise Refused("unsupported_event", "Error declarations (corrections of earlier events) cannot be captured; "
                                             "ask the administration to correct a ledger event.", "errorDeclaration")
    if kind not in ("ObjectEvent", "TransformationEvent"):
        raise Refused("unsupported_event", f"{kind} is not a ledger flow: send production as TransformationEvent, "
                                             "and shipping, receiving, export, import and consumption as ObjectEvent.",
                       "type")
    out = {"event_id": event_id, "occurred_at": problems.take(_event_time, event)}
    enterprise = ext.get(event, "enterprise")
    if enterprise is not None:
        out["enterprise_id"] = problems.take(read_party, enterprise, ext.name("enterprise"))
    if kind == "TransformationEvent":
        problems.take(_transformation, event, ext, out)
    else:
        _object_event(event, ext, out, problems)
    return out


def _transformation(event, ext, out):
    operation = ext.get(event, "operation")
    operation = "production" if operation is None else _word(operation)
    if operation not in ("production", "split", "merge"):
        raise Refused("bad_field", f"{ext.name('operation')} must be production, split or merge.",
                       ext.name("operation"))
    inputs = items_of(event, ext, "inputEPCList", "inputQuantityList", "inputs")
    outputs = items_of(event, ext, "outputEPCList", "outputQuantityList", "outputs")
    out["type"] = operation
    if operation == "split":
        if len(inputs) != 1:
            raise Refused("bad_field", "A split transforms exactly one input batch.", "inputEPCList")
        out.update(ref_of(inputs[0]))
        out["outputs"] = [canonical_item(o, ext, "outputs", with_attributes=False) for o in outputs]
        return
    out["inputs"] = [canonical_item(i, ext, "inputs", with_attributes=False) for i in inputs]
    if operation == "production":
        defaults = attribute_defaults(event, ext)
        out["outputs"] = [canonical_item(o, ext, "outputs", defaults=defaults) for o in outputs]
    else:
        out["outputs"] = [canonical_item(o, ext, "outputs", with_attributes=False) for o in outputs]


def _object_event(event, ext, out, problems):
    action = event.get("action")
    action = action.upper() if isinstance(action, str) else action
    if action not in ("OBSERVE", "ADD", "DELETE"):
        raise Refused("bad_field", "action must be OBSERVE, ADD or DELETE.", "action")
    step = vocab(event.get("bizStep"), "bizstep")
    kind = _object_kind(event, ext, step, action)
    out["type"] = kind
    if kind == "import":
        problems.take(_import, event, ext, out)
        return
    problems.take(_item_and_mass, event, ext, out, kind)
    if kind in ("shipment", "export"):
        problems.take(lambda: _reporter(out, _party_of(event, "sourceList", "source"), "sourceList"))
    if kind == "shipment":
        problems.take(_needed_party, out, "to_id", event, "destinationList", "destination", "A shipment needs its "
                      "receiver: a destinationList entry of type owning_party.")
        out["doc_no"] = problems.take(_doc_no, event, "shipment")
    elif kind == "receipt":
        problems.take(lambda: _reporter(out, _party_of(event, "destinationList", "destination"), "destinationList"))
        problems.take(_needed_party, out, "from_id", event, "sourceList", "source", "A receipt needs its sender: a "
                      "sourceList entry of type owning_party.")
        out["doc_no"] = problems.take(_doc_no, event, "receipt")
    elif kind == "export":
        out["licence_no"] = problems.take(_export_licence, event, ext)
        if ext.get(event, "port") is None:
            problems.append(Refused("bad_field", f"An export needs its port of departure: {ext.name('port')}.",
                                    ext.name("port")))
        _copy(out, "port", ext.get(event, "port"))
        _copy(out, "destination_country", ext.get(event, "destinationCountry"))
    elif kind == "consumption":
        out["status"] = "consumed" if step == "consuming" else "retired"


def _item_and_mass(event, ext, out, kind):
    items = items_of(event, ext, "epcList", "quantityList", None)
    if not items:
        raise Refused("bad_field", "The event names no batch: put its identifier in epcList or quantityList.",
                       "epcList")
    if len(items) > 1:
        raise Refused("bad_field", f"The event names {len(items)} batches; send one event per batch.", "epcList")
    item = items[0]
    out.update(ref_of(item))
    mass = agreeing_mass(item, ext.get(event, "massKg"), ext.name("massKg"))
    if mass is not None:
        out["mass_kg"] = mass
    elif kind == "shipment":
        raise Refused("bad_mass", "A shipment needs its mass: a quantityList entry in KGM, or "
                                   f"{ext.name('massKg')}.", "quantityList")


def _needed_party(out, name, event, list_key, value_key, missing):
    party = _party_of(event, list_key, value_key)
    if party is None:
        raise Refused("bad_field", missing, list_key)
    out[name] = party


def _object_kind(event, ext, step, action):
    if step == "inspecting":
        raise Refused("not_a_ledger_event", "An inspection (bizStep inspecting) is not a product flow, so the ledger "
                                             "does not record it; leave it out of the capture.", "bizStep")
    exported = ext.get(event, "exportLicence") is not None or _export_transaction(event) is not None
    if step in ("shipping", "departing") and exported:
        _action(action, ("OBSERVE", "ADD"), step)
        return "export"
    if step == "departing":
        raise Refused("unsupported_event", "departing is captured only as an export: give rei:exportLicence or a "
                                            "customs_declaration bizTransaction (shipping is a transfer in China).",
                       "bizStep")
    if step == "shipping":
        _action(action, ("OBSERVE", "ADD"), step)
        return "shipment"
    if step == "receiving":
        _action(action, ("OBSERVE", "ADD"), step)
        return "receipt"
    if step == "commissioning":
        _action(action, ("ADD",), step)
        if ext.get(event, "import") is None:
            raise Refused("unsupported_event", "commissioning is captured only as an import (with rei:import); report "
                                                "production, a mine's too, as a TransformationEvent.", "bizStep")
        return "import"
    if step in ("consuming", "destroying", "decommissioning"):
        _action(action, ("OBSERVE", "DELETE"), step)
        return "consumption"
    shown = "none" if step is None else repr(step[:60])
    raise Refused("unsupported_event", f"bizStep {shown} is not a ledger flow: use shipping, receiving, consuming, "
                                        "destroying, decommissioning, commissioning (import) or departing (export).",
                   "bizStep")


def _action(action, allowed, step):
    if action not in allowed:
        raise Refused("unsupported_event", f"action {action} does not fit bizStep {step} "
                                            f"(expected {' or '.join(allowed)}).", "action")


def _import(event, ext, out):
    details = ext.get(event, "import")
    details = details if isinstance(details, dict) else {}
    inner = Ext(ext.prefixes, bare=True)

    def field(name):
        value = inner.get(details, name)
        return ext.get(event, name) if value is None else value
    declaration = field("declarationNo")
    _copy(out, "declaration_no", _export_transaction(event) if declaration is None else declaration)
    _copy(out, "port", field("port"))
    _copy(out, "origin_country", field("originCountry"))
    defaults = attribute_defaults(event, ext)
    items = items_of(event, ext, "epcList", "quantityList", "outputs")
    out["outputs"] = [canonical_item(o, ext, "outputs", defaults=defaults) for o in items]


# -- parties, documents, times -----------------------------------------------------------------------------------------
def _party_of(event, list_key, value_key):
    """The owning (else possessing) party of a sourceList or destinationList."""
    found = {}
    for i, entry in enumerate(list_of(event, list_key)):
        where = f"{list_key}[{i}]"
        if not isinstance(entry, dict):
            raise Refused("bad_field", f"{where} must be an object with type and {value_key}.", where)
        kind = vocab(entry.get("type"), "sdt")
        if kind in ("owning_party", "possessing_party"):
            party = read_party(entry.get(value_key), f"{where}.{value_key}")
            if found.setdefault(kind, party) != party:
                raise Refused("bad_field", f"{list_key} names two different {kind} entries.", where)
    return found.get("owning_party", found.get("possessing_party"))


def _reporter(out, party, where):
    if party is None:
        return
    if out.setdefault("enterprise_id", party) != party:
        raise Refused("bad_field", f"{where} names {party!r} but rei:enterprise names {out['enterprise_id']!r}.",
                       where)


def _transactions(event):
    for i, entry in enumerate(list_of(event, "bizTransactionList")):
        where = f"bizTransactionList[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("bizTransaction"), str):
            raise Refused("bad_field", f"{where} must be an object with a bizTransaction text.", where)
        yield vocab(entry.get("type"), "btt"), doc_value(entry["bizTransaction"])


def _doc_no(event, kind_name):
    found = {}
    for kind, value in _transactions(event):
        if _squeezed(kind) not in EXPORT_DOC_TYPES:
            found.setdefault(kind, value)
    for kind in DOC_TYPES + (None,):
        if kind in found:
            return found[kind]
    if not found:
        raise Refused("bad_field", f"A {kind_name} needs its waybill or despatch advice number: a bizTransactionList "
                                    "entry of type desadv or bol.", "bizTransactionList")
    return next(iter(found.values()))


def _export_transaction(event):
    for kind, value in _transactions(event):
        if _squeezed(kind) in EXPORT_DOC_TYPES:
            return value
    return None


def _export_licence(event, ext):
    licence = ext.get(event, "exportLicence")
    declared = _export_transaction(event)
    if licence is not None and declared is not None and licence != declared:
        raise Refused("bad_field", f"{ext.name('exportLicence')} and the customs declaration bizTransaction differ.",
                       ext.name("exportLicence"))
    return declared if licence is None else licence


def _squeezed(word):
    return (word or "").replace("_", "").replace("-", "").lower()


def _event_time(event):
    raw = event.get("eventTime")
    if not isinstance(raw, str) or not raw.strip():
        raise Refused("bad_field", "eventTime is required (an ISO 8601 date-time with offset).", "eventTime")
    text = raw.strip()
    if "T" not in text.upper():
        # A date alone (with or without an offset) names no moment: reading it as midnight somewhere would shift it.
        raise Refused("bad_field", f"eventTime {text[:40]!r} is a date without a time; EPCIS wants a date-time with "
                                    "its offset, such as 2026-10-05T00:00:00+08:00.", "eventTime")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Refused("bad_field", f"eventTime {text[:40]!r} is not an ISO 8601 date-time such as "
                                    "2026-10-05T14:30:00+08:00.", "eventTime") from None
    offset = event.get("eventTimeZoneOffset")
    if moment.tzinfo is None and isinstance(offset, str) and _OFFSET.match(offset):
        text += offset
    return text


def _word(value):
    return value.strip().lower() if isinstance(value, str) else None


def _copy(out, name, value):
    if value is not None:
        out[name] = value
