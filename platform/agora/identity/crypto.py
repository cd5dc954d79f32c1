"""Encryption of secrets at rest (provider client secrets, TOTP seeds) with Fernet.

The key comes from ``AGORA_ENCRYPTION_KEY`` (a Fernet key); without it, one is derived from
the secret key so that a development instance works out of the box.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    key = current_app.config.get("AGORA_ENCRYPTION_KEY")
    if not key:
        digest = hashlib.sha256(b"agora-encryption:" + current_app.config["SECRET_KEY"].encode())
        key = base64.urlsafe_b64encode(digest.digest()).decode()
    return Fernet(key)


def encrypt(secret: str) -> bytes:
    return _fernet().encrypt(secret.encode())


def decrypt(token: bytes) -> str:
    try:
        return _fernet().decrypt(token).decode()
    except InvalidToken as error:
        raise ValueError("cannot decrypt: wrong AGORA_ENCRYPTION_KEY?") from error
