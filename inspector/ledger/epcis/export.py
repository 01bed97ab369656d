"""EPCIS export: a batch's stored ledger events as an EPCIS 2.0 document (pure: no database).

`to_epcis(history, code, created_at, captured, links)` gives back an event captured through the EPCIS repository
exactly as it was captured (`captured`: the repository's stored events by id: its disposition, time zone, parties,
readPoint, sensor data, business transactions and identifiers as sent). Any other ledger event (from the JSON, CSV
or XLSX channels) is written from its canonical payload: its own id, the time zone it was reported in (China time
when it named none), masses in KGM, a batch as its GS1 Digital Link when the batch has a GTIN (`links`, by code)
and as our URN otherwise, and only CBV 2.0 vocabulary, our own words as full IRIs in our namespace (a consumption
is the bizStep `https://rare-earth-inspector.example/epcis/consuming`, which CBV 2.0 does not define). Capturing
the document again (capture.py) gives the same canonical events: a resent export is read as duplicates.
"""
from contextvars import ContextVar
from datetime import datetime, timezone
from urllib.parse import quote

from inspector.ledger.epcis.identifiers import (CONTEXT, ITEM_ATTRIBUTES, NS, TRANSFORMATION_URN, batch_uri, curie,
                                                doc_uri, enterprise_uri, export_event_id)
from inspector.ledger.epcis.query import as_event, merged_context
from inspector.clock import CST, aware, as_utc

_links = ContextVar("epcis_export_links", default={})  # the batch identifiers of the export being written


def to_epcis(history, code, created_at=None, captured=None, links=None):
    """An EPCIS 2.0 document of a batch's stored events (oldest first), with the same ids and masses in KGM."""
    created_at = created_at or datetime.now(timezone.utc)
    captured = captured or {}
    token = _links.set(dict(links or {}))
    try:
        events, raw = [], []
        for doc in history:
            stored = captured.get(doc["payload"].get("event_id"))
            if stored is not None:
                raw.append(stored)
                events.append((stored["_id"], as_event(stored)))
            else:
                events.append((None, epcis_event(doc)))
    finally:
        _links.reset(token)
    context, own = merged_context(raw, list(CONTEXT))
    return {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _utc(created_at),
        "epcisBody": {"eventList": [{"@context": own[i], **e} if i in own else e for i, e in events]},
    }


def epcis_event(doc):
    """One stored event (its canonical payload) as an EPCIS 2.0 event."""
    payload = doc["payload"]
    kind = payload["type"]
    event = {
        "type": "TransformationEvent" if kind in ("production", "split", "merge") else "ObjectEvent",
        "eventID": export_event_id(payload["event_id"]),
    }
    event["eventTime"], event["eventTimeZoneOffset"] = _local(payload.get("occurred_at") or doc["occurred_at"])
    if doc.get("recorded_at") is not None:
        event["recordTime"] = _utc(doc["recorded_at"])
    _EXPORTERS[kind](payload, event)
    event[curie("enterprise")] = enterprise_uri(payload["enterprise_id"])
    flags = [f.get("code") if isinstance(f, dict) else str(f) for f in doc.get("flags") or []]
    if flags:
        event[curie("flags")] = flags
    return event


def _export_production(payload, event):
    event["bizStep"] = "commissioning"
    if payload.get("inputs"):
        event["inputQuantityList"] = [_quantity_entry(i) for i in payload["inputs"]]
    else:
        # EPCIS 2.0 wants a transformationID on a transformation with outputs only (a mine's).
        event["transformationID"] = TRANSFORMATION_URN + quote(payload["event_id"], safe="-._~")
    event["outputQuantityList"] = [_quantity_entry(o) for o in payload["outputs"]]
    event[curie("outputs")] = [_output_entry(o) for o in payload["outputs"]]


def _export_split(payload, event):
    event[curie("operation")] = "split"
    event["inputEPCList"] = [_uri(payload["code"])]
    event["outputQuantityList"] = [_quantity_entry(o) for o in payload["outputs"]]


def _export_merge(payload, event):
    event[curie("operation")] = "merge"
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
    event[curie("exportLicence")] = payload["licence_no"]
    event[curie("port")] = payload["port"]
    if payload.get("destination_country") is not None:
        event[curie("destinationCountry")] = payload["destination_country"]


def _export_import(payload, event):
    event.update(action="ADD", bizStep="commissioning", disposition="active")
    event["epcList"] = []
    event["quantityList"] = [_quantity_entry(o) for o in payload["outputs"]]
    event[curie("outputs")] = [_output_entry(o) for o in payload["outputs"]]
    event[curie("import")] = {curie("declarationNo"): payload["declaration_no"], curie("port"): payload["port"],
                           curie("originCountry"): payload["origin_country"]}


def _export_consumption(payload, event):
    retired = payload.get("status") == "retired"
    event.update(action="DELETE" if retired else "OBSERVE", bizStep="decommissioning" if retired else NS + "consuming",
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
        event["epcList"] = [_uri(payload["code"])]


def _uri(code):
    """A batch as its GS1 Digital Link when it has a GTIN, else as our URN."""
    return _links.get().get(code) or batch_uri(code)


def _quantity_entry(item):
    return {"epcClass": _uri(item["code"]), "quantity": item["mass_kg"], "uom": "KGM"}


def _output_entry(item):
    out = {curie("epc"): _uri(item["code"])}
    for term, name in ITEM_ATTRIBUTES:
        if item.get(name) is not None:
            out[curie(term)] = item[name]
    return out


def _local(value):
    """eventTime and eventTimeZoneOffset in the offset the event was reported in (China time when it gave none).

    A payload's text is China time when it has no offset (a date alone is that China day's midnight); a stored
    datetime without one is UTC (as BSON keeps it) and is shown in China time.
    """
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=CST)
    else:
        moment = aware(value).astimezone(CST)
    text = moment.isoformat(timespec="milliseconds")
    offset = "+00:00" if text.endswith("+00:00") else text[-6:]
    return text, offset


def _utc(value):
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
