"""Password hashing with argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile)."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
# verified against when the login does not exist, so that an unknown login takes as long as a wrong password
_DUMMY = _HASHER.hash("callisto: no such user")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def digest_ha1(username: str, realm: str, password: str) -> tuple[str, str]:
    """HA1 of SIP digest authentication (RFC 3261, RFC 8760): MD5 and SHA-256 of user:realm:password."""
    text = f"{username}:{realm}:{password}".encode()
    return hashlib.md5(text, usedforsecurity=False).hexdigest(), hashlib.sha256(text).hexdigest()
