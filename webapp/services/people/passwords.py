"""Password hashing with Argon2id (argon2-cffi), and the password policy: at least 12 characters
and not guessable, judged by zxcvbn (common passwords, dictionary words, keyboard patterns,
repeats, dates, and the person's own name and email)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from webapp.services.errors import InvalidInput

MIN_LENGTH = 12
MIN_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable" against a throttled online attack
DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"
_hasher = PasswordHasher.from_parameters(getattr(profiles, DEFAULT_PROFILE))
# Verified against when an email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def use_profile(name: str) -> None:
    """Switch the Argon2 cost profile (argon2-cffi's ``profiles``), e.g. CHEAPEST in tests.

    Hashes keep their own parameters, so existing passwords still verify and are rehashed with
    the new profile at the next login.
    """
    global _hasher, _DUMMY_HASH
    params = getattr(profiles, name, None)
    if params is None:
        raise ValueError(f"unknown Argon2 profile {name!r}")
    if params != _hasher._parameters:
        _hasher = PasswordHasher.from_parameters(params)
        _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def check_policy(password: str, *, personal: Sequence[str] = ()) -> None:
    """Raise InvalidInput, saying why and what to do, when a new password is too weak: shorter
    than MIN_LENGTH, or easy to guess (``personal``: the person's name and email)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"Choose a password of at least {MIN_LENGTH} characters.")
    verdict = zxcvbn(password[:100], user_inputs=[p for p in personal if p])
    if verdict["score"] < MIN_SCORE:
        warning = verdict["feedback"].get("warning") or "This password is easy to guess."
        raise InvalidInput(
            f"{warning.rstrip('.')}. Choose a longer password of several uncommon words, "
            "not your name or email."
        )


# The password hash of an account made by a roster import whose invitation is unused: never a
# hash any password matches (Argon2 hashes start with "$argon2").
INVITED = "!invited:"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash, or an invited account's (no password
    yet), still costs one verification, so timing tells neither apart."""
    usable = password_hash is not None and not password_hash.startswith(INVITED)
    try:
        return (
            _hasher.verify(password_hash if usable and password_hash else _DUMMY_HASH, password)
            and usable
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random initial password to hand to a new user."""
    return secrets.token_urlsafe(12)
