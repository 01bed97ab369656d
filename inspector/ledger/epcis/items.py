"""EPCIS items: the batches an event lists (EPC lists, quantity lists, rei:inputs/rei:outputs), merged, with masses.

An item is named once however many lists name it; its mass comes from a quantity (uom KGM, TNE or GRM, converted
to kg) or from rei:massKg, and the two must agree. Output attributes come from the item's rei:outputs entry, else
from the event's or its ilmd's defaults.
"""
import math
from decimal import Decimal, InvalidOperation

from inspector.ledger.epcis.identifiers import ITEM_ATTRIBUTES, Ext, Refused, new_batch_ref, read_identifier

KG_PER_UNIT = {"KGM": Decimal(1), "TNE": Decimal(1000), "GRM": Decimal("0.001")}
MAX_ITEMS = 500


class _Item:
    """One batch an event lists: its identifier, mass (and where it was given) and extension entry."""

    def __init__(self, ref, where):
        self.ref, self.where = ref, where
        self.mass = None
        self.mass_field = None
        self.extension = {}


def items_of(event, ext, epc_key, quantity_key, ext_key):
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

    for i, value in enumerate(list_of(event, epc_key)):
        item_for(read_identifier(value, f"{epc_key}[{i}]"), f"{epc_key}[{i}]")
    for i, entry in enumerate(list_of(event, quantity_key)):
        where = f"{quantity_key}[{i}]"
        if not isinstance(entry, dict):
            raise Refused("bad_field", f"{where} must be an object with epcClass, quantity and uom.", where)
        item = item_for(read_identifier(entry.get("epcClass"), f"{where}.epcClass"), where)
        if item.mass is not None:
            raise Refused("bad_field", f"{where} lists a batch already given a quantity.", where)
        item.mass, item.mass_field = _quantity(entry, where), where
    if ext_key:
        name = ext.name(ext_key)
        raw = ext.get(event, ext_key)
        entries = [] if raw is None else raw
        if not isinstance(entries, list):
            raise Refused("bad_field", f"{name} must be a list of objects.", name)
        inner = Ext(ext.prefixes, bare=True)
        for i, entry in enumerate(entries):
            where = f"{name}[{i}]"
            if not isinstance(entry, dict):
                raise Refused("bad_field", f"{where} must be an object.", where)
            epc = inner.get(entry, "epc")
            if epc is None:
                item = _Item(None, where)
                items.append(item)
            else:
                item = item_for(read_identifier(epc, f"{where}.{ext.name('epc')}"), where)
            if item.extension:
                raise Refused("bad_field", f"{where} describes a batch described before.", where)
            item.extension = {term: inner.get(entry, term) for term in
                              ("massKg",) + tuple(term for term, _ in ITEM_ATTRIBUTES)}
            item.extension_where = where
    if len(items) > MAX_ITEMS:
        raise Refused("bad_field", f"The event lists more than {MAX_ITEMS} batches.", epc_key)
    return items


def list_of(event, key):
    """The list under key (empty when absent); refused when it is not a list."""
    value = event.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Refused("bad_field", f"{key} must be a list.", key)
    return value


def canonical_item(item, ext, side, defaults=None, with_attributes=True):
    """An item as a canonical input or output: its reference, mass and (for new batches) attributes."""
    out = dict(ref_of(item)) if item.ref else {}
    if side == "outputs":
        out = new_batch_ref(out)
    where = getattr(item, "extension_where", item.where)
    mass = agreeing_mass(item, item.extension.get("massKg"), f"{where}.{ext.name('massKg')}")
    if mass is None:
        raise Refused("bad_mass", f"{item.where}: give this batch's mass in a quantity list (uom KGM) or as "
                                   f"{ext.name('massKg')} in {ext.name(side)}.", item.where)
    out["mass_kg"] = mass
    if with_attributes:
        for term, name in ITEM_ATTRIBUTES:
            value = item.extension.get(term)
            value = (defaults or {}).get(term) if value is None else value
            if value is not None:
                out[name] = value
    return out


def attribute_defaults(event, ext):
    """Output attributes given on the event, else in its ilmd, for every output."""
    ilmd = event.get("ilmd")
    ilmd = ilmd if isinstance(ilmd, dict) else {}
    found = {}
    for term, _ in ITEM_ATTRIBUTES:
        value = ext.get(event, term)
        found[term] = ext.get(ilmd, term) if value is None else value
    return found


def agreeing_mass(item, extension_mass, where):
    """The item's mass from its quantity or rei:massKg; refused when both are given and differ."""
    mass = item.mass
    if extension_mass is not None:
        stated = _number(extension_mass, where)
        if mass is not None and abs(stated - mass) > 1e-6 * max(1.0, abs(mass)):
            raise Refused("bad_mass", f"{where} says {stated:g} kg but {item.mass_field} says {mass:g} kg.", where)
        mass = stated if mass is None else mass
    return mass


def _quantity(entry, where):
    uom = entry.get("uom")
    if uom is None:
        raise Refused("bad_mass", f"{where} has no uom: a quantity without a unit counts items, not mass; "
                                   "use uom KGM (kilograms), TNE (tonnes) or GRM (grams).", f"{where}.uom")
    factor = KG_PER_UNIT.get(uom) if isinstance(uom, str) else None
    if factor is None:
        raise Refused("bad_mass", f"{where}.uom {str(uom)[:10]!r} is not a mass unit we take: use KGM, TNE or GRM.",
                       f"{where}.uom")
    value = _number(entry.get("quantity"), f"{where}.quantity")
    try:
        kg = float(Decimal(repr(value)) * factor)
    except (InvalidOperation, OverflowError):
        kg = math.inf
    if not math.isfinite(kg):
        raise Refused("bad_mass", f"{where}.quantity is out of range.", f"{where}.quantity")
    return kg


def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refused("bad_mass", f"{where} must be a number.", where)
    try:
        value = float(value)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise Refused("bad_mass", f"{where} must be a finite number.", where)
    return value


def ref_of(item):
    """The item's reference ({code} or {gs1}) as a fresh dict."""
    return dict(item.ref) if item.ref else {}


def _key(ref):
    if ref is None:
        return None
    if "code" in ref:
        return ("code", ref["code"])
    gs1 = ref["gs1"]
    return ("gs1", gs1["gtin"], gs1.get("lot"), gs1.get("serial"))
