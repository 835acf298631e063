"""Fixtures: one app and schema per test session, rows wiped after each test; data comes from
tests/factories.py.

Set SKILLFORGE_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/skillforge_ci)
to run the whole suite on PostgreSQL; without it, a SQLite file in a temporary folder is used.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.factories import PASSWORD, SkillKit, fixture_catalog, make_team, make_user
from webapp import create_app, jobs, settings
from webapp.cli.kernels import host_options, start_host, wait_for_host
from webapp.db import db as _db
from webapp.extensions import queue
from webapp.grading.pool import LEAN_WARM_UP
from webapp.models import Role, Team, User

TEST_DB_ENV = "SKILLFORGE_TEST_DATABASE_URL"
QUEUE_DIR = Path(tempfile.mkdtemp(prefix="skillforge-queue-"))  # this test run's own files
SUITE_LOGIN_LIMIT = "10000 per minute"  # limits stay on; tests that check them lower this
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def database_url(tmp_dir: Path) -> str:
    return os.environ.get(TEST_DB_ENV) or f"sqlite:///{tmp_dir / 'skillforge-test.db'}"


def app_config(url: str, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "QUEUE_URL": f"sqlite:///{QUEUE_DIR / 'queue.sqlite3'}",
        # This run's own (another test run beside it must never share rendered pages or markers)
        "RENDER_CACHE_PATH": str(QUEUE_DIR / "render-cache"),
        # This run's own rate-limit counters (with REDIS_URL, the factory puts them in Redis).
        **(
            {}
            if "REDIS_URL" in extra
            else {
                "RATELIMIT_STORAGE_URI": f"skillforge-sqlite://{QUEUE_DIR / 'ratelimits.sqlite3'}"
            }
        ),
        "GRADER_CELL_TIMEOUT": 20,
        "GRADER_NOTEBOOK_TIMEOUT": 120,
        "GRADER_POOL_SIZE": 2,
        "GRADER_WARM_UP": LEAN_WARM_UP,  # the suite's notebooks are small: latency buys nothing
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "LOGIN_RATE_LIMIT": SUITE_LOGIN_LIMIT,
        **{f"{k}_RATE_LIMIT": SUITE_LOGIN_LIMIT for k in ("SUBMIT", "UPLOAD", "AUTOSAVE")},
        **{f"{k}_RATE_LIMIT": SUITE_LOGIN_LIMIT for k in ("IMPORT", "TOKEN")},
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "LIVE_KERNEL_HOSTS": [],  # tests that run live kernels start their own hosts (`live`)
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
    # DELETE is much faster than TRUNCATE on PostgreSQL for the few rows a test writes. A row a
    # background thread writes meanwhile (a job finishing, a late autosave) can break the order;
    # then the whole wipe is tried again.
    for attempt in range(3):
        try:
            with _db.engine.begin() as conn:
                for table in reversed(_db.metadata.sorted_tables):
                    conn.execute(table.delete())
            return
        except IntegrityError:
            if attempt == 2:
                raise
            time.sleep(0.5)


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


@pytest.fixture()
def skill_kit(db: object) -> SkillKit:
    return SkillKit()


# --- the workshop catalog (issue 3) -------------------------------------------------------------


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


# --- live kernels: two kernel hosts (Kernel Gateway with the sandbox), started once ---------------

KERNEL_TOKEN = "test-kernel-host-token"
FIXTURE_COURSES = Path(__file__).resolve().parent / "fixtures" / "courses" / "valid"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def kernel_hosts(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two kernel hosts on this machine, as a deployment with two would have them."""
    logs = tmp_path_factory.mktemp("kernel-hosts")
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    processes = []
    for n, url in enumerate(urls):
        options = host_options(
            app,
            url,
            token=KERNEL_TOKEN,
            courses_dir=str(FIXTURE_COURSES),
            pool_size=1,
            max_kernels=6,
            warm_up="import numpy",
        )
        processes.append(start_host(options, log=str(logs / f"host-{n}.log")))
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_for_host(url, KERNEL_TOKEN, process, timeout=90)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture()
def live(kernel_hosts: list[str], override_settings: Callable[..., None]) -> list[str]:
    """The app pointed at the two kernel hosts."""
    override_settings(
        LIVE_KERNEL_HOSTS=kernel_hosts, LIVE_KERNEL_TOKEN=KERNEL_TOKEN, LIVE_KERNELS_PER_ENGINEER=2
    )
    return kernel_hosts


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
