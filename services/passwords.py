"""Passwords for the web screens: scrypt hashes (RFC 7914, from the standard library) and
generated passwords people can type.

A hash is ``scrypt$N$r$p$salt$key`` (salt and key in base64), so its cost can be raised later
and old hashes still verify. Verification compares in constant time. May import: the standard
library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1  # 16 MiB of memory and ~50 ms per hash on the reference machine
KEY_BYTES = 32
MIN_LENGTH = 10
MAX_LENGTH = 200
WORDS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Generated passwords leave out look-alikes (l, 1, I, O, 0, o)."""


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be used, or None."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    if password.strip() != password:
        return "no spaces at the start or end"
    return None


def hash_password(password: str, n: int = N) -> str:
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, n, R, P)
    return "$".join(("scrypt", str(n), str(R), str(P), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        derived = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, expected)


def generated_password(length: int = 14) -> str:
    return "".join(secrets.choice(WORDS) for _ in range(length))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=KEY_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
