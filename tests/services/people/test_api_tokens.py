"""API tokens: shown once, stored only as a digest, revocable, tied to an active owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import Org
from webapp.db import db as _db
from webapp.models import ApiToken
from webapp.services.errors import InvalidInput, NotFound
from webapp.services.people import api_tokens


def test_only_the_digest_of_a_new_token_is_stored(org: Org) -> None:
    created = api_tokens.create_token(_db.session, actor=org.engineer, name="BI export")
    stored = _db.session.scalars(select(ApiToken)).one()
    assert created.secret.startswith("sf_") and len(created.secret) > 40
    assert stored.token_hash == api_tokens.digest(created.secret)
    assert created.secret not in {stored.token_hash, stored.name}
    assert api_tokens.authenticate(_db.session, created.secret) == org.engineer


def test_revoked_unknown_and_deactivated_tokens_authenticate_nobody(org: Org) -> None:
    first = api_tokens.create_token(_db.session, actor=org.engineer, name="one")
    second = api_tokens.create_token(_db.session, actor=org.manager, name="two")
    api_tokens.revoke_token(_db.session, first.token.id, actor=org.engineer)
    org.manager.active = False
    assert api_tokens.authenticate(_db.session, first.secret) is None
    assert api_tokens.authenticate(_db.session, second.secret) is None
    assert api_tokens.authenticate(_db.session, "sf_not-a-token") is None
    assert api_tokens.list_tokens(_db.session, org.engineer.id) == []


def test_people_revoke_only_their_own_tokens_unless_admin(org: Org) -> None:
    token = api_tokens.create_token(_db.session, actor=org.engineer, name="mine").token
    with pytest.raises(NotFound):
        api_tokens.revoke_token(_db.session, token.id, actor=org.manager)
    assert api_tokens.revoke_token(_db.session, token.id, actor=org.admin).revoked_at is not None


def test_last_use_is_noted_at_most_once_a_minute(org: Org) -> None:
    created = api_tokens.create_token(_db.session, actor=org.engineer, name="bi")
    now = datetime.now(UTC)
    api_tokens.authenticate(_db.session, created.secret, now=now)
    api_tokens.authenticate(_db.session, created.secret, now=now + timedelta(seconds=30))
    assert created.token.last_used_at == now
    later = now + timedelta(minutes=5)
    api_tokens.authenticate(_db.session, created.secret, now=later)
    assert created.token.last_used_at == later


def test_a_token_needs_a_name(org: Org) -> None:
    with pytest.raises(InvalidInput):
        api_tokens.create_token(_db.session, actor=org.engineer, name="  ")
