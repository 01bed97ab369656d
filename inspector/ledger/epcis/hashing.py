"""The GS1 EPCIS event hash (ni:///sha-256;...?ver=CBV2.0) for events captured without an eventID.

Computed by GS1's reference implementation, the `epcis-event-hash-generator` package (the algorithm of the CBV 2.0
"event hash ID", https://github.com/RalphTro/epcis-event-hash-generator). It expands the document as JSON-LD; we
give it only the two GS1 contexts it ships and the inline prefixes of the document, never a remote context (a
loader that refuses the network), so capture never waits on someone's server.

When the reference implementation cannot read an event (it trips on some valid JSON-LD, such as a context that
rebinds a term GS1 protects), the id is `ni:///sha-256;<sha-256 of the event's canonical JSON>?ver=REI1`: still a
content hash, marked as not the CBV one.
"""
import copy
import hashlib
import json
import logging
import threading

from epcis_event_hash_generator import hash_generator, json_to_py
from pyld import jsonld

KNOWN_CONTEXTS = {
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    "https://gs1.github.io/EPCIS/epcis-context.jsonld",
}
_local_loader = jsonld.get_document_loader()  # the package's loader: the GS1 contexts from its own files
_lock = threading.Lock()  # the reference implementation keeps its namespaces in a module global


def _not_reference_chatter(record):
    """The reference implementation logs every event it hashes on the root logger: keep that out of our logs."""
    return "epcis_event_hash_generator" not in (record.pathname or "")


logging.getLogger().addFilter(_not_reference_chatter)


def _offline_loader(url, options=None):
    if url in KNOWN_CONTEXTS:
        return _local_loader(url, options or {})
    raise jsonld.JsonLdError("Remote contexts are not fetched.", "jsonld.LoadDocumentError",
                             code="loading document failed")


jsonld.set_document_loader(_offline_loader)


def _context(context):
    """The document's context reduced to the GS1 context and inline prefixes (string IRIs) it does not protect."""
    entries = context if isinstance(context, list) else [context]
    out = [next(iter(sorted(KNOWN_CONTEXTS)))]
    prefixes = {}
    for entry in entries:
        if isinstance(entry, dict):
            for key, value in entry.items():
                iri = value.get("@id") if isinstance(value, dict) else value
                if isinstance(key, str) and isinstance(iri, str) and not key.startswith("@"):
                    prefixes[key] = iri
    if prefixes:
        out.append(prefixes)
    return out


def _reference(event, context):
    event = {k: v for k, v in event.items() if k != "@context"}
    doc = {"@context": _context(context), "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2000-01-01T00:00:00Z", "epcisBody": {"eventList": [event]}}
    with _lock:
        hashes = hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(doc))
    return hashes[0] if hashes else None


def event_hash(event, context=None):
    """The event's hash id; the document's @context binds the prefixes its extension fields use."""
    try:
        found = _reference(copy.deepcopy(event), context)
    except Exception:  # noqa: BLE001 - any failure of the reference implementation falls back to our content hash
        found = None
    if found:
        return found
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"ni:///sha-256;{hashlib.sha256(canonical.encode()).hexdigest()}?ver=REI1"
