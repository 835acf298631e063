"""Password hashing with Argon2id (argon2-cffi), and the password policy."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from webapp.services.errors import InvalidInput

MIN_LENGTH = 10
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


def check_policy(password: str) -> None:
    """Raise InvalidInput when a new password is too weak to accept."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"Choose a password of at least {MIN_LENGTH} characters.")
    if password.isdigit() or password.lower() == password.lower()[0] * len(password):
        raise InvalidInput("Choose a password that is not a single repeated character or digits.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random initial password to hand to a new user."""
    return secrets.token_urlsafe(12)
