"""Parties and places of an EPCIS event: GLNs (PGLN, SGLN, Digital Link 414/417) and the identifiers an event names.

The registry records each enterprise's GLNs in `glns` (the first is the party's own; the others its sites). An
SGLN `urn:epc:id:sgln:6952101.00001.0`, a PGLN `urn:epc:id:pgln:6952101.00001`, a Digital Link
`https://id.gs1.org/414/<GLN>[/254/<ext>]` or `/417/<PGLN>`, or our URN `urn:rare-earth-inspector:enterprise:<id>`
name the enterprise. Pure: the lookups take a mapping of GLN to enterprise id (repository.py reads it).
"""
import re
from urllib.parse import unquote

from biip.checksums import gs1_standard_check_digit

from inspector.ledger.epcis.identifiers import ENTERPRISE_URN

_SGLN = re.compile(r"^urn:epc:id:(?:sgln|pgln):(\d+)\.(\d*)(?:\.(.*))?$", re.IGNORECASE)
_LINK = re.compile(r"^https?://[^/]+(?:/.*)?/(?:414|417)/(\d{13})(?:/254/[^/?#]+)?/?(?:[?#].*)?$")
EPC_KEYS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
CLASS_KEYS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def gln_of(value):
    """The 13-digit GLN an SGLN, PGLN or GLN Digital Link names, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _SGLN.match(text)
    if match:
        body = match.group(1) + match.group(2)
        if len(body) != 12 or not body.isdigit():
            return None
        return body + str(gs1_standard_check_digit(body))
    match = _LINK.match(text)
    if match and str(gs1_standard_check_digit(match.group(1)[:12])) == match.group(1)[12]:
        return match.group(1)
    return None


def enterprise_of(value, by_gln):
    """The enterprise id a party or location identifier names (our URN or a recorded GLN), or None."""
    if isinstance(value, str) and value.strip().lower().startswith(ENTERPRISE_URN):
        return unquote(value.strip()[len(ENTERPRISE_URN):])
    gln = gln_of(value)
    return by_gln.get(gln) if gln else None


def _id_of(value):
    return value.get("id") if isinstance(value, dict) else value


def places(event):
    """[(EPCIS field, identifier)] of the parties and places an event names."""
    out = []
    for key in ("readPoint", "bizLocation"):
        ident = _id_of(event.get(key))
        if isinstance(ident, str):
            out.append((key, ident))
    for key, inner in (("sourceList", "source"), ("destinationList", "destination")):
        for i, entry in enumerate(event.get(key) or [] if isinstance(event.get(key), list) else []):
            if isinstance(entry, dict) and isinstance(entry.get(inner), str):
                out.append((f"{key}[{i}].{inner}", entry[inner]))
    return out


def gln_candidates(event):
    """Every GLN the event's parties and places name (to look up in the registry in one query)."""
    return {g for _, ident in places(event) if (g := gln_of(ident))}


def epcs(event, keys=None):
    """Every instance EPC the event names (epcList, childEPCs, parentID, inputs and outputs), or those of keys."""
    out = []
    parent = event.get("parentID")
    if isinstance(parent, str) and keys is None:
        out.append(parent)
    for key in keys or EPC_KEYS:
        value = event.get(key)
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, str))
    return list(dict.fromkeys(out))


def epc_classes(event):
    """Every EPC class the event's quantity lists name."""
    out = []
    for key in CLASS_KEYS:
        value = event.get(key)
        if isinstance(value, list):
            out.extend(e["epcClass"] for e in value if isinstance(e, dict) and isinstance(e.get("epcClass"), str))
    return list(dict.fromkeys(out))


def rewritten_parties(event, by_gln):
    """A copy of the event whose GLN-named parties read as our enterprise URNs, for the ledger translator."""
    out = dict(event)
    for key, inner in (("sourceList", "source"), ("destinationList", "destination")):
        entries = event.get(key)
        if not isinstance(entries, list):
            continue
        fixed = []
        for entry in entries:
            if isinstance(entry, dict) and (eid := enterprise_of(entry.get(inner), by_gln)):
                entry = {**entry, inner: ENTERPRISE_URN + eid}
            fixed.append(entry)
        out[key] = fixed
    return out
