"""Fixtures: one app and schema per test session, rows wiped after each test, users by factory.

Set SKILLFORGE_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/skillforge_ci)
to run the whole suite on PostgreSQL; without it, a SQLite file in a temporary folder is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import db as _db
from webapp.models import Role, Team, TeamMembership, User
from webapp.services import passwords

TEST_DB_ENV = "SKILLFORGE_TEST_DATABASE_URL"
PASSWORD = "correct-horse-battery"
passwords.use_profile("CHEAPEST")  # Argon2 is slow on purpose; tests check logic, not cost
_HASH = passwords.hash_password(PASSWORD)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def database_url(tmp_dir: Path) -> str:
    return os.environ.get(TEST_DB_ENV) or f"sqlite:///{tmp_dir / 'skillforge-test.db'}"


def app_config(url: str, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        **extra,
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = database_url(tmp_path_factory.mktemp("db"))
    app = create_app(app_config(url))
    with app.app_context():
        reset_schema()
        upgrade()  # the suite runs on the migrated schema, as production does
    yield app
    with app.app_context():
        _db.session.remove()
        reset_schema()
        _db.engine.dispose()


def reset_schema() -> None:
    _db.drop_all()
    with _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture()
def db(app: Flask) -> Iterator[object]:
    """The database inside an app context; every row is deleted after the test."""
    with app.app_context():
        yield _db
        _db.session.remove()
        wipe(_db)


def wipe(database: object) -> None:
    # DELETE is much faster than TRUNCATE on PostgreSQL for the few rows a test writes.
    with _db.engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture()
def client(app: Flask, db: object) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask, db: object) -> FlaskCliRunner:
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form as a browser would."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(
    client: FlaskClient,
    path: str,
    data: dict[str, object],
    *,
    token_from: str | None = None,
    **kwargs: object,
):  # noqa: ANN201
    """POST a form with the CSRF token a browser would have, taken from ``token_from``."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def make_user(
    role: Role | str = Role.ENGINEER,
    *,
    name: str = "Test User",
    email: str | None = None,
    team: Team | None = None,
    manager_of: Team | None = None,
    active: bool = True,
) -> User:
    """A user with password PASSWORD, flushed; optionally a member or manager of a team."""
    role = Role(role)
    count = _db.session.query(User).count()
    user = User(
        email=email or f"user{count + 1}@example.com",
        display_name=name,
        password_hash=_HASH,
        role=role.value,
        active=active,
    )
    _db.session.add(user)
    _db.session.flush()
    if team is not None:
        _db.session.add(TeamMembership(team_id=team.id, user_id=user.id, is_manager=False))
    if manager_of is not None:
        _db.session.add(TeamMembership(team_id=manager_of.id, user_id=user.id, is_manager=True))
    _db.session.flush()
    return user


def make_team(name: str = "Team") -> Team:
    team = Team(name=name)
    _db.session.add(team)
    _db.session.flush()
    return team


@dataclass
class AuthActions:
    """Log a test client in and out through the real forms (flaskr's pattern)."""

    client: FlaskClient

    def login(self, email: str, password: str = PASSWORD):  # noqa: ANN201
        return post_form(self.client, "/login", {"email": email, "password": password})

    def logout(self):  # noqa: ANN201
        return post_form(self.client, "/logout", {}, token_from="/")


@pytest.fixture()
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@dataclass
class Org:
    """A small organisation: two teams, each with a manager and two engineers, and an admin."""

    team: Team
    other_team: Team
    engineer: User
    teammate: User
    manager: User
    other_manager: User
    other_engineer: User
    admin: User


@pytest.fixture()
def org(db: object) -> Org:
    team, other = make_team("Applied ML"), make_team("Platform")
    result = Org(
        team=team,
        other_team=other,
        engineer=make_user(name="Eve Engineer", email="eve@example.com", team=team),
        teammate=make_user(name="Tom Teammate", email="tom@example.com", team=team),
        manager=make_user(
            Role.MANAGER, name="Mia Manager", email="mia@example.com", manager_of=team
        ),
        other_manager=make_user(
            Role.MANAGER, name="Oli Other", email="oli@example.com", manager_of=other
        ),
        other_engineer=make_user(name="Pat Platform", email="pat@example.com", team=other),
        admin=make_user(Role.ADMIN, name="Ada Admin", email="ada@example.com"),
    )
    _db.session.commit()
    return result
