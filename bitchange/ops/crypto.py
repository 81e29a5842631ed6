"""Backup encryption: AES-256-GCM in authenticated chunks, keyed by a passphrase from settings.

Format: MAGIC, a 16-byte salt, then chunks of [4-byte length][12-byte nonce][ciphertext+tag].
Each chunk's associated data is its index and whether it is the last one, so chunks cannot be
reordered, dropped or the file truncated without decryption failing. The key is scrypt(passphrase,
salt), so the passphrase can be any long random string.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"BCBACKUP-AESGCM1"
CHUNK = 1 << 20


class DecryptionError(ValueError):
    """Wrong key, or the file was altered or truncated."""


def derive_key(passphrase: str, salt: bytes) -> bytes:
    return hashlib.scrypt(passphrase.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def _aad(index: int, last: bool) -> bytes:
    return struct.pack(">Q?", index, last)


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def encrypt_file(source: Path, target: Path, passphrase: str) -> None:
    salt = os.urandom(16)
    aes = AESGCM(derive_key(passphrase, salt))
    with source.open("rb") as src, target.open("wb") as out:
        out.write(MAGIC + salt)
        index, chunk = 0, src.read(CHUNK)
        while True:
            following = src.read(CHUNK)
            last = not following
            nonce = os.urandom(12)
            sealed = aes.encrypt(nonce, chunk, _aad(index, last))
            out.write(struct.pack(">I", len(sealed)) + nonce + sealed)
            if last:
                return
            index, chunk = index + 1, following


def _read_chunk(src: BinaryIO) -> tuple[bytes, bytes] | None:
    header = src.read(4)
    if not header:
        return None
    if len(header) != 4:
        raise DecryptionError("truncated chunk header")
    (length,) = struct.unpack(">I", header)
    nonce, sealed = src.read(12), src.read(length)
    if len(nonce) != 12 or len(sealed) != length:
        raise DecryptionError("truncated chunk")
    return nonce, sealed


def decrypt_file(source: Path, target: Path, passphrase: str) -> None:
    with source.open("rb") as src, target.open("wb") as out:
        if src.read(len(MAGIC)) != MAGIC:
            raise DecryptionError("not an encrypted BitChange backup")
        aes = AESGCM(derive_key(passphrase, src.read(16)))
        index, current = 0, _read_chunk(src)
        if current is None:
            raise DecryptionError("no data")
        while current is not None:
            following = _read_chunk(src)
            nonce, sealed = current
            try:
                out.write(aes.decrypt(nonce, sealed, _aad(index, following is None)))
            except InvalidTag as exc:
                raise DecryptionError("wrong key, or the backup was altered or truncated") from exc
            index, current = index + 1, following
