"""Ed25519 keys of the issuing authority: label signatures (GS1 DIGSIG, AI 8030) and the offline pack's signature.

A label signature is the key id (3 characters) followed by the Ed25519 signature in unpadded base64url (86
characters): 89 of the 90 characters GS1 allows in (8030). It signs "REFI-LABEL:1:<key id>:<batch code>", the
batch's identity on our ledger, so a copied signature cannot be moved to another code.

Keys come from SIGNING_KEYS_FILE (JSON: [{"kid", "private_key" (base64url raw 32 bytes, only for the key that
signs), "public_key", "status": active|retired|revoked}]) in production; demo keys, derived from a fixed phrase,
exist only on the embedded demo store. Rotation: a new active key signs; a retired key still verifies the labels it
signed; a revoked key verifies nothing.
"""
import base64
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KID_LENGTH = 3
SIGNATURE_CHARS = 86
LABEL_SIGNATURE = re.compile(rf"^[A-Za-z0-9]{{{KID_LENGTH}}}[A-Za-z0-9_-]{{{SIGNATURE_CHARS}}}$")
STATUSES = ("active", "retired", "revoked")


class SigningKeyError(ValueError):
    """The key file cannot be used."""


def b64url(raw: bytes) -> str:
    """Unpadded base64url, GS1's (8030) alphabet."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def label_message(kid: str, code: str) -> bytes:
    """The bytes a label signature covers."""
    return f"REFI-LABEL:1:{kid}:{code}".encode()


@dataclass(frozen=True)
class Key:
    """One authority key: its id, status, public half, and private half when this process signs with it."""

    kid: str
    status: str
    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = None

    def public_b64(self):
        """The raw public key, base64url."""
        return b64url(self.public.public_bytes(Encoding.Raw, PublicFormat.Raw))


class Keyring:
    """The authority's keys: one signs, the retired ones still verify, the revoked ones are listed as revoked."""

    def __init__(self, keys):
        self.keys = {k.kid: k for k in keys}
        signers = [k for k in keys if k.status == "active" and k.private is not None]
        self.signer = signers[-1] if signers else None

    def sign_label(self, code: str) -> str:
        """The (8030) value for a batch code."""
        if self.signer is None:
            raise SigningKeyError("no active signing key with a private half is configured")
        return self.signer.kid + b64url(self.signer.private.sign(label_message(self.signer.kid, code)))

    def verify_label(self, code: str, signature: str | None) -> str:
        """'valid', 'missing', 'malformed', 'unknown_key', 'revoked_key' or 'forged'."""
        if not signature:
            return "missing"
        if not LABEL_SIGNATURE.match(signature):
            return "malformed"
        kid, sig = signature[:KID_LENGTH], signature[KID_LENGTH:]
        key = self.keys.get(kid)
        if key is None:
            return "unknown_key"
        if key.status == "revoked":
            return "revoked_key"
        try:
            key.public.verify(unb64url(sig), label_message(kid, code))
        except (InvalidSignature, ValueError):
            return "forged"
        return "valid"

    def sign_bytes(self, data: bytes) -> dict:
        """A detached signature over data (the offline pack), with the key id that made it."""
        if self.signer is None:
            raise SigningKeyError("no active signing key with a private half is configured")
        return {"kid": self.signer.kid, "signature": b64url(self.signer.private.sign(data))}

    def public_keys(self):
        """Every key's id, status and public half, for the phone."""
        return [{"kid": k.kid, "status": k.status, "public_key": k.public_b64()} for k in self.keys.values()]


def _demo_private(kid):
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"refi demo signing key {kid}".encode()).digest())


def demo_keyring():
    """Demo mode only: D01 signs; D00 was rotated out (retired: its labels still verify); X00 was revoked."""
    keys = [Key(kid, status, _demo_private(kid).public_key()) for kid, status in (("X00", "revoked"),
                                                                                   ("D00", "retired"))]
    private = _demo_private("D01")
    return Keyring(keys + [Key("D01", "active", private.public_key(), private)])


def demo_signer(kid):
    """A keyring that signs with one demo key, as the authority did before rotating (tests and the demo only)."""
    private = _demo_private(kid)
    return Keyring([Key(kid, "active", private.public_key(), private)])


def keyring_from_file(path):
    """Read a key file (see the module docstring); raise SigningKeyError on anything wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"SIGNING_KEYS_FILE {path!r} cannot be read: {exc}") from None
    keys = []
    for entry in entries if isinstance(entries, list) else []:
        kid, status = str(entry.get("kid", "")), entry.get("status", "active")
        if not re.fullmatch(r"[A-Za-z0-9]{3}", kid) or status not in STATUSES:
            raise SigningKeyError(f"a key needs a 3-character kid and a status of {', '.join(STATUSES)}: {kid!r}")
        try:
            private = (Ed25519PrivateKey.from_private_bytes(unb64url(entry["private_key"]))
                       if entry.get("private_key") else None)
            public = private.public_key() if private else Ed25519PublicKey.from_public_bytes(
                unb64url(entry["public_key"]))
        except (KeyError, ValueError) as exc:
            raise SigningKeyError(f"key {kid}: {exc}") from None
        keys.append(Key(kid, status, public, private))
    if not keys:
        raise SigningKeyError(f"SIGNING_KEYS_FILE {path!r} lists no keys")
    return Keyring(keys)


@functools.lru_cache(maxsize=8)
def _cached(path, demo):
    if path:
        return keyring_from_file(path)
    if demo:
        return demo_keyring()
    return None


def keyring(settings):
    """The keyring this service uses: the key file if set, demo keys in demo mode, else None (nothing signed)."""
    path = (settings.extra or {}).get("signing_keys_file") or os.environ.get("SIGNING_KEYS_FILE") or None
    return _cached(path, settings.demo)
