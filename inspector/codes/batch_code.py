"""Our native batch code: 'RE' + 8 body characters + 1 check character, from a 31-letter unambiguous alphabet.

The check is a pure ISO 7064-style system modulo the prime 31 with weights 3**i (3 is a primitive root of 31):
every single substitution changes the sum by a non-zero multiple of a weight, and every adjacent
transposition by (a-b)(w_i - w_i+1), which is never 0 mod 31, so both are always caught.
"""
import random

# No 0/O, 1/I (read alike) and no S (read as 5): 31 symbols, one per residue mod 31.
ALPHABET = "23456789ABCDEFGHJKLMNPQRTUVWXYZ"
MODULUS = 31
PREFIX = "RE"
BODY_LENGTH = 8
LENGTH = len(PREFIX) + BODY_LENGTH + 1
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_SEPARATORS = " -_.\t"


class BatchCodeError(ValueError):
    """A native batch code that fails syntax or its check character."""

    def __init__(self, message, typo=False):
        super().__init__(message)
        self.typo = typo


def _checksum(chars):
    # Weight 3**0 goes to the last character, so the check character has weight 1.
    total = 0
    weight = 1
    for ch in reversed(chars):
        total += _VALUE[ch] * weight
        weight = weight * 3 % MODULUS
    return total % MODULUS


def check_character(payload):
    """Return the check character that makes payload + check sum to 0 mod 31."""
    partial = _checksum(payload + ALPHABET[0])
    return ALPHABET[(-partial) % MODULUS]


def issue(rng: random.Random) -> str:
    """Issue a new random native batch code from the given random source."""
    body = "".join(rng.choice(ALPHABET) for _ in range(BODY_LENGTH))
    payload = PREFIX + body
    return payload + check_character(payload)


def looks_native(text: str) -> bool:
    """True when text is shaped like a native code (the RE prefix, after normalising case and separators)."""
    squeezed = "".join(ch for ch in text.upper() if ch not in _SEPARATORS)
    return squeezed.startswith(PREFIX) and len(squeezed) <= 20 and squeezed.isalnum()


def normalise(text: str) -> str:
    """Return the canonical form of a typed or scanned native code, or raise BatchCodeError saying what is wrong."""
    squeezed = "".join(ch for ch in text.upper() if ch not in _SEPARATORS)
    if not squeezed.startswith(PREFIX):
        raise BatchCodeError(f"A batch code starts with {PREFIX}.")
    if len(squeezed) != LENGTH:
        raise BatchCodeError(
            f"A batch code has {LENGTH} characters ({PREFIX} and {LENGTH - len(PREFIX)} more); this one has {len(squeezed)}."
        )
    bad = sorted({ch for ch in squeezed if ch not in _VALUE})
    if bad:
        raise BatchCodeError(
            "A batch code never contains " + ", ".join(repr(c) for c in bad)
            + " (0, O, 1, I and S are not used); check the label."
        )
    if _checksum(squeezed) != 0:
        raise BatchCodeError("The check character does not match: this looks like a typo.", typo=True)
    return squeezed


def display(code: str) -> str:
    """Group a canonical code for people: RE 8K3M 7QPD 4."""
    return f"{code[:2]} {code[2:6]} {code[6:10]} {code[10:]}"
