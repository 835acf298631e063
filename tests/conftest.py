"""Fixtures: one app and schema per test session, rows wiped after each test, users by factory.

Set SKILLFORGE_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/skillforge_ci)
to run the whole suite on PostgreSQL; without it, a SQLite file in a temporary folder is used.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import select, text

from webapp import create_app, jobs, settings
from webapp.db import db as _db
from webapp.extensions import queue
from webapp.grading import notebook as nbg
from webapp.grading.pool import LEAN_WARM_UP
from webapp.models import (
    Exercise,
    Notebook,
    NotebookVersion,
    Role,
    Skill,
    SkillCategory,
    SkillEvidence,
    Submission,
    Team,
    TeamMembership,
    User,
    Workshop,
    WorkshopPrerequisite,
    WorkshopSkill,
)
from webapp.services.people import passwords

TEST_DB_ENV = "SKILLFORGE_TEST_DATABASE_URL"
QUEUE_DIR = Path(tempfile.mkdtemp(prefix="skillforge-queue-"))
PASSWORD = "correct-horse-battery"
SUITE_LOGIN_LIMIT = "10000 per minute"  # limits stay on; tests that check them lower this
passwords.use_profile("CHEAPEST")  # Argon2 is slow on purpose; tests check logic, not cost
_HASH = passwords.hash_password(PASSWORD)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def database_url(tmp_dir: Path) -> str:
    return os.environ.get(TEST_DB_ENV) or f"sqlite:///{tmp_dir / 'skillforge-test.db'}"


def app_config(url: str, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "QUEUE_URL": f"sqlite:///{QUEUE_DIR / 'queue.sqlite3'}",
        "GRADER_CELL_TIMEOUT": 20,
        "GRADER_NOTEBOOK_TIMEOUT": 120,
        "GRADER_POOL_SIZE": 2,
        "GRADER_WARM_UP": LEAN_WARM_UP,  # the suite's notebooks are small: latency buys nothing
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "LOGIN_RATE_LIMIT": SUITE_LOGIN_LIMIT,
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        **extra,
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = database_url(tmp_path_factory.mktemp("db"))
    app = create_app(app_config(url))
    # The first app of a process chooses the queue's storage; a test that built its own app
    # before this one (tests/test_config.py, in a random order) must not have chosen it.
    jobs.configure_queue(app)
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
def override_settings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``override_settings(KEY=value, ...)`` changes config keys for this test and rebuilds the
    settings the app made from its config (changing ``app.config`` alone changes nothing the app
    reads); both are restored after the test."""

    def override(**config: object) -> None:
        for key, value in config.items():
            monkeypatch.setitem(app.config, key, value)
        built = settings.from_config(app.config)
        monkeypatch.setitem(app.extensions, settings.EXTENSION_KEY, built)

    return override


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


class FreshContextClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production.

    The ``db`` fixture keeps an app context open for the test's own queries; Flask would reuse
    it for the client's requests, so ``g`` (where Flask-Login caches the user) and the database
    session would leak from one request to the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture()
def client(app: Flask, db: object) -> FlaskClient:
    return FreshContextClient(app, app.response_class, use_cookies=True)


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


# --- skills: categories, skills, workshops and evidence (skill estimate and skill page tests) ---


@dataclass
class SkillKit:
    """Factories for the skill pages' tests; every row is flushed, none committed."""

    def skill(self, code: str, *, category: str = "ml", name: str | None = None) -> Skill:
        cat = _db.session.scalar(select(SkillCategory).where(SkillCategory.code == category))
        if cat is None:
            cat = SkillCategory(code=category, name=category.title())
            _db.session.add(cat)
            _db.session.flush()
        skill = Skill(code=code, name=name or code.replace("-", " ").title(), category_id=cat.id)
        _db.session.add(skill)
        _db.session.flush()
        return skill

    def workshop(
        self,
        slug: str,
        skills: dict[int, int],
        *,
        hours: float = 2.0,
        requires: tuple[int, ...] = (),
    ) -> Workshop:
        """A workshop verifying ``skills`` (skill id -> level), after the ``requires`` workshops."""
        shop = Workshop(slug=slug, title=slug.title(), hours=hours, difficulty="introductory")
        shop.skills = [WorkshopSkill(skill_id=s, level=lv) for s, lv in skills.items()]
        shop.prerequisites = [WorkshopPrerequisite(required_id=r) for r in requires]
        _db.session.add(shop)
        _db.session.flush()
        return shop

    def evidence(
        self,
        user: User,
        skill: Skill,
        level: int,
        source: str = "self",
        *,
        at: datetime | None = None,
    ) -> SkillEvidence:
        """Append evidence; workshop evidence gets the graded submission it must point at."""
        row = SkillEvidence(
            user_id=user.id,
            skill_id=skill.id,
            level=level,
            source=source,
            recorded_at=at or datetime.now(UTC),
            submission_id=self._submission(user) if source == "workshop" else None,
        )
        _db.session.add(row)
        _db.session.flush()
        return row

    def _submission(self, user: User) -> int:
        notebook = _db.session.scalar(select(Notebook).where(Notebook.filename == "kit.ipynb"))
        if notebook is None:
            shop = self.workshop("kit-workshop", {})
            notebook = Notebook(workshop_id=shop.id, filename="kit.ipynb", title="Kit")
            _db.session.add(notebook)
            _db.session.flush()
            version = NotebookVersion(
                notebook_id=notebook.id, content_hash="kit", source={}, student={}
            )
            _db.session.add(version)
            _db.session.flush()
        version_id = _db.session.scalar(
            select(NotebookVersion.id).where(NotebookVersion.notebook_id == notebook.id)
        )
        sub = Submission(user_id=user.id, version_id=version_id, notebook={}, status="graded")
        _db.session.add(sub)
        _db.session.flush()
        return sub.id


@pytest.fixture()
def skill_kit(db: object) -> SkillKit:
    return SkillKit()


def make_notebook_version(
    source: dict[str, object], *, slug: str = "adding", threshold: float = 0.8, skill: object = None
) -> NotebookVersion:
    """A one-notebook workshop in the catalog whose current version is ``source``."""
    nb = nbformat.from_dict(source)
    workshop = Workshop(
        slug=slug,
        title=slug.title(),
        hours=1.0,
        difficulty="introductory",
        pass_threshold=threshold,
    )
    if skill is not None:
        workshop.skills = [WorkshopSkill(skill=skill, level=3)]
    notebook = Notebook(
        workshop=workshop,
        filename="01.ipynb",
        title="One",
        position=0,
        current_hash=nbg.content_hash(nb),
    )
    version = NotebookVersion(
        notebook=notebook,
        content_hash=nbg.content_hash(nb),
        source=dict(nb),
        student=dict(nbg.student_version(nb)),
        max_points=sum(e.points for e in nbg.exercises(nb)),
    )
    version.exercises = [
        Exercise(grade_id=e.grade_id, cell_index=e.cell_index, kind=e.kind, points=e.points)
        for e in nbg.exercises(nb)
    ]
    _db.session.add_all([workshop, notebook, version])
    _db.session.flush()
    return version


def nbgrader_notebook(
    solution: str, test: str, hidden: str, *, points: float = 2
) -> dict[str, object]:
    """A minimal nbgrader source notebook: one answer cell and one test cell with hidden tests."""

    def meta(
        grade: bool, solution_cell: bool, gid: str, pts: float | None = None
    ) -> dict[str, object]:
        data: dict[str, object] = {
            "schema_version": 3,
            "grade": grade,
            "solution": solution_cell,
            "locked": not solution_cell,
            "task": False,
            "grade_id": gid,
        }
        if pts is not None:
            data["points"] = pts
        return {"nbgrader": data}

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                f"### BEGIN SOLUTION\n{solution}\n### END SOLUTION",
                metadata=meta(False, True, "answer"),
            ),
            nbformat.v4.new_code_cell(
                f"{test}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS",
                metadata=meta(True, False, "check", points),
            ),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return dict(nb)


# --- the workshop catalog (issue 3) -------------------------------------------------------------

FIXTURE_COURSES = Path(__file__).resolve().parent / "fixtures" / "courses"


def fixture_catalog() -> dict[str, int]:
    """Sync tests/fixtures/courses/valid (idempotent); returns {slug: first notebook id}."""
    from sqlalchemy import select

    from webapp.models import Notebook, Workshop
    from webapp.services.catalog.sync import sync_catalog

    result = sync_catalog(_db.session, FIXTURE_COURSES / "valid", actor=None)
    assert result.ok, result.problems
    _db.session.commit()
    rows = _db.session.execute(
        select(Workshop.slug, Notebook.id)
        .join(Notebook, Notebook.workshop_id == Workshop.id)
        .order_by(Notebook.position)
    )
    found: dict[str, int] = {}
    for slug, notebook_id in rows:
        found.setdefault(slug, notebook_id)
    return found


@pytest.fixture()
def catalog(db: object, tmp_path: Path, override_settings: Callable[..., None]) -> dict[str, int]:
    """The fixture catalog synced, with rendered notebooks cached in a temporary folder."""
    override_settings(RENDER_CACHE_PATH=str(tmp_path / "render-cache"))
    return fixture_catalog()


# --- grading: a worker consuming the queue inside the test process ------------------------------


@pytest.fixture(scope="session", autouse=True)
def _close_grader() -> Iterator[None]:
    """The worker-process grader (a warm kernel pool) is shared by the session, then shut down."""
    yield
    jobs.close_grader()


@pytest.fixture()
def consumer(app: Flask, db: object) -> Iterator[None]:
    """A grading worker (one thread) consuming the queue inside this test process."""
    jobs.bind_app(app)
    worker = queue.create_consumer(workers=1, worker_type="thread", periodic=False)
    worker.start()
    yield
    worker.stop(graceful=True)
    queue.flush()


# --- suites that never touch the database ------------------------------------------------------

NODB_FOLDERS = ("grading", "workshops")  # the grader and the workshop checks: no database at all


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the database-free suites ``nodb``: .ci/run runs them once, in the SQLite pass."""
    root = Path(__file__).resolve().parent
    for item in items:
        parts = Path(str(item.path)).resolve().relative_to(root).parts
        uses_db = "db" in getattr(item, "fixturenames", ())
        if parts and parts[0] in NODB_FOLDERS and not uses_db:
            item.add_marker(pytest.mark.nodb)
