"""Reasons in EPCIS field names: the ledger's internal field names (occurred_at, to_id, ...) as a partner sent them.

A refused event's reasons are {"code", "field", "message"}; `field` and the names inside `message` are the EPCIS
document's (eventTime, destinationList, quantityList...), never the ledger's canonical names.
"""
import re

# The ledger's canonical field -> the EPCIS field it was read from (capture.py's mapping).
FIELDS = {
    "occurred_at": "eventTime", "event_id": "eventID", "enterprise_id": "sourceList", "to_id": "destinationList",
    "from_id": "sourceList", "mass_kg": "quantityList", "code": "epcList", "gs1": "epcList",
    "doc_no": "bizTransactionList", "licence_no": "bizTransactionList", "port": "rei:port",
    "destination_country": "rei:destinationCountry", "origin_country": "rei:originCountry",
    "declaration_no": "rei:declarationNo", "inputs": "inputQuantityList", "outputs": "outputQuantityList",
    "stage": "rei:stage", "product_type": "rei:productType", "reo_pct": "rei:reoPct",
    "quota_category": "rei:quotaCategory", "status": "bizStep", "type": "bizStep",
}
_WORD = re.compile(r"\b(" + "|".join(sorted((k for k in FIELDS if "_" in k), key=len, reverse=True)) + r")\b")
_ITEM = re.compile(r"^(inputs|outputs)\[(\d+)\](?:\.(\w+))?$")


def epcis_field(field):
    """An internal field path as the EPCIS field it came from."""
    if not field:
        return "eventID"
    match = _ITEM.match(field)
    if match:
        side, index, inner = match.groups()
        base = f"{FIELDS[side]}[{index}]"
        return f"{base}.{'quantity' if inner == 'mass_kg' else FIELDS.get(inner, inner)}" if inner else base
    head, dot, rest = field.partition(".")
    return FIELDS.get(head, head) + (dot + rest if rest else "")


def epcis_message(message):
    """The message with internal field names replaced by the EPCIS ones."""
    return _WORD.sub(lambda m: FIELDS[m.group(1)], message or "")


def ledger_reason(error):
    """A ledger receipt's error (a dict) as a reason."""
    return {"code": error.get("code"), "field": epcis_field(error.get("field")),
            "message": epcis_message(error.get("message"))}


def pointer(index, field):
    """A JSON pointer (RFC 6901) into the captured document for an event's field: /epcisBody/eventList/3/sourceList/0."""
    parts = ["epcisBody", "eventList", str(index)]
    for name in re.split(r"\.|\[(\d+)\]", field or ""):
        if name:
            parts.append(name.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def translator_reasons(error):
    """A capture translator's LineError (already in EPCIS names) and its other problems (`also`) as reasons."""
    return [{"code": e.code, "field": e.field or "eventID", "message": e.message}
            for e in [error, *getattr(error, "also", ())]]
