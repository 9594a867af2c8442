"""Secrets at rest: bearer tokens as SHA-256 digests, passwords as scrypt hashes.

Why two hashes: a token is 256 random bits made by :func:`new_token`, so nobody can guess it
from its digest, fast hash or not; a slow KDF would only slow every request down. A password
is chosen by a person and may be guessable, so a stolen hash must be expensive to test
guesses against: scrypt, memory-hard, with parameters kept in the hash string so they can be
raised later without breaking stored hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "pwt_"  # noqa: S105 - not a secret; makes a leaked token easy to spot (secret scanners, logs)
TOKEN_BYTES = 32
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


@dataclass(frozen=True, slots=True)
class Scrypt:
    """scrypt cost: 2^15 x 8 x 3 is one of OWASP's equivalent choices (32 MiB, ~0.2 s here)."""

    n: int = 2**15
    r: int = 8
    p: int = 3

    @property
    def maxmem(self) -> int:
        return 2 * 128 * self.r * self.n + 2**20  # what scrypt needs, plus slack


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def new_token_id() -> str:
    return secrets.token_hex(6)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        msg = f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters, got {len(password)}"
        raise ValueError(msg)


def hash_password(password: str, cost: Scrypt = Scrypt()) -> str:
    """'scrypt$n$r$p$salt$hash' (salt and hash base64)."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, cost)
    return f"scrypt${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored``; False for any other or malformed hash."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        cost = Scrypt(int(parts[1]), int(parts[2]), int(parts[3]))
        salt, key = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return False
    return hmac.compare_digest(_scrypt(password, salt, cost), key)


def _scrypt(password: str, salt: bytes, cost: Scrypt) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=cost.n, r=cost.r, p=cost.p, maxmem=cost.maxmem, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
