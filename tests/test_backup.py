"""Backup and restore round trip: the demo organisation with graded submissions, backed up from
SQLite, restored into PostgreSQL, backed up from there and restored into SQLite again, keeps
every row and every page the same; and the ways a restore must refuse."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import Result
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from tests.conftest import app_config, post_form
from webapp import create_app
from webapp.db import db
from webapp.models import Project, Submission, SubmissionStatus, Team, TeamMembership, User
from webapp.seed import demo
from webapp.services import backup as archive
from webapp.services.catalog import sync
from webapp.settings import settings_of

pytestmark = pytest.mark.nodb  # its own databases: SQLite files and PostgreSQL ones it makes

PG = "postgresql+psycopg://postgres@127.0.0.1/"


@pytest.fixture()
def pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"skillforge_restore_{abs(hash(request.node.nodeid)) % 10**8}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    yield PG + name
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Site:
    """An app on its own database, built and disposed by the test."""

    def __init__(self, url: str) -> None:
        self.app: Flask = create_app(app_config(url))

    def run(self, *args: str) -> Result:
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result

    def page(self, email: str, path: str) -> str:
        client = self.app.test_client()
        signed_in = post_form(client, "/login", {"email": email, "password": demo.DEMO_PASSWORD})
        assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
        answer = client.get(path)
        assert answer.status_code == 200, path
        return normalised(answer.get_data(as_text=True))

    def dispose(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def normalised(html: str) -> str:
    """A page without what differs between two requests of it (CSRF tokens, CSP nonces)."""
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    html = re.sub(r'(<meta name="csrf-token" content=")[^"]+', r"\1", html)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', html)


def rows_of(path: Path) -> dict[str, list[dict[str, Any]]]:
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        return {
            name: [json.loads(line) for line in z.read(f"tables/{name}.jsonl").splitlines()]
            for name in manifest["tables"]
        }


def build_demo(site: Site) -> None:
    with site.app.app_context():
        upgrade()
        settings = settings_of(site.app)
        sync.sync_catalog(db.session, settings.courses_path, actor=None)
        demo.build_demo(db.session)
        db.session.commit()


def test_demo_organisation_round_trips_through_postgresql_and_back(
    tmp_path: Path, pg_database: str
) -> None:
    source = Site(f"sqlite:///{tmp_path / 'source.db'}")
    middle = Site(pg_database)
    final = Site(f"sqlite:///{tmp_path / 'final.db'}")
    try:
        build_demo(source)
        with source.app.app_context():
            graded = db.session.scalars(
                select(Submission).where(Submission.status == SubmissionStatus.GRADED.value)
            ).all()
            assert graded, "the demo has graded submissions"
            project = db.session.scalars(select(Project).order_by(Project.id)).first()
            assert project is not None
            team = db.session.get(Team, project.team_id)
            boss = db.session.scalar(
                select(User.email)
                .join(TeamMembership, TeamMembership.user_id == User.id)
                .where(TeamMembership.team_id == project.team_id, TeamMembership.is_manager)
            )
            author = db.session.get(User, graded[0].user_id)
            admin = db.session.scalar(select(User.email).where(User.role == "admin"))
            emails = {"engineer": author.email if author else "", "manager": boss, "admin": admin}
        assert team is not None
        first, second = tmp_path / "from-sqlite.zip", tmp_path / "from-postgresql.zip"
        assert "Backed up" in source.run("backup", str(first)).output
        assert "Restored" in middle.run("restore", str(first)).output
        middle.run("backup", str(second))
        final.run("restore", str(second))

        before, after = rows_of(first), rows_of(second)
        assert before == after  # every row of every table, through PostgreSQL and back
        assert len(before["submissions"]) == len(graded) and before["skill_evidence"]
        assert rows_of(first) == rows_of(_backup_again(final, tmp_path))

        pages = [
            (emails["engineer"], "/"),
            (emails["engineer"], "/skills"),
            (emails["engineer"], f"/submissions/{graded[0].id}"),
            (emails["manager"], "/"),
            (emails["manager"], f"/teams/{team.id}/matrix"),
            (emails["manager"], f"/staffing/projects/{project.id}"),
            (emails["admin"], "/admin/users"),
            (emails["admin"], "/workshops"),
        ]
        for email, path in pages:
            expected = source.page(email, path)
            assert middle.page(email, path) == expected, path
            assert final.page(email, path) == expected, path

        # New rows after a restore get fresh ids (PostgreSQL's sequences were moved on).
        with middle.app.app_context():
            highest = max(t.id for t in db.session.scalars(select(Team)))
            db.session.add(Team(name="After the restore"))
            db.session.commit()
            new = db.session.scalar(select(Team).where(Team.name == "After the restore"))
            assert new is not None and new.id > highest
    finally:
        for site in (source, middle, final):
            site.dispose()


def _backup_again(site: Site, tmp_path: Path) -> Path:
    path = tmp_path / "again.zip"
    site.run("backup", str(path))
    return path


def test_restore_refuses_a_database_that_is_not_empty_and_writes_nothing(tmp_path: Path) -> None:
    source = Site(f"sqlite:///{tmp_path / 'source.db'}")
    try:
        build_demo(source)
        path = tmp_path / "backup.zip"
        source.run("backup", str(path))
        result = source.app.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code == 1
        assert "The database is not empty" in result.output
        assert "restore into a new, empty database" in result.output
    finally:
        source.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup_or_is_damaged(tmp_path: Path) -> None:
    source = Site(f"sqlite:///{tmp_path / 'source.db'}")
    target = Site(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        build_demo(source)
        good = tmp_path / "backup.zip"
        source.run("backup", str(good))
        not_zip = tmp_path / "notes.zip"
        not_zip.write_text("hello")
        runner = target.app.test_cli_runner()
        result = runner.invoke(args=["restore", str(not_zip)])
        assert result.exit_code == 1 and "is not a Skillforge backup" in result.output
        damaged = tmp_path / "damaged.zip"
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as out:
            for item in src.infolist():
                data = src.read(item)
                if item.filename == "tables/users.jsonl":
                    data = b"\n".join(data.splitlines()[:-1])  # one person lost
                out.writestr(item, data)
        result = runner.invoke(args=["restore", str(damaged)])
        assert result.exit_code == 1 and "The backup is damaged: users holds" in result.output
        with target.app.app_context():  # the failed restore left nothing behind
            assert db.session.scalar(select(User.id)) is None
    finally:
        source.dispose()
        target.dispose()


def test_a_backup_leaves_out_sign_in_sessions(tmp_path: Path) -> None:
    site = Site(f"sqlite:///{tmp_path / 'source.db'}")
    try:
        build_demo(site)
        site.page(demo.email_for("Ada Admin"), "/")  # a sign-in session exists now
        path = tmp_path / "backup.zip"
        site.run("backup", str(path))
        assert "user_sessions" not in rows_of(path)
        assert set(rows_of(path)) == {t.name for t in archive.tables_to_keep()}
    finally:
        site.dispose()
