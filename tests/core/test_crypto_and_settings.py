from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from xinyong.core import crypto
from xinyong.core.settings import Settings


def test_encrypt_round_trip_and_fresh_nonce() -> None:
    a, b = crypto.encrypt("11010519491231002X"), crypto.encrypt("11010519491231002X")
    assert a != b
    assert b"11010519491231002X" not in a
    assert crypto.decrypt(a) == "11010519491231002X"


def test_tampered_ciphertext_is_refused() -> None:
    blob = bytearray(crypto.encrypt("secret"))
    blob[-1] ^= 1
    with pytest.raises(Exception):  # noqa: B017  (cryptography raises InvalidTag)
        crypto.decrypt(bytes(blob))


def test_keyed_hash_is_stable_and_keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    from xinyong.core.settings import reset_settings

    first = crypto.keyed_hash("11010519491231002X")
    assert first == crypto.keyed_hash("11010519491231002X")
    monkeypatch.setenv("XINYONG_HASH_KEY", "another-key")
    reset_settings()
    assert crypto.keyed_hash("11010519491231002X") != first


def test_production_refuses_development_keys() -> None:
    with pytest.raises(ValidationError, match="XINYONG_SECRET_KEY"):
        Settings(env="production")
    key = base64.b64encode(b"k" * 32).decode()
    ok = Settings(env="production", secret_key="s" * 40, pii_key=key, hash_key="h" * 40)
    assert ok.env == "production"


def test_pii_key_must_be_32_bytes() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(pii_key=base64.b64encode(b"short").decode())
