"""Personal identifiers at rest: AES-GCM encryption, a keyed hash for lookups, masking for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from xinyong.core.settings import get_settings

_NONCE = 12
# A version byte in front of every ciphertext lets a later key rotation tell old from new.
_VERSION = b"\x01"


def _aead() -> AESGCM:
    return AESGCM(base64.b64decode(get_settings().pii_key))


def encrypt(plaintext: str) -> bytes:
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + _aead().encrypt(nonce, plaintext.encode(), None)


def decrypt(blob: bytes) -> str:
    if blob[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    nonce, body = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
    return _aead().decrypt(nonce, body, None).decode()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 (hex) of an identifier, so it can be found without being stored in clear."""
    return hmac.new(get_settings().hash_key.encode(), value.encode(), hashlib.sha256).hexdigest()
