"""The pharmacy's audit key: an HMAC on every event, so events cannot be forged without it.

The hash chain proves that events were not changed *after* the fact, but anyone
who can write to the database can compute a correct hash for a new event. With
an audit key, every event also carries ``HMAC-SHA256(key, event hash)``; the
hash covers the event and, through ``prev_hash``, every event before it, so
one MAC vouches for the whole history up to that event. Without the key a
correct MAC cannot be made.

The key comes from ``COMPOUND_AUDIT_KEY`` (the key text itself) or
``COMPOUND_AUDIT_KEY_FILE`` (a file holding it, readable only by the pharmacy's
account); every station that writes must have the same key, and ``audit
verify`` needs it to check the signatures. Keep a copy off the machine: a lost
key cannot be recovered and a leaked key lets its holder sign events.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Final

from compound.errors import InputError

MIN_KEY_BYTES: Final = 32
"""RFC 2104 §3: a key shorter than the hash output (32 bytes for SHA-256) weakens the HMAC."""

KEY_ENV: Final = "COMPOUND_AUDIT_KEY"
KEY_FILE_ENV: Final = "COMPOUND_AUDIT_KEY_FILE"


def _checked(key: bytes, origin: str) -> bytes:
    key = key.strip()
    if len(key) < MIN_KEY_BYTES:
        raise InputError(
            f"the audit key from {origin} is {len(key)} bytes; it must be at least "
            f"{MIN_KEY_BYTES}.", hint="Make one with: compound audit new-key -o FILE.",
            field="audit_key")
    return key


def read_key_file(path: str | Path) -> bytes:
    """The key in a key file (surrounding whitespace ignored)."""
    try:
        data = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the audit key file {str(path)[:80]}: {exc.strerror}.",
                         hint=f"Check {KEY_FILE_ENV} or --key-file and the file's permissions.",
                         field="audit_key") from None
    return _checked(data, f"the file {str(path)[:80]}")


def key_from_environment() -> bytes | None:
    """``COMPOUND_AUDIT_KEY``, else the file named by ``COMPOUND_AUDIT_KEY_FILE``, else None."""
    text = os.environ.get(KEY_ENV)
    if text:
        return _checked(text.encode("utf-8"), KEY_ENV)
    path = os.environ.get(KEY_FILE_ENV)
    if path:
        return read_key_file(path)
    return None


def new_key() -> str:
    """A fresh random key as text (64 hex digits: 32 random bytes)."""
    return secrets.token_hex(MIN_KEY_BYTES)


def sign(key: bytes, event_hash: str) -> str:
    return hmac.new(key, event_hash.encode("ascii"), hashlib.sha256).hexdigest()


def signature_ok(key: bytes, event_hash: str, mac: str) -> bool:
    return hmac.compare_digest(sign(key, event_hash), mac)
