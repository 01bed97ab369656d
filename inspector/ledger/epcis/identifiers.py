"""EPCIS identifiers: batch, party, document and event identifiers read and written, and our JSON-LD terms.

Identifiers: `urn:rare-earth-inspector:batch:<native code>`, a bare native code, a GS1 Digital Link on any domain
(`https://id.gs1.org/01/<gtin>/10/<lot>` or `/21/<serial>`), or an EPC URN (`urn:epc:class:lgtin:...`,
`urn:epc:id:sgtin:...`). A GS1 identifier is passed on as `gs1: {gtin, lot | serial}` for the core to resolve
against the GTIN registered for the batch; a new output whose lot is a native code also takes that code. Parties: `urn:rare-earth-inspector:enterprise:<id>`
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
import re
from urllib.parse import quote, unquote

from biip.checksums import gs1_standard_check_digit

from inspector.codes import batch_code
from inspector.codes.labels import read_code

NS = "https://rare-earth-inspector.example/epcis/"
PREFIX = "rei"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CONTEXT = [EPCIS_CONTEXT, {PREFIX: NS}]
BATCH_URN = "urn:rare-earth-inspector:batch:"
ENTERPRISE_URN = "urn:rare-earth-inspector:enterprise:"
EVENT_URN = "urn:rare-earth-inspector:event:"
DOC_URN = "urn:rare-earth-inspector:doc:"
TRANSFORMATION_URN = "urn:rare-earth-inspector:transformation:"
ITEM_ATTRIBUTES = (("stage", "stage"), ("productType", "product_type"), ("reoPct", "reo_pct"),
                   ("quotaCategory", "quota_category"))
_VOCAB_PREFIXES = {
    "bizstep": ("https://ref.gs1.org/cbv/BizStep-", "http://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disp": ("https://ref.gs1.org/cbv/Disp-", "http://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
    "btt": ("https://ref.gs1.org/cbv/BTT-", "http://ref.gs1.org/cbv/BTT-", "urn:epcglobal:cbv:btt:"),
    "sdt": ("https://ref.gs1.org/cbv/SDT-", "http://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:"),
}
# An absolute URI of RFC 3986's unreserved, sub-delim and gen-delim characters (no IP literals) or %-escapes; any
# other id is exported wrapped in our URN, so the document always validates against EPCIS's `format: uri`.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#]|%[0-9A-Fa-f]{2})+$")
_EPC_URN = re.compile(r"^urn:epc:(id:sgtin|class:lgtin):(\d+)\.(\d+)\.(.+)$", re.IGNORECASE)


# -- JSON-LD: our namespace and the prefixes a document binds ----------------------------------------------------------
def context_prefixes(context, inherited):
    """The prefixes in force: the inherited ones, and those the JSON-LD @context binds."""
    prefixes = dict(inherited)
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            for key, value in entry.items():
                iri = value.get("@id") if isinstance(value, dict) else value
                if isinstance(key, str) and isinstance(iri, str):
                    prefixes[key] = iri
    return prefixes


class Ext:
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


def curie(term):
    """Our extension term under our own prefix (rei:term), as exports write it."""
    return f"{PREFIX}:{term}"


# -- reading identifiers -----------------------------------------------------------------------------------------------
class Refused(Exception):
    """Why one EPCIS event cannot be read; read_event() turns it into that line's LineError."""

    def __init__(self, code, message, field=None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def read_identifier(value, where):
    """A batch identifier as {"code": native} or {"gs1": {gtin, lot | serial}}."""
    if not isinstance(value, str) or not value.strip():
        raise Refused("malformed_code", f"{where} must be a batch identifier (a GS1 Digital Link or "
                                         f"{BATCH_URN}<code>).", where)
    text = value.strip()
    if text.lower().startswith(BATCH_URN):
        raw = unquote(text[len(BATCH_URN):])
        try:
            return {"code": batch_code.normalise(raw)}
        except batch_code.BatchCodeError as exc:
            raise Refused("malformed_code", f"{where} {raw[:40]!r}: {exc}", where) from None
    if _EPC_URN.match(text):
        text = _epc_urn_as_link(text, where)
    elif text.lower().startswith("urn:"):
        raise Refused("malformed_code", f"{where} {text[:80]!r} is a URN we cannot read; use a GS1 Digital Link, an "
                                         f"LGTIN/SGTIN EPC URN or {BATCH_URN}<code>.", where)
    label = read_code(text)
    if label.kind == "native":
        return {"code": label.batch_code}
    if label.kind != "gs1":
        raise Refused("malformed_code", f"{where} {text[:80]!r}: {label.error}", where)
    # The lot names a batch only together with the GTIN registered for it, even when it reads as one of our codes:
    # a foreign GTIN with our lot is another product's label.
    if label.lot is not None:
        return {"gs1": {"gtin": label.gtin, "lot": label.lot}}
    return {"gs1": {"gtin": label.gtin, "serial": label.serial}}


def new_batch_ref(ref):
    """A new output's reference: a GS1 label whose lot is one of our codes gives the batch that code as well."""
    lot = (ref.get("gs1") or {}).get("lot")
    if lot is not None and batch_code.looks_native(lot):
        try:
            return {"code": batch_code.normalise(lot), **ref}
        except batch_code.BatchCodeError:
            pass
    return ref


def _epc_urn_as_link(text, where):
    match = _EPC_URN.match(text)
    scheme, company, item, rest = match.groups()
    if len(company) + len(item) != 13:
        raise Refused("malformed_code", f"{where}: an EPC URN's company prefix and item reference have 13 digits "
                                         "together.", where)
    body = item[0] + company + item[1:]
    ai = "21" if scheme.lower() == "id:sgtin" else "10"
    return f"https://id.gs1.org/01/{body}{gs1_standard_check_digit(body)}/{ai}/{quote(unquote(rest), safe='')}"




def read_party(value, where):
    """An enterprise id from our URN or the bare id."""
    if not isinstance(value, str) or not value.strip():
        raise Refused("bad_field", f"{where} must name an enterprise ({ENTERPRISE_URN}<id> or the id).", where)
    text = value.strip()
    if text.lower().startswith(ENTERPRISE_URN):
        return unquote(text[len(ENTERPRISE_URN):])
    if ":" in text or "/" in text:
        raise Refused("unknown_enterprise", f"{where} {text[:80]!r} is not an enterprise identifier we know: use "
                                             f"{ENTERPRISE_URN}<id> or the bare id, such as ENT-NSM.", where)
    return text


def doc_value(value):
    """A document number from a bizTransaction value (our doc URN or the text as sent)."""
    text = value.strip()
    return unquote(text[len(DOC_URN):]) if text.lower().startswith(DOC_URN) else text


def read_event_id(raw):
    """An event id from eventID: ours unwrapped from its URN, any other URI as it is."""
    if not isinstance(raw, str) or not raw.strip():
        raise Refused("bad_field", "eventID is required: the service recognises a resent event by it.", "eventID")
    text = raw.strip()
    if text.lower().startswith(EVENT_URN):
        return unquote(text[len(EVENT_URN):])
    return text


def vocab(value, kind):
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


# -- writing our URIs --------------------------------------------------------------------------------------------------
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
