"""GS1 EPCIS 2.0 JSON-LD to canonical ledger events and back (pure: no database).

Capture: `read_document(doc)` yields `(line, event dict | LineError)`, one line per EPCIS event (1-based index in
the eventList), for `inspector.intake.submit`. Export: `to_epcis(history, code, created_at)` builds an EPCIS 2.0
document from stored events, so that capturing it again gives the same canonical events.

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

Identifiers: `urn:rare-earth-inspector:batch:<native code>`, a bare native code, a GS1 Digital Link on any domain
(`https://id.gs1.org/01/<gtin>/10/<lot>` or `/21/<serial>`), or an EPC URN (`urn:epc:class:lgtin:...`,
`urn:epc:id:sgtin:...`). A Digital Link whose lot is a native code is that code; any other GS1 identifier is
passed on as `gs1: {gtin, lot | serial}` for the core to resolve. Parties: `urn:rare-earth-inspector:enterprise:<id>`
or the bare id. Event ids: `eventID`, any URI; an id that is not a URI (from the JSON or CSV channels) is exported
as `urn:rare-earth-inspector:event:<percent-encoded id>` and read back as the id itself.

Our extension context: `"rei": "https://rare-earth-inspector.example/epcis/"` (any prefix bound to that IRI, or
the full IRI, works; inside our own objects bare names are accepted too). Terms:

    rei:enterprise          the reporting enterprise (a party identifier)
    rei:operation           production (default) | split | merge, on a TransformationEvent
    rei:stage, rei:productType, rei:reoPct, rei:quotaCategory
                            output attributes: on the event or in `ilmd` as defaults for every output, or
                            per output in rei:outputs
    rei:outputs, rei:inputs [{rei:epc, rei:massKg?, rei:stage?, rei:productType?, rei:reoPct?, rei:quotaCategory?}];
                            an rei:outputs entry without rei:epc is a new batch the service numbers
    rei:massKg              the mass of a one-batch ObjectEvent named only in epcList
    rei:exportLicence, rei:port, rei:destinationCountry     on an export
    rei:import {rei:declarationNo, rei:port, rei:originCountry}   on an import (commissioning)
    rei:flags               exported only: the flags the service raised on the event (ignored on capture)
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, unquote

from inspector.codes import batch_code
from inspector.codes.labels import read_code
from inspector.ledger.events import LineError

NS = "https://rare-earth-inspector.example/epcis/"
PREFIX = "rei"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CONTEXT = [EPCIS_CONTEXT, {PREFIX: NS}]
BATCH_URN = "urn:rare-earth-inspector:batch:"
ENTERPRISE_URN = "urn:rare-earth-inspector:enterprise:"
EVENT_URN = "urn:rare-earth-inspector:event:"
DOC_URN = "urn:rare-earth-inspector:doc:"
TRANSFORMATION_URN = "urn:rare-earth-inspector:transformation:"
CHINA = timezone(timedelta(hours=8))

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "AssociationEvent", "TransactionEvent", "TransformationEvent")
KG_PER_UNIT = {"KGM": Decimal(1), "TNE": Decimal(1000), "GRM": Decimal("0.001")}
DOC_TYPES = ("desadv", "bol", "inv", "po", "recadv")
EXPORT_DOC_TYPES = {"customsdeclaration", "exportdeclaration", "exportlicence", "exportlicense", "export"}
ITEM_ATTRIBUTES = (("stage", "stage"), ("productType", "product_type"), ("reoPct", "reo_pct"),
                   ("quotaCategory", "quota_category"))
MAX_ITEMS = 500
_VOCAB_PREFIXES = {
    "bizstep": ("https://ref.gs1.org/cbv/BizStep-", "http://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disp": ("https://ref.gs1.org/cbv/Disp-", "http://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
    "btt": ("https://ref.gs1.org/cbv/BTT-", "http://ref.gs1.org/cbv/BTT-", "urn:epcglobal:cbv:btt:"),
    "sdt": ("https://ref.gs1.org/cbv/SDT-", "http://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:"),
}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")
_EPC_URN = re.compile(r"^urn:epc:(id:sgtin|class:lgtin):(\d+)\.(\d+)\.(.+)$", re.IGNORECASE)


class DocumentError(ValueError):
    """The body is not an EPCIS 2.0 document we can read at all (no per-event answer is possible)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class _Refused(Exception):
    def __init__(self, code, message, field=None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


# -- capture ---------------------------------------------------------------------------------------------------------
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
                            f"The document holds {len(events)} events; send at most {max_events} per capture.")
    return events, _prefixes(doc.get("@context"), {PREFIX: NS})


def read_document(doc, max_events=None):
    """Yield (line, canonical event dict or LineError) for every event of an EPCIS document."""
    events, prefixes = event_list(doc, max_events)
    for line, event in enumerate(events, start=1):
        yield line, read_event(event, line, prefixes)


def read_event(event, line=1, prefixes=None):
    """One EPCIS event as a canonical ledger event dict, or a LineError saying why it cannot be one."""
    event_id = None
    try:
        if not isinstance(event, dict):
            raise _Refused("bad_field", f"Event {line} is not a JSON object.")
        prefixes = _prefixes(event.get("@context"), prefixes or {PREFIX: NS})
        ours = {p for p, iri in prefixes.items() if iri == NS}
        event_id = _event_id(event.get("eventID"))
        return _translate(event, _Ext(ours), event_id)
    except _Refused as exc:
        return LineError(exc.code, exc.message, exc.field, event_id, line)


def _translate(event, ext, event_id):
    kind = event.get("type", event.get("isA"))
    if kind not in EVENT_TYPES:
        raise _Refused("unsupported_event", f"type {str(kind)[:40]!r} is not an EPCIS 2.0 event type.", "type")
    if "errorDeclaration" in event:
        raise _Refused("unsupported_event", "Error declarations (corrections of earlier events) cannot be captured; "
                                             "ask the administration to correct a ledger event.", "errorDeclaration")
    if kind not in ("ObjectEvent", "TransformationEvent"):
        raise _Refused("unsupported_event", f"{kind} is not a ledger flow: send production as TransformationEvent, "
                                             "and shipping, receiving, export, import and consumption as ObjectEvent.",
                       "type")
    out = {"event_id": event_id, "occurred_at": _event_time(event)}
    enterprise = ext.get(event, "enterprise")
    if enterprise is not None:
        out["enterprise_id"] = _party(enterprise, ext.name("enterprise"))
    if kind == "TransformationEvent":
        _transformation(event, ext, out)
    else:
        _object_event(event, ext, out)
    return out


def _transformation(event, ext, out):
    operation = ext.get(event, "operation")
    operation = "production" if operation is None else _word(operation)
    if operation not in ("production", "split", "merge"):
        raise _Refused("bad_field", f"{ext.name('operation')} must be production, split or merge.",
                       ext.name("operation"))
    inputs = _items(event, ext, "inputEPCList", "inputQuantityList", "inputs")
    outputs = _items(event, ext, "outputEPCList", "outputQuantityList", "outputs")
    out["type"] = operation
    if operation == "split":
        if len(inputs) != 1:
            raise _Refused("bad_field", "A split transforms exactly one input batch.", "inputEPCList")
        out.update(_ref(inputs[0]))
        out["outputs"] = [_canonical_item(o, ext, "outputs", with_attributes=False) for o in outputs]
        return
    out["inputs"] = [_canonical_item(i, ext, "inputs", with_attributes=False) for i in inputs]
    if operation == "production":
        defaults = _defaults(event, ext)
        out["outputs"] = [_canonical_item(o, ext, "outputs", defaults=defaults) for o in outputs]
    else:
        out["outputs"] = [_canonical_item(o, ext, "outputs", with_attributes=False) for o in outputs]


def _object_event(event, ext, out):
    action = event.get("action")
    action = action.upper() if isinstance(action, str) else action
    if action not in ("OBSERVE", "ADD", "DELETE"):
        raise _Refused("bad_field", "action must be OBSERVE, ADD or DELETE.", "action")
    step = _vocab(event.get("bizStep"), "bizstep")
    kind = _object_kind(event, ext, step, action)
    out["type"] = kind
    if kind == "import":
        _import(event, ext, out)
        return
    items = _items(event, ext, "epcList", "quantityList", None)
    if not items:
        raise _Refused("bad_field", "The event names no batch: put its identifier in epcList or quantityList.",
                       "epcList")
    if len(items) > 1:
        raise _Refused("bad_field", f"The event names {len(items)} batches; send one event per batch.", "epcList")
    item = items[0]
    out.update(_ref(item))
    event_mass = ext.get(event, "massKg")
    mass = _agreeing_mass(item, event_mass, ext.name("massKg"))
    if mass is not None:
        out["mass_kg"] = mass
    elif kind == "shipment":
        raise _Refused("bad_mass", "A shipment needs its mass: a quantityList entry in KGM, or "
                                   f"{ext.name('massKg')}.", "quantityList")
    if kind in ("shipment", "export"):
        _reporter(out, _party_of(event, "sourceList", "source"), "sourceList")
    if kind == "shipment":
        to_id = _party_of(event, "destinationList", "destination")
        if to_id is None:
            raise _Refused("bad_field", "A shipment needs its receiver: a destinationList entry of type owning_party.",
                           "destinationList")
        out["to_id"] = to_id
        out["doc_no"] = _doc_no(event, "shipment")
    elif kind == "receipt":
        _reporter(out, _party_of(event, "destinationList", "destination"), "destinationList")
        from_id = _party_of(event, "sourceList", "source")
        if from_id is None:
            raise _Refused("bad_field", "A receipt needs its sender: a sourceList entry of type owning_party.",
                           "sourceList")
        out["from_id"] = from_id
        out["doc_no"] = _doc_no(event, "receipt")
    elif kind == "export":
        out["licence_no"] = _export_licence(event, ext)
        if ext.get(event, "port") is None:
            raise _Refused("bad_field", f"An export needs its port of departure: {ext.name('port')}.", ext.name("port"))
        _copy(out, "port", ext.get(event, "port"))
        _copy(out, "destination_country", ext.get(event, "destinationCountry"))
    elif kind == "consumption":
        out["status"] = "consumed" if step == "consuming" else "retired"


def _object_kind(event, ext, step, action):
    if step == "inspecting":
        raise _Refused("not_a_ledger_event", "An inspection (bizStep inspecting) is not a product flow, so the ledger "
                                             "does not record it; leave it out of the capture.", "bizStep")
    exported = ext.get(event, "exportLicence") is not None or _export_transaction(event) is not None
    if step in ("shipping", "departing") and exported:
        _action(action, ("OBSERVE", "ADD"), step)
        return "export"
    if step == "departing":
        raise _Refused("unsupported_event", "departing is captured only as an export: give rei:exportLicence or a "
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
            raise _Refused("unsupported_event", "commissioning is captured only as an import (with rei:import); report "
                                                "production, a mine's too, as a TransformationEvent.", "bizStep")
        return "import"
    if step in ("consuming", "destroying", "decommissioning"):
        _action(action, ("OBSERVE", "DELETE"), step)
        return "consumption"
    shown = "none" if step is None else repr(step[:60])
    raise _Refused("unsupported_event", f"bizStep {shown} is not a ledger flow: use shipping, receiving, consuming, "
                                        "destroying, decommissioning, commissioning (import) or departing (export).",
                   "bizStep")


def _action(action, allowed, step):
    if action not in allowed:
        raise _Refused("unsupported_event", f"action {action} does not fit bizStep {step} "
                                            f"(expected {' or '.join(allowed)}).", "action")


def _import(event, ext, out):
    details = ext.get(event, "import")
    details = details if isinstance(details, dict) else {}
    inner = _Ext(ext.prefixes, bare=True)

    def field(name):
        value = inner.get(details, name)
        return ext.get(event, name) if value is None else value
    declaration = field("declarationNo")
    _copy(out, "declaration_no", _export_transaction(event) if declaration is None else declaration)
    _copy(out, "port", field("port"))
    _copy(out, "origin_country", field("originCountry"))
    defaults = _defaults(event, ext)
    items = _items(event, ext, "epcList", "quantityList", "outputs")
    out["outputs"] = [_canonical_item(o, ext, "outputs", defaults=defaults) for o in items]


# -- items: identifiers, masses, attributes ----------------------------------------------------------------------
class _Item:
    def __init__(self, ref, where):
        self.ref, self.where = ref, where
        self.mass = None
        self.mass_field = None
        self.extension = {}


def _items(event, ext, epc_key, quantity_key, ext_key):
    """Merge an EPC list, a quantity list and our rei:inputs/rei:outputs into items, in first-seen order."""
    items, by_key = [], {}

    def item_for(ref, where):
        key = _key(ref)
        found = by_key.get(key) if key else None
        if found is None:
            found = _Item(ref, where)
            items.append(found)
            if key:
                by_key[key] = found
        return found

    for i, value in enumerate(_list(event, epc_key)):
        item_for(_identifier(value, f"{epc_key}[{i}]"), f"{epc_key}[{i}]")
    for i, entry in enumerate(_list(event, quantity_key)):
        where = f"{quantity_key}[{i}]"
        if not isinstance(entry, dict):
            raise _Refused("bad_field", f"{where} must be an object with epcClass, quantity and uom.", where)
        item = item_for(_identifier(entry.get("epcClass"), f"{where}.epcClass"), where)
        if item.mass is not None:
            raise _Refused("bad_field", f"{where} lists a batch already given a quantity.", where)
        item.mass, item.mass_field = _quantity(entry, where), where
    if ext_key:
        name = ext.name(ext_key)
        raw = ext.get(event, ext_key)
        entries = [] if raw is None else raw
        if not isinstance(entries, list):
            raise _Refused("bad_field", f"{name} must be a list of objects.", name)
        inner = _Ext(ext.prefixes, bare=True)
        for i, entry in enumerate(entries):
            where = f"{name}[{i}]"
            if not isinstance(entry, dict):
                raise _Refused("bad_field", f"{where} must be an object.", where)
            epc = inner.get(entry, "epc")
            if epc is None:
                item = _Item(None, where)
                items.append(item)
            else:
                item = item_for(_identifier(epc, f"{where}.{ext.name('epc')}"), where)
            if item.extension:
                raise _Refused("bad_field", f"{where} describes a batch described before.", where)
            item.extension = {term: inner.get(entry, term) for term in
                              ("massKg",) + tuple(term for term, _ in ITEM_ATTRIBUTES)}
            item.extension_where = where
    if len(items) > MAX_ITEMS:
        raise _Refused("bad_field", f"The event lists more than {MAX_ITEMS} batches.", epc_key)
    return items


def _list(event, key):
    value = event.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Refused("bad_field", f"{key} must be a list.", key)
    return value


def _canonical_item(item, ext, side, defaults=None, with_attributes=True):
    out = dict(_ref(item)) if item.ref else {}
    where = getattr(item, "extension_where", item.where)
    mass = _agreeing_mass(item, item.extension.get("massKg"), f"{where}.{ext.name('massKg')}")
    if mass is None:
        raise _Refused("bad_mass", f"{item.where}: give this batch's mass in a quantity list (uom KGM) or as "
                                   f"{ext.name('massKg')} in {ext.name(side)}.", item.where)
    out["mass_kg"] = mass
    if with_attributes:
        for term, name in ITEM_ATTRIBUTES:
            value = item.extension.get(term)
            value = (defaults or {}).get(term) if value is None else value
            if value is not None:
                out[name] = value
    return out


def _defaults(event, ext):
    ilmd = event.get("ilmd")
    ilmd = ilmd if isinstance(ilmd, dict) else {}
    found = {}
    for term, _ in ITEM_ATTRIBUTES:
        value = ext.get(event, term)
        found[term] = ext.get(ilmd, term) if value is None else value
    return found


def _agreeing_mass(item, extension_mass, where):
    mass = item.mass
    if extension_mass is not None:
        stated = _number(extension_mass, where)
        if mass is not None and abs(stated - mass) > 1e-6 * max(1.0, abs(mass)):
            raise _Refused("bad_mass", f"{where} says {stated:g} kg but {item.mass_field} says {mass:g} kg.", where)
        mass = stated if mass is None else mass
    return mass


def _quantity(entry, where):
    uom = entry.get("uom")
    if uom is None:
        raise _Refused("bad_mass", f"{where} has no uom: a quantity without a unit counts items, not mass; "
                                   "use uom KGM (kilograms), TNE (tonnes) or GRM (grams).", f"{where}.uom")
    factor = KG_PER_UNIT.get(uom) if isinstance(uom, str) else None
    if factor is None:
        raise _Refused("bad_mass", f"{where}.uom {str(uom)[:10]!r} is not a mass unit we take: use KGM, TNE or GRM.",
                       f"{where}.uom")
    value = _number(entry.get("quantity"), f"{where}.quantity")
    try:
        kg = float(Decimal(repr(value)) * factor)
    except (InvalidOperation, OverflowError):
        kg = math.inf
    if not math.isfinite(kg):
        raise _Refused("bad_mass", f"{where}.quantity is out of range.", f"{where}.quantity")
    return kg


def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Refused("bad_mass", f"{where} must be a number.", where)
    try:
        value = float(value)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise _Refused("bad_mass", f"{where} must be a finite number.", where)
    return value


def _ref(item):
    return dict(item.ref) if item.ref else {}


def _key(ref):
    if ref is None:
        return None
    if "code" in ref:
        return ("code", ref["code"])
    gs1 = ref["gs1"]
    return ("gs1", gs1["gtin"], gs1.get("lot"), gs1.get("serial"))


def _identifier(value, where):
    """A batch identifier as {"code": native} or {"gs1": {gtin, lot | serial}}."""
    if not isinstance(value, str) or not value.strip():
        raise _Refused("malformed_code", f"{where} must be a batch identifier (a GS1 Digital Link or "
                                         f"{BATCH_URN}<code>).", where)
    text = value.strip()
    if text.lower().startswith(BATCH_URN):
        raw = unquote(text[len(BATCH_URN):])
        try:
            return {"code": batch_code.normalise(raw)}
        except batch_code.BatchCodeError as exc:
            raise _Refused("malformed_code", f"{where} {raw[:40]!r}: {exc}", where) from None
    if _EPC_URN.match(text):
        text = _epc_urn_as_link(text, where)
    elif text.lower().startswith("urn:"):
        raise _Refused("malformed_code", f"{where} {text[:80]!r} is a URN we cannot read; use a GS1 Digital Link, an "
                                         f"LGTIN/SGTIN EPC URN or {BATCH_URN}<code>.", where)
    intake = read_code(text)
    if intake.kind == "native":
        return {"code": intake.batch_code}
    if intake.kind != "gs1":
        raise _Refused("malformed_code", f"{where} {text[:80]!r}: {intake.error}", where)
    if intake.lot is not None:
        try:
            return {"code": batch_code.normalise(intake.lot)} if batch_code.looks_native(intake.lot) else \
                {"gs1": {"gtin": intake.gtin, "lot": intake.lot}}
        except batch_code.BatchCodeError:
            return {"gs1": {"gtin": intake.gtin, "lot": intake.lot}}
    return {"gs1": {"gtin": intake.gtin, "serial": intake.serial}}


def _epc_urn_as_link(text, where):
    match = _EPC_URN.match(text)
    scheme, company, item, rest = match.groups()
    if len(company) + len(item) != 13:
        raise _Refused("malformed_code", f"{where}: an EPC URN's company prefix and item reference have 13 digits "
                                         "together.", where)
    body = item[0] + company + item[1:]
    ai = "21" if scheme.lower() == "id:sgtin" else "10"
    return f"https://id.gs1.org/01/{body}{_gs1_check_digit(body)}/{ai}/{quote(unquote(rest), safe='')}"


def _gs1_check_digit(digits):
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


# -- parties, documents, times, ids ----------------------------------------------------------------------------------
def _party(value, where):
    if not isinstance(value, str) or not value.strip():
        raise _Refused("bad_field", f"{where} must name an enterprise ({ENTERPRISE_URN}<id> or the id).", where)
    text = value.strip()
    if text.lower().startswith(ENTERPRISE_URN):
        return unquote(text[len(ENTERPRISE_URN):])
    if ":" in text or "/" in text:
        raise _Refused("unknown_enterprise", f"{where} {text[:80]!r} is not an enterprise identifier we know: use "
                                             f"{ENTERPRISE_URN}<id> or the bare id, such as ENT-NSM.", where)
    return text


def _party_of(event, list_key, value_key):
    """The owning (else possessing) party of a sourceList or destinationList."""
    found = {}
    for i, entry in enumerate(_list(event, list_key)):
        where = f"{list_key}[{i}]"
        if not isinstance(entry, dict):
            raise _Refused("bad_field", f"{where} must be an object with type and {value_key}.", where)
        kind = _vocab(entry.get("type"), "sdt")
        if kind in ("owning_party", "possessing_party"):
            party = _party(entry.get(value_key), f"{where}.{value_key}")
            if found.setdefault(kind, party) != party:
                raise _Refused("bad_field", f"{list_key} names two different {kind} entries.", where)
    return found.get("owning_party", found.get("possessing_party"))


def _reporter(out, party, where):
    if party is None:
        return
    if out.setdefault("enterprise_id", party) != party:
        raise _Refused("bad_field", f"{where} names {party!r} but rei:enterprise names {out['enterprise_id']!r}.",
                       where)


def _transactions(event):
    for i, entry in enumerate(_list(event, "bizTransactionList")):
        where = f"bizTransactionList[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("bizTransaction"), str):
            raise _Refused("bad_field", f"{where} must be an object with a bizTransaction text.", where)
        yield _vocab(entry.get("type"), "btt"), _doc_value(entry["bizTransaction"])


def _doc_value(value):
    text = value.strip()
    return unquote(text[len(DOC_URN):]) if text.lower().startswith(DOC_URN) else text


def _doc_no(event, kind_name):
    found = {}
    for kind, value in _transactions(event):
        if _squeezed(kind) not in EXPORT_DOC_TYPES:
            found.setdefault(kind, value)
    for kind in DOC_TYPES + (None,):
        if kind in found:
            return found[kind]
    if not found:
        raise _Refused("bad_field", f"A {kind_name} needs its waybill or despatch advice number: a bizTransactionList "
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
        raise _Refused("bad_field", f"{ext.name('exportLicence')} and the customs declaration bizTransaction differ.",
                       ext.name("exportLicence"))
    return declared if licence is None else licence


def _squeezed(word):
    return (word or "").replace("_", "").replace("-", "").lower()


def _event_time(event):
    raw = event.get("eventTime")
    if not isinstance(raw, str) or not raw.strip():
        raise _Refused("bad_field", "eventTime is required (an ISO 8601 date-time with offset).", "eventTime")
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _Refused("bad_field", f"eventTime {text[:40]!r} is not an ISO 8601 date-time such as "
                                    "2026-10-05T14:30:00+08:00.", "eventTime") from None
    offset = event.get("eventTimeZoneOffset")
    if moment.tzinfo is None and isinstance(offset, str) and _OFFSET.match(offset):
        text += offset
    return text


def _event_id(raw):
    if not isinstance(raw, str) or not raw.strip():
        raise _Refused("bad_field", "eventID is required: the service recognises a resent event by it.", "eventID")
    text = raw.strip()
    if text.lower().startswith(EVENT_URN):
        return unquote(text[len(EVENT_URN):])
    return text


def _vocab(value, kind):
    """A CBV word from its bare, https://ref.gs1.org/cbv/ or urn:epcglobal:cbv: form (None when absent)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    for prefix in _VOCAB_PREFIXES[kind]:
        if text.lower().startswith(prefix.lower()):
            return text[len(prefix):].lower()
    if text.startswith(NS):
        return text[len(NS):]
    if text.lower().startswith(PREFIX + ":"):
        return text[len(PREFIX) + 1:]
    return text.lower() if ":" not in text else text


def _word(value):
    return value.strip().lower() if isinstance(value, str) else None


def _copy(out, name, value):
    if value is not None:
        out[name] = value


# -- JSON-LD prefixes ------------------------------------------------------------------------------------------------
def _prefixes(context, inherited):
    prefixes = dict(inherited)
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            for key, value in entry.items():
                iri = value.get("@id") if isinstance(value, dict) else value
                if isinstance(key, str) and isinstance(iri, str):
                    prefixes[key] = iri
    return prefixes


class _Ext:
    """Reads our extension terms under whichever prefix the document binds to our namespace, or the full IRI."""

    def __init__(self, prefixes, bare=False):
        self.prefixes = set(prefixes)
        self.bare = bare

    def keys(self, term):
        yield NS + term
        for prefix in sorted(self.prefixes):
            yield f"{prefix}:{term}"
        if self.bare:
            yield term

    def get(self, obj, term):
        if not isinstance(obj, dict):
            return None
        for key in self.keys(term):
            if key in obj:
                return obj[key]
        return None

    @staticmethod
    def name(term):
        return f"{PREFIX}:{term}"


# -- export ----------------------------------------------------------------------------------------------------------
def to_epcis(history, code, created_at=None):
    """An EPCIS 2.0 document of a batch's stored events (oldest first), with the same ids and masses in KGM."""
    created_at = created_at or datetime.now(timezone.utc)
    return {
        "@context": list(CONTEXT),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _utc(created_at),
        "epcisBody": {"eventList": [epcis_event(doc) for doc in history]},
    }


def epcis_event(doc):
    """One stored event (its canonical payload) as an EPCIS 2.0 event."""
    payload = doc["payload"]
    kind = payload["type"]
    event = {
        "type": "TransformationEvent" if kind in ("production", "split", "merge") else "ObjectEvent",
        "eventID": export_event_id(payload["event_id"]),
        "eventTime": _china(payload.get("occurred_at") or doc["occurred_at"]),
        "eventTimeZoneOffset": "+08:00",
    }
    if doc.get("recorded_at") is not None:
        event["recordTime"] = _utc(doc["recorded_at"])
    _EXPORTERS[kind](payload, event)
    event[_t("enterprise")] = enterprise_uri(payload["enterprise_id"])
    flags = [f.get("code") if isinstance(f, dict) else str(f) for f in doc.get("flags") or []]
    if flags:
        event[_t("flags")] = flags
    return event


def _export_production(payload, event):
    event["bizStep"] = "commissioning"
    if payload.get("inputs"):
        event["inputQuantityList"] = [_quantity_entry(i) for i in payload["inputs"]]
    else:
        # EPCIS 2.0 wants a transformationID on a transformation with outputs only (a mine's).
        event["transformationID"] = TRANSFORMATION_URN + quote(payload["event_id"], safe="-._~")
    event["outputQuantityList"] = [_quantity_entry(o) for o in payload["outputs"]]
    event[_t("outputs")] = [_output_entry(o) for o in payload["outputs"]]


def _export_split(payload, event):
    event[_t("operation")] = "split"
    event["inputEPCList"] = [batch_uri(payload["code"])]
    event["outputQuantityList"] = [_quantity_entry(o) for o in payload["outputs"]]


def _export_merge(payload, event):
    event[_t("operation")] = "merge"
    event["inputQuantityList"] = [_quantity_entry(i) for i in payload["inputs"]]
    event["outputQuantityList"] = [_quantity_entry(o) for o in payload["outputs"]]


def _export_shipment(payload, event):
    event.update(action="OBSERVE", bizStep="shipping", disposition="in_transit")
    _one_batch(payload, event)
    event["sourceList"] = [{"type": "owning_party", "source": enterprise_uri(payload["enterprise_id"])}]
    event["destinationList"] = [{"type": "owning_party", "destination": enterprise_uri(payload["to_id"])}]
    event["bizTransactionList"] = [{"type": "desadv", "bizTransaction": doc_uri(payload["doc_no"])}]


def _export_receipt(payload, event):
    event.update(action="OBSERVE", bizStep="receiving", disposition="in_progress")
    _one_batch(payload, event)
    event["sourceList"] = [{"type": "owning_party", "source": enterprise_uri(payload["from_id"])}]
    event["destinationList"] = [{"type": "owning_party", "destination": enterprise_uri(payload["enterprise_id"])}]
    event["bizTransactionList"] = [{"type": "desadv", "bizTransaction": doc_uri(payload["doc_no"])}]


def _export_export(payload, event):
    event.update(action="OBSERVE", bizStep="departing", disposition="in_transit")
    _one_batch(payload, event)
    event["sourceList"] = [{"type": "owning_party", "source": enterprise_uri(payload["enterprise_id"])}]
    event[_t("exportLicence")] = payload["licence_no"]
    event[_t("port")] = payload["port"]
    if payload.get("destination_country") is not None:
        event[_t("destinationCountry")] = payload["destination_country"]


def _export_import(payload, event):
    event.update(action="ADD", bizStep="commissioning", disposition="active")
    event["epcList"] = []
    event["quantityList"] = [_quantity_entry(o) for o in payload["outputs"]]
    event[_t("outputs")] = [_output_entry(o) for o in payload["outputs"]]
    event[_t("import")] = {_t("declarationNo"): payload["declaration_no"], _t("port"): payload["port"],
                           _t("originCountry"): payload["origin_country"]}


def _export_consumption(payload, event):
    retired = payload.get("status") == "retired"
    event.update(action="DELETE" if retired else "OBSERVE", bizStep="decommissioning" if retired else "consuming",
                 disposition="inactive" if retired else "in_progress")
    _one_batch(payload, event)


_EXPORTERS = {"production": _export_production, "split": _export_split, "merge": _export_merge,
              "shipment": _export_shipment, "receipt": _export_receipt, "export": _export_export,
              "import": _export_import, "consumption": _export_consumption}


def _one_batch(payload, event):
    if payload.get("mass_kg") is not None:
        event["epcList"] = []
        event["quantityList"] = [_quantity_entry(payload)]
    else:
        event["epcList"] = [batch_uri(payload["code"])]


def _quantity_entry(item):
    return {"epcClass": batch_uri(item["code"]), "quantity": item["mass_kg"], "uom": "KGM"}


def _output_entry(item):
    out = {_t("epc"): batch_uri(item["code"])}
    for term, name in ITEM_ATTRIBUTES:
        if item.get(name) is not None:
            out[_t(term)] = item[name]
    return out


def _t(term):
    return f"{PREFIX}:{term}"


def batch_uri(code):
    """Our URN for a native batch code."""
    return BATCH_URN + code


def enterprise_uri(enterprise_id):
    """Our URN for an enterprise."""
    return ENTERPRISE_URN + quote(str(enterprise_id), safe="-._~")


def doc_uri(doc_no):
    """A document number as a URI (bizTransaction values are URIs)."""
    return DOC_URN + quote(str(doc_no), safe="-._~")


def export_event_id(event_id):
    """An event id as an EPCIS eventID: kept when it is a URI already, else wrapped in our URN (read back as is)."""
    if _URI.match(event_id) and not event_id.lower().startswith(EVENT_URN):
        return event_id
    return EVENT_URN + quote(event_id, safe="-._~")


def _china(value):
    # A payload's text is China time when it has no offset; a stored datetime without one is UTC (as BSON keeps it).
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
    else:
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA).isoformat(timespec="milliseconds")


def _utc(value):
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
