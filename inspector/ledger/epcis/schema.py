"""Validation against GS1's official EPCIS 2.0 JSON schema (standard/EPCIS-JSON-Schema.json), with jsonschema_rs.

`problems(doc)` lists every violation as {"field", "message", "code", "pointer", "params"}, the field an EPCIS path such as
`epcisBody.eventList[2].bizStep`; `event_index(field)` says which event of the event list a problem is in.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

import jsonschema_rs

SCHEMA_PATH = Path(__file__).parent / "standard" / "EPCIS-JSON-Schema.json"
MAX_PROBLEMS = 200
_EVENT = re.compile(r"^epcisBody(?:\.queryResults\.resultsBody)?\.eventList\[(\d+)\]")


@lru_cache(maxsize=1)
def _validator():
    return jsonschema_rs.validator_for(json.loads(SCHEMA_PATH.read_text()))


def path_of(parts):
    """An instance path as EPCIS writes field names: a.b[0].c."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def problems(doc):
    """Every way the document breaks the official schema (at most MAX_PROBLEMS), deepest first per place."""
    found, seen = [], set()
    for error in _validator().iter_errors(doc):
        field = path_of(list(error.instance_path)) or "(document)"
        message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
        if (field, message) in seen:
            continue
        seen.add((field, message))
        keyword = type(error.kind).__name__  # Required, Enum, Pattern...: what a translation of the message needs
        parts = [str(p).replace("~", "~0").replace("/", "~1") for p in error.instance_path]
        found.append({"field": field, "message": message, "code": f"schema_{keyword.lower()}",
                      "pointer": "/" + "/".join(parts), "params": {"keyword": keyword, "eventIndex": event_index(field)}})
        if len(found) >= MAX_PROBLEMS:
            break
    return found


def is_valid(doc):
    """True when the document validates against the official schema."""
    return _validator().is_valid(doc)


def event_index(field):
    """The 0-based index in the event list a problem's field is in, or None for the document itself."""
    match = _EVENT.match(field)
    return int(match.group(1)) if match else None
