"""Password hashes with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile).

Hashing is deliberately slow (tens of milliseconds), so callers run it in a thread. A login with
an unknown username still verifies against a dummy hash, so the answer takes as long either way
and does not tell which usernames exist.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def check(password_hash: str | None, password: str) -> tuple[bool, bool]:
    """(matches, should be rehashed with today's parameters)."""
    try:
        HASHER.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, False
    return password_hash is not None, password_hash is not None and HASHER.check_needs_rehash(password_hash)


async def check_async(password_hash: str | None, password: str) -> tuple[bool, bool]:
    return await asyncio.to_thread(check, password_hash, password)


async def hash_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash("not-a-real-password-just-equal-work")


def weakness(password: str, username: str) -> str | None:
    """Why a new password is refused (English, for the CLI and the console's texts to map)."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if password.lower() == username.lower() or password.lower() in username.lower():
        return "like_username"
    return None
