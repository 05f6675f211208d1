"""SIP passwords of a job's result, kept sealed until the result is read once.

A job must survive a crash between creating an extension and showing its password, so
the password is stored with the row that made it; the database keeps only its seal:
AES-256-GCM under a key derived (HKDF) from the recording key file, which lives outside
the database and its backups. After the first complete download the seals are deleted."""
from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12


class Sealer:
    def __init__(self, master_key: bytes):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pbx job result secrets").derive(master_key)
        self._aead = AESGCM(key)

    def seal(self, secret: str, context: str) -> str:
        """context (job and row) is bound in, so a seal cannot be moved to another row."""
        nonce = os.urandom(_NONCE)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, secret.encode(), context.encode())).decode()

    def open(self, sealed: str, context: str) -> str:
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
