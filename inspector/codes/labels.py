"""Turn raw scanned or typed label text into a Label: a native batch code, a GS1 code, or why it is neither."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin

from inspector.codes import batch_code, gs1_rules

MAX_LENGTH = 512
RAW_KEPT = 200
GS = "\x1d"  # FNC1 as scanners transmit it
SIGNATURE_SEPARATOR = ";"  # our QR: the batch code, ';', its label signature (never in a code or in base64url)

# ISO/IEC 15424 prefix (']' + code letter + modifier digit). We strip it ourselves because
# biip.parse raises IndexError/ValueError on malformed ones such as ']' or ']Yx'; which we accept: gs1_rules.
_SYMBOLOGY_ID = re.compile(r"\][A-Za-z][0-9]")
# The bracketed form: (AI) and its value, spaces allowed only between fields (GS1 General Specifications 4.15:
# the human-readable interpretation); the value never holds a bracket (biip would cut it there).
_HRI_FIELD = re.compile(r"\s*\((\d{2,4})\)\s*([^()\s]+)\s*")
_CONTROL = re.compile(r"[\x00-\x1c\x1e\x1f\x7f-\x9f]")
_WEB_ADDRESS = re.compile(r"https?://", re.IGNORECASE)

# biip's ParseError texts are written for developers; these turn the common ones into advice.
_BIIP_ERRORS = [
    (re.compile(r"GS1 AI \((\d+)\) (?:pattern|date)"),
     "This GS1 code breaks the GS1 rules at field ({0}); scan it again or check the label."),
    (re.compile(r"(?:Unknown|Failed to get) GS1 Application Identifier"),
     "This GS1 code contains a field number that GS1 does not define; scan it again or check the label."),
    (re.compile(r"Expected a primary identifier"),
     "This web address is not a GS1 Digital Link: it has no product number (01) in its path."),
    (re.compile(r"even number of path segments"),
     "This GS1 Digital Link has a field with no value in its path; check the label."),
    (re.compile(r"qualifier"),
     "This GS1 Digital Link has path fields GS1 does not allow after the product number; check the label."),
]
_BIIP_FALLBACK = "This GS1 code could not be read; scan it again or type the code printed under the barcode."


@dataclass(frozen=True)
class Label:
    """What one scanned or typed code turned out to be."""

    kind: str
    raw: str
    batch_code: str | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: str | None = None
    error: str | None = None
    typo: bool = False
    signature: str | None = None  # the authority's signature: GS1 (8030), or after ';' beside our own code in a QR

    def signature_expected(self) -> bool:
        """True when this form of label is always printed signed: a GS1 serial (21), or our code with its ';'."""
        return self.signature is not None or (self.kind == "gs1" and self.serial is not None)

    def lookup(self) -> dict | None:
        """Return the MongoDB filter on `batches` that finds this code, or None when there is none."""
        if self.kind == "native":
            return {"_id": self.batch_code}
        if self.kind == "gs1" and self.gtin:
            # A lot names the batch itself; a serial names one package of it, so the lot wins.
            if self.lot is not None:
                return {"gs1.gtin": self.gtin, "gs1.lot": self.lot}
            if self.serial is not None:
                return {"gs1.gtin": self.gtin, "gs1.serial": self.serial}
        return None


def read_code(text: str) -> Label:
    """Parse raw label text into an Label; never raises."""
    if not isinstance(text, str):
        return Label(kind="malformed", raw="", error="The code is not text.")
    raw = text[:RAW_KEPT]
    if len(text) > MAX_LENGTH:
        return _malformed(raw, f"The code is too long ({len(text)} characters; a label code has at most {MAX_LENGTH}).")
    value = text.strip()  # also drops a leading FNC1 and a scanner's trailing CR/LF
    prefix = None
    if _SYMBOLOGY_ID.match(value):
        prefix, value = value[:3], value[3:].strip()
        if prefix not in gs1_rules.KNOWN_PREFIXES:
            return _malformed(raw, f"The scanner prefix {prefix} names a kind of barcode no batch label uses; "
                                   "scan the label's own code or type the code printed under it.")
    if not value:
        return _malformed(raw, "The code is empty.")
    control = _CONTROL.search(value)
    if control:
        return _malformed(
            raw, f"The code contains a control character (U+{ord(control.group()):04X}) that no label carries; scan it again."
        )
    form = "bracketed form" if value.startswith("(") else "Digital Link" if _WEB_ADDRESS.match(value) else \
        "element strings" if value[0] in "0123456789" else "batch code" if batch_code.looks_native(value) else None
    if prefix and form and prefix not in gs1_rules.ALLOWED_PREFIXES[form]:
        return _malformed(raw, f"The scanner prefix {prefix} says this came from a barcode that cannot hold a "
                               f"{form}; scan the label again.")
    if form == "bracketed form":
        return _read_bracketed(raw, value)
    if form == "Digital Link":
        return _read_gs1(raw, value, GS1DigitalLinkURI.parse, link=True)
    if form == "element strings":
        return _read_element_strings(raw, value)
    if form == "batch code":
        return _read_native(raw, value)
    head, sep, signature = value.partition(SIGNATURE_SEPARATOR)
    if sep and batch_code.looks_native(head):
        label = _read_native(raw, head)
        return replace(label, signature=signature) if label.kind == "native" else label
    return _malformed(
        raw,
        "This is neither a batch code (they start with RE) nor a GS1 code; check what was scanned or type the code on the label.",
    )


def _malformed(raw: str, error: str, typo: bool = False) -> Label:
    return Label(kind="malformed", raw=raw, error=error, typo=typo)


def _read_native(raw: str, value: str) -> Label:
    try:
        return Label(kind="native", raw=raw, batch_code=batch_code.normalise(value))
    except batch_code.BatchCodeError as exc:
        return _malformed(raw, str(exc), typo=exc.typo)


def _read_element_strings(raw: str, value: str) -> Label:
    if value.isdigit() and len(value) in (8, 12, 13, 14) and _is_gtin(value):
        return _malformed(
            raw,
            "This barcode holds only a product number (GTIN), not a batch; scan the code that carries the batch (10) or serial (21).",
        )
    return _read_gs1(raw, value, GS1Message.parse, needs_separators=True)


def _read_bracketed(raw: str, value: str) -> Label:
    fields, position = [], 0
    while position < len(value):
        match = _HRI_FIELD.match(value, position)
        if not match:
            break
        fields.append(match.groups())
        position = match.end()
    if position < len(value) or not fields:
        rest = value[position:position + 20]
        return _malformed(raw, f"This GS1 code has text that is not a (field) and its value at {rest!r}, and a "
                               "value never holds a space or a bracket; check the label.")
    return _read_gs1(raw, "".join(f"({ai}){data}" for ai, data in fields), GS1Message.parse_hri)


def _is_gtin(value: str) -> bool:
    try:
        Gtin.parse(value)
    except ParseError:
        return False
    return True


def _read_gs1(raw: str, value: str, parse, needs_separators: bool = False, link: bool = False) -> Label:
    try:
        elements = parse(value).element_strings
    except (ParseError, ValueError, LookupError) as exc:
        return _malformed(raw, _explain(str(exc)))
    for ai in ("01", "10", "21"):
        if len({element.value for element in elements.filter(ai=ai)}) > 1:
            return _malformed(raw, f"This GS1 code gives two different values for field ({ai}); check the label.")
    product = elements.get(ai="01")
    if product is None:
        return _malformed(raw, "This GS1 code has no product number (01), so it cannot identify a batch.")
    if product.gtin is None:
        # biip does not raise on a bad GTIN check digit inside (01); it only sets gtin_error.
        return _malformed(
            raw, f"The GTIN check digit fails for product number {product.value}; scan it again or check the printed number."
        )
    lot, serial, expiry = elements.get(ai="10"), elements.get(ai="21"), elements.get(ai="17")
    digsig = elements.get(ai="8030")
    if lot is None and serial is None:
        return _malformed(raw, "This GS1 code has a product number (01) but no batch (10) or serial (21).")
    if needs_separators and _runs_fields_together(value, elements):
        return _malformed(
            raw,
            "This GS1 code has a variable-length field with no separator after it, so where it ends is unclear; scan the barcode again.",
        )
    broken = gs1_rules.violation(elements) or (gs1_rules.link_violation(value) if link else None)
    if broken:
        form = "GS1 Digital Link" if link else "GS1 code"
        return _malformed(raw, f"This {form} breaks GS1's rules: {broken}; check the label.")
    return Label(
        kind="gs1",
        raw=raw,
        gtin=product.value,
        lot=lot.value if lot else None,
        serial=serial.value if serial else None,
        expiry=expiry.date.isoformat() if expiry and expiry.date else None,
        signature=digsig.value if digsig else None,
    )


def _runs_fields_together(value: str, elements) -> bool:
    # Without an FNC1 after a variable-length field, biip cuts it at its maximum length and
    # reads the rest as further fields: a guess we must not turn into a lookup key.
    position = 0
    for element in elements[:-1]:
        position += len(element)
        if element.ai.separator_required and value[position:position + 1] != GS:
            return True
        while value[position:position + 1] == GS:
            position += 1
    return False


def _explain(biip_message: str) -> str:
    for pattern, sentence in _BIIP_ERRORS:
        match = pattern.search(biip_message)
        if match:
            return sentence.format(*match.groups())
    return _BIIP_FALLBACK
