"""Personal identifiers at rest: AES-GCM encryption, a keyed hash for lookups, masking for display.

A ciphertext is ``version (0x02) · key id (1 byte) · nonce (12) · AES-GCM body``. The key id is the first byte of the
SHA-256 of the key, so after a rotation (``xinyong keys rotate``) rows still under an old key — listed in
XINYONG_PII_KEYS_OLD — keep decrypting until they are re-encrypted. Version 0x01 (before key ids) has no key id and is
tried under every known key.

The keyed hash (XINYONG_HASH_KEY) is not rotated with it: every lookup of an identifier goes through the hash, so
changing its key would need every stored hash recomputed from the plaintext at the same instant as the lookups switch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from xinyong.core.settings import get_settings

_NONCE = 12
_LEGACY = b"\x01"
_VERSION = b"\x02"


def _key(encoded: str) -> bytes:
    return base64.b64decode(encoded)


def key_id(key: bytes) -> int:
    return hashlib.sha256(key).digest()[0]


def current_key() -> bytes:
    return _key(get_settings().pii_key)


def known_keys() -> list[bytes]:
    """The current key first, then the old ones still accepted for decryption."""
    return [current_key(), *(_key(k) for k in get_settings().old_pii_keys())]


def encrypt(plaintext: str, key: bytes | None = None) -> bytes:
    key = key or current_key()
    nonce = os.urandom(_NONCE)
    return _VERSION + bytes([key_id(key)]) + nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), None)


def is_current(blob: bytes) -> bool:
    return blob[:1] == _VERSION and blob[1] == key_id(current_key())


def decrypt(blob: bytes) -> str:
    if blob[:1] == _VERSION:
        wanted: int | None = blob[1]
        nonce, body = blob[2 : 2 + _NONCE], blob[2 + _NONCE :]
    elif blob[:1] == _LEGACY:
        wanted = None
        nonce, body = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
    else:
        raise ValueError("unknown ciphertext version")
    for key in known_keys():
        if wanted is not None and key_id(key) != wanted:
            continue
        try:
            return AESGCM(key).decrypt(nonce, body, None).decode()
        except InvalidTag:
            continue  # two keys may share an id byte; the tag tells which one it was
    raise ValueError("no known key decrypts this ciphertext (is the old key in XINYONG_PII_KEYS_OLD?)")


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 (hex) of an identifier, so it can be found without being stored in clear."""
    return hmac.new(get_settings().hash_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def bulk_encrypter() -> Callable[[str], bytes]:
    """``encrypt`` under the current key with the cipher built once: for writing millions of rows (bulk generator)."""
    key = current_key()
    cipher, prefix = AESGCM(key), _VERSION + bytes([key_id(key)])

    def encrypt_one(plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return prefix + nonce + cipher.encrypt(nonce, plaintext.encode(), None)

    return encrypt_one


def bulk_keyed_hasher() -> Callable[[str], str]:
    """``keyed_hash`` through OpenSSL's one-shot HMAC: for millions of rows (bulk generator)."""
    key = get_settings().hash_key.encode()
    digest = hmac.digest

    def keyed_hash_one(value: str) -> str:
        return digest(key, value.encode(), "sha256").hex()

    return keyed_hash_one
