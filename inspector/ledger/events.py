"""Canonical ledger events: the shape every submission channel produces, checked field by field (no database)."""
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from biip.checksums import gs1_standard_check_digit

from inspector.codes import batch_code
from inspector.clock import CST
from inspector.periods import period_of

TYPES = ("production", "shipment", "receipt", "export", "import", "consumption", "split", "merge")
STAGES = ("ore", "compound", "metal", "magnet")
QUOTA_CATEGORIES = ("mining_light", "mining_medium_heavy", "separation")
CONSUMPTION_STATUSES = ("consumed", "retired")
DOC_NO_NAMES = {"export": "licence_no", "import": "declaration_no"}
MAX_MASS_KG = 1e9
MAX_ITEMS = 500
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_TEXT_MAX = 100


@dataclass
class LineError(Exception):
    """A problem with one line (or event) of a submission; code is machine-readable."""

    code: str
    message: str
    field: str | None = None
    event_id: str | None = None
    line: int | None = None
    params: dict | None = None

    def as_dict(self):
        out = {"line": self.line, "event_id": self.event_id, "code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        # What an app needs to say the problem in the clerk's language: ledger.problem.<code> with these values.
        out["params"] = {"line": self.line, "field": self.field, **(self.params or {})}
        return out


class Unreadable(str):
    """A file cell its reader already refused (reads as ""): the field reader raises the reader's error instead."""

    def __new__(cls, error):
        cell = super().__new__(cls, "")
        cell.error = error
        return cell


class FileItem(dict):
    """An input or output read from a file, which knows its own line."""

    def __init__(self, values, line):
        super().__init__(values)
        self.line = line


@dataclass
class Item:
    """One input or output of an event."""

    code: str | None
    mass_kg: float | None
    stage: str | None = None
    product_type: str | None = None
    reo_pct: float | None = None
    quota_category: str | None = None
    line: int | None = None
    gs1: dict | None = None


@dataclass
class Event:
    """A normalised ledger event."""

    event_id: str
    type: str
    enterprise_id: str
    occurred_at: datetime
    line: int
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    code: str | None = None
    mass_kg: float | None = None
    to_id: str | None = None
    from_id: str | None = None
    doc_no: str | None = None
    port: str | None = None
    country: str | None = None
    status: str | None = None

    @property
    def period(self):
        return period_of(self.occurred_at)

    def payload(self, issued=None, resolve=None):
        """The event as stored and exported: plain JSON types, issued output codes filled in, GS1 names resolved."""
        issued = list(issued or [])
        resolve = resolve or (lambda code: code)
        out = {"event_id": self.event_id, "type": self.type, "enterprise_id": self.enterprise_id,
               "occurred_at": self.occurred_at.astimezone(CST).isoformat()}
        for name in ("code", "mass_kg", "to_id", "from_id", "doc_no", "port", "status"):
            value = resolve(self.code) if name == "code" and self.code else getattr(self, name)
            if value is not None:
                out[DOC_NO_NAMES.get(self.type, "doc_no") if name == "doc_no" else name] = value
        if self.country is not None:
            out["origin_country" if self.type == "import" else "destination_country"] = self.country
        if self.inputs:
            out["inputs"] = [{"code": resolve(i.code), "mass_kg": i.mass_kg} for i in self.inputs]
        if self.outputs:
            out["outputs"] = [_item_payload(o, o.code or (issued.pop(0) if issued else None)) for o in self.outputs]
        return out

    def fingerprint(self, issued=None, resolve=None):
        """A hash of what the event says, to tell a resent event from a different one under the same id."""
        return hashlib.sha256(json.dumps(self.payload(issued, resolve), sort_keys=True).encode()).hexdigest()

    def codes(self):
        """Every batch code the event names."""
        named = [self.code] + [i.code for i in self.inputs] + [o.code for o in self.outputs]
        return [c for c in dict.fromkeys(named) if c]


def _item_payload(item, code):
    out = {"code": code, "mass_kg": item.mass_kg}
    # A label whose lot is the batch's own code says no more than the code in the event (the batch keeps its GTIN),
    # so the event exported with our URN reads back as the same event.
    if item.gs1 and item.gs1.get("lot") != code:
        out["gs1"] = item.gs1
    for name in ("stage", "product_type", "reo_pct", "quota_category"):
        value = getattr(item, name)
        if value is not None:
            out[name] = value
    return out


# -- field readers: each raises LineError naming the field ---------------------------------------------------------
def _refused(raw):
    if isinstance(raw, Unreadable):
        raise raw.error
def text(raw, name, required=True, max_len=_TEXT_MAX):
    """A short single-line text field."""
    _refused(raw)
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if required:
            raise LineError("bad_field", f"{name} is required.", name)
        return None
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        raise LineError("bad_field", f"{name} must be text.", name)
    value = str(raw).strip()
    if len(value) > max_len:
        raise LineError("bad_field", f"{name} is longer than {max_len} characters.", name)
    # Control, format (zero-width, right-to-left override) and line-breaking characters hide what a text says.
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise LineError("bad_field", f"{name} contains control or invisible characters.", name)
    if value[0] in "=@+" or (value[0] == "-" and not _numeric(value)):
        raise LineError("formula_cell", f"{name} looks like a spreadsheet formula ({value[:20]!r}); enter the plain value.",
                        name)
    return value


def _numeric(value):
    try:
        float(value)
    except ValueError:
        return False
    return True


def mass(raw, name="mass_kg", required=True):
    """A mass in kg: a finite number above zero."""
    _refused(raw)
    if raw is None or raw == "":
        if required:
            raise LineError("bad_mass", f"{name} is required.", name)
        return None
    if isinstance(raw, bool):
        raise LineError("bad_mass", f"{name} must be a number of kilograms.", name)
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise LineError("bad_mass", f"{name} must be a number of kilograms, got {str(raw)[:30]!r}.", name) from None
    if not math.isfinite(value) or value <= 0:
        raise LineError("bad_mass", f"{name} must be more than zero, got {raw}.", name)
    if value > MAX_MASS_KG:
        raise LineError("bad_mass", f"{name} of {value:g} kg is beyond any real lot (at most {MAX_MASS_KG:g}).", name)
    # Judged as stored: a mass that rounds to 0 g would make a batch of nothing that takes no quota.
    stored = round(value, 3)
    if stored <= 0:
        raise LineError("bad_mass", f"{name} of {raw} kg is 0 kg as stored (masses are kept to the gram); give the "
                                    "mass in kilograms.", name)
    return stored


def new_batch_mass(ev, mass_kg, stage, minimum):
    """Refuse a new batch lighter than its stage's least mass, naming the output that is."""
    if mass_kg >= minimum:
        return
    index = next((i for i, o in enumerate(ev.outputs) if o.mass_kg == mass_kg), 0)
    name = f"outputs[{index}].mass_kg"
    raise LineError("below_minimum_mass", f"{name} of {mass_kg:g} kg is less than a new {stage} batch may weigh "
                                          f"({minimum:g} kg, the setting MIN_BATCH_MASS_KG).", name,
                    line=ev.outputs[index].line if ev.outputs else None)


def percent(raw, name="reo_pct"):
    """REO content in percent; metals are stated as oxide equivalent, so up to 120."""
    _refused(raw)
    if isinstance(raw, bool) or raw is None or raw == "":
        raise LineError("bad_field", f"{name} is required for a new batch.", name)
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise LineError("bad_field", f"{name} must be a number, got {str(raw)[:30]!r}.", name) from None
    if not math.isfinite(value) or not 0 < value <= 120:
        raise LineError("bad_field", f"{name} must be above 0 and at most 120, got {raw}.", name)
    return round(value, 3)


def choice(raw, name, allowed, required=True):
    """One of a fixed set of words."""
    value = text(raw, name, required)
    if value is None:
        return None
    value = value.lower()
    if value not in allowed:
        raise LineError("bad_field", f"{name} must be one of {', '.join(allowed)}; got {value!r}.", name)
    return value


def code(raw, name="code", required=True):
    """A native batch code, normalised; a failed check character reads as a typo."""
    value = text(raw, name, required, max_len=40)
    if value is None:
        return None
    try:
        return batch_code.normalise(value)
    except batch_code.BatchCodeError as exc:
        raise LineError("malformed_code", f"{name} {value!r}: {exc}", name) from None


GS1_PREFIX = "GS1|"
_GTIN = re.compile(r"^\d{14}$")
_GS1_PART = re.compile(r"^[!-~]{1,20}$")  # GS1 AI (10) and (21): up to 20 printable ASCII characters


def gs1_reference(raw, name):
    """A batch named by its GS1 GTIN and lot or serial, as {gtin, lot} or {gtin, serial}; None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise LineError("bad_field", f"{name} must be an object with gtin and lot or serial.", name)
    gtin = str(raw.get("gtin") or "")
    if len(gtin) == 13 and gtin.isdigit():
        gtin = "0" + gtin
    if not _GTIN.match(gtin):
        raise LineError("bad_field", f"{name}.gtin must be 14 digits.", name)
    if gs1_standard_check_digit(gtin[:13]) != int(gtin[13]):
        raise LineError("malformed_code", f"{name}.gtin {gtin}: the GTIN check digit fails.", name)
    keys = [k for k in ("lot", "serial") if raw.get(k) not in (None, "")]
    if len(keys) != 1 or not isinstance(raw[keys[0]], str) or not _GS1_PART.match(raw[keys[0]]):
        raise LineError("bad_field", f"{name} needs exactly one of lot or serial, up to 20 characters.", name)
    return {"gtin": gtin, keys[0]: raw[keys[0]]}


def gs1_key(gs1):
    """The stand-in code a GS1-named batch goes by until the ledger resolves it."""
    kind = "lot" if "lot" in gs1 else "serial"
    return f"{GS1_PREFIX}{gs1['gtin']}|{kind}|{gs1[kind]}"


def batch_reference(raw, name="code"):
    """The event's batch: a native code, or a GS1 reference standing in for one."""
    gs1 = gs1_reference(raw.get("gs1"), "gs1")
    value = code(raw.get(name), name, required=gs1 is None)
    _one_name(value, gs1, name)
    return value or gs1_key(gs1)


def _one_name(native, gs1, name):
    # An existing batch is named once: a GS1 label resolves only through the GTIN registered for the batch.
    if native is not None and gs1 is not None:
        raise LineError("bad_field", f"{name} names the batch by its code and by a GS1 label; give one of them.", name)


def moment(raw, name="occurred_at"):
    """An ISO date or date-time; China time when no offset is given."""
    _refused(raw)
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime(raw.year, raw.month, raw.day)
    elif isinstance(raw, str) and raw.strip():
        try:
            value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise LineError("bad_field", f"{name} must be an ISO date or date-time like 2026-10-05 or "
                                         f"2026-10-05T14:30:00+08:00, got {raw[:40]!r}.", name) from None
    else:
        raise LineError("bad_field", f"{name} is required (an ISO date or date-time).", name)
    if value.tzinfo is None:
        value = value.replace(tzinfo=CST)
    try:
        value = value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise LineError("bad_field", f"{name} is out of range.", name) from None
    if value < EARLIEST:
        raise LineError("bad_field", f"{name} is before 2000; check the year.", name)
    # BSON keeps milliseconds: judge and fingerprint what is stored.
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def event_id(raw):
    """The submitter's id for the event."""
    value = text(raw, "event_id", max_len=200)
    return value


# -- whole events ----------------------------------------------------------------------------------------------------
def _items(raw, name, line, new):
    """The inputs or outputs; every problem of every item is found, the first raised with the others in `also`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise LineError("bad_field", f"{name} must be a list.", name)
    if len(raw) > MAX_ITEMS:
        raise LineError("bad_field", f"{name} has more than {MAX_ITEMS} entries.", name)
    items, problems = [], _Problems()
    for i, entry in enumerate(raw):
        where = f"{name}[{i}]"
        if not isinstance(entry, dict):
            problems.found.append(LineError("bad_field", f"{where} must be an object.", where, line=line))
            continue
        item_line = entry.line if isinstance(entry, FileItem) else line
        before = len(problems.found)
        got = problems.read
        gs1 = got(gs1_reference, entry.get("gs1"), f"{where}.gs1")
        item = Item(code=got(code, entry.get("code"), f"{where}.code", required=not new and gs1 is None),
                    mass_kg=got(mass, entry.get("mass_kg"), f"{where}.mass_kg"), line=item_line)
        if gs1 is not None and new:
            item.gs1 = gs1
        elif gs1 is not None:
            got(_one_name, item.code, gs1, f"{where}.code")
            item.code = gs1_key(gs1)
        if new == "full":
            item.stage = got(choice, entry.get("stage"), f"{where}.stage", STAGES)
            item.product_type = got(text, entry.get("product_type"), f"{where}.product_type", max_len=60)
            if item.product_type is not None and not _SLUG.match(item.product_type):
                problems.found.append(LineError("bad_field", f"{where}.product_type must be a lower-case word like "
                                                             "prnd_oxide.", f"{where}.product_type"))
            item.reo_pct = got(percent, entry.get("reo_pct"), f"{where}.reo_pct")
            item.quota_category = got(choice, entry.get("quota_category"), f"{where}.quota_category",
                                      QUOTA_CATEGORIES, required=False)
        for exc in problems.found[before:]:
            exc.line = item_line
        items.append(item)
    if problems.found:
        first = problems.found[0]
        first.also = problems.found[1:]
        raise first
    return items


class _Problems:
    """Every problem of one event, read field by field: the first is raised with the others in `also`."""

    def __init__(self):
        self.found = []

    def read(self, reader, raw, *args, **kwargs):
        if isinstance(raw, Unreadable):
            self.found.append(raw.error)
            return None
        try:
            return reader(raw, *args, **kwargs)
        except LineError as exc:
            self.found.append(exc)
            self.found.extend(getattr(exc, "also", ()))
            exc.also = []
            return None

    def raise_any(self, eid, line):
        if not self.found:
            return
        for exc in self.found:
            exc.event_id = exc.event_id or eid
            exc.line = exc.line or line
        first = self.found[0]
        first.also = self.found[1:]
        raise first


def read_event(raw, line, default_enterprise=None):
    """Normalise one event dict; raise LineError for the first thing wrong with it, the others in its `also`."""
    if not isinstance(raw, dict):
        raise LineError("bad_field", "Each event must be an object.", line=line)
    problems = _Problems()
    eid = problems.read(event_id, raw.get("event_id"))
    kind = problems.read(choice, raw.get("type"), "type", TYPES)
    enterprise = problems.read(text, raw.get("enterprise_id"), "enterprise_id",
                               required=default_enterprise is None) or default_enterprise
    occurred = problems.read(moment, raw.get("occurred_at"))
    if kind is None or occurred is None:
        problems.raise_any(eid, line)
    ev = Event(event_id=eid, type=kind, enterprise_id=enterprise, occurred_at=occurred, line=line)
    try:
        _read_kind(ev, raw, line, problems)
    except LineError as exc:
        problems.found.append(exc)
    problems.raise_any(eid, line)
    return ev


def _read_kind(ev, raw, line, problems=None):
    got = (problems or _Problems()).read
    kind = ev.type

    def items(name, new):
        return got(_items, raw.get(name), name, line, new=new) or []

    def count(name):  # None when the field is there but not a list (its own error says so)
        value = raw.get(name)
        return len(value) if isinstance(value, list) else 0 if value is None else None

    if kind == "production":
        ev.inputs = items("inputs", False)
        ev.outputs = items("outputs", "full")
        if count("outputs") == 0:
            raise LineError("bad_field", "A production needs at least one output.", "outputs")
    elif kind == "import":
        ev.outputs = items("outputs", "full")
        ev.doc_no = got(text, raw.get("declaration_no", raw.get("doc_no")), "declaration_no")
        ev.port = got(text, raw.get("port"), "port")
        ev.country = got(text, raw.get("origin_country"), "origin_country")
        if count("outputs") == 0:
            raise LineError("bad_field", "An import needs at least one batch in outputs.", "outputs")
    elif kind == "split":
        ev.code = got(batch_reference, raw)
        ev.outputs = items("outputs", "mass")
        if count("outputs") is not None and count("outputs") < 2:
            raise LineError("bad_field", "A split needs at least two outputs.", "outputs")
    elif kind == "merge":
        ev.inputs = items("inputs", False)
        ev.outputs = items("outputs", "mass")
        if None not in (count("inputs"), count("outputs")) and (count("inputs") < 2 or count("outputs") != 1):
            raise LineError("bad_field", "A merge needs at least two inputs and exactly one output.", "inputs")
    else:
        ev.code = got(batch_reference, raw)
        if kind == "shipment":
            ev.mass_kg = got(mass, raw.get("mass_kg"))
            ev.to_id = got(text, raw.get("to_id"), "to_id")
            ev.doc_no = got(text, raw.get("doc_no"), "doc_no")
        elif kind == "receipt":
            ev.mass_kg = got(mass, raw.get("mass_kg"), required=False)
            ev.from_id = got(text, raw.get("from_id"), "from_id")
            ev.doc_no = got(text, raw.get("doc_no"), "doc_no")
        elif kind == "export":
            ev.mass_kg = got(mass, raw.get("mass_kg"), required=False)
            ev.doc_no = got(text, raw.get("licence_no", raw.get("doc_no")), "licence_no")
            ev.port = got(text, raw.get("port"), "port")
            ev.country = got(text, raw.get("destination_country"), "destination_country", required=False)
        elif kind == "consumption":
            ev.mass_kg = got(mass, raw.get("mass_kg"), required=False)
            ev.status = got(choice, raw.get("status"), "status", CONSUMPTION_STATUSES, required=False) or "consumed"
    codes = [i.code for i in ev.inputs] + [o.code for o in ev.outputs if o.code]
    if len(codes) != len(set(codes)):
        raise LineError("bad_field", "The same batch code appears twice in one event.", "inputs")
