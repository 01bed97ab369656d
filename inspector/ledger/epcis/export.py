"""EPCIS export: a batch's stored ledger events as an EPCIS 2.0 document (pure: no database).

`to_epcis(history, code, created_at)` keeps each event's id and writes masses in KGM, so that capturing the
document again (capture.py) gives the same canonical events: a resent export is read as duplicates.
"""
from datetime import datetime, timezone
from urllib.parse import quote

from inspector.ledger.epcis.identifiers import (CONTEXT, ITEM_ATTRIBUTES, TRANSFORMATION_URN, batch_uri, curie, doc_uri,
                                                enterprise_uri, export_event_id)
from inspector.clock import CST, aware, as_utc

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
    event["inputEPCList"] = [batch_uri(payload["code"])]
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
    out = {curie("epc"): batch_uri(item["code"])}
    for term, name in ITEM_ATTRIBUTES:
        if item.get(name) is not None:
            out[curie(term)] = item[name]
    return out


def _china(value):
    # A payload's text is China time when it has no offset; a stored datetime without one is UTC (as BSON keeps it).
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=CST)
    else:
        moment = aware(value)
    return moment.astimezone(CST).isoformat(timespec="milliseconds")


def _utc(value):
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
