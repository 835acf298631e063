"""Migrations: one head; an upgraded empty database equals the models; downgrade works."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB_ENV, app_config
from webapp import create_app
from webapp.db import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@pytest.fixture()
def empty_db_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database on the suite's backend, dropped afterwards."""
    base = os.environ.get(TEST_DB_ENV)
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = make_url(base)
    name = f"skillforge_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def migration_app(empty_db_url: str) -> Iterator[Flask]:
    app = create_app(app_config(empty_db_url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_migrations_have_a_single_head() -> None:
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; merge them"


def test_upgrade_on_empty_database_matches_the_models(migration_app: Flask) -> None:
    upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
        )
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_base_removes_every_table(migration_app: Flask) -> None:
    upgrade()
    downgrade(revision="base")
    remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()


def test_the_downgrade_command_asks_for_yes_before_it_drops_anything(migration_app: Flask) -> None:
    runner = migration_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0  # the rest of ``db`` as before
    tables = set(inspect(db.engine).get_table_names())
    refused = runner.invoke(args=["db", "downgrade", "base"])
    assert refused.exit_code != 0
    assert "Take a backup first" in refused.output and "--yes" in refused.output
    assert set(inspect(db.engine).get_table_names()) == tables  # nothing dropped
    done = runner.invoke(args=["db", "downgrade", "base", "--yes"])
    assert done.exit_code == 0, done.output
    assert set(inspect(db.engine).get_table_names()) - {"alembic_version"} == set()
