"""The command line: init, demo, users create and import-roster."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from webapp.db import db as _db
from webapp.models import Project, Skill, SkillEvidence, Team, User, WorkshopProgress
from webapp.seed import demo


def count(model: type) -> int:
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def test_init_loads_the_skill_taxonomy(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    assert _db.session.scalar(select(Skill).where(Skill.code == "data-quality")) is not None


def test_demo_builds_the_organisation_once_and_prints_logins(runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert demo.DEMO_PASSWORD in first.output and "ada@skillforge-demo.com" in first.output
    sizes = (count(User), count(Team), count(Project), count(SkillEvidence))
    assert sizes[0] == 1 + 3 + 15 and sizes[1] == 3 and sizes[2] == 4 and sizes[3] > 0
    progress = _db.session.scalars(select(WorkshopProgress)).all()
    assert progress, "demo engineers have progress in some workshops"
    assert any(p.passed_at for p in progress) and any(p.passed_at is None for p in progress)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert (count(User), count(Team), count(Project), count(SkillEvidence)) == sizes


def test_users_create_and_duplicate(runner: FlaskCliRunner) -> None:
    args = [
        "users",
        "create",
        "--email",
        "Zoe@Example.com",
        "--name",
        "Zoe",
        "--role",
        "admin",
        "--password",
        "a-long-password",
    ]
    ok = runner.invoke(args=args)
    assert ok.exit_code == 0 and "Created admin zoe@example.com" in ok.output
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "already exists" in again.output


def test_import_roster_reports_bad_rows_and_stores_nothing(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,team,role\nok@example.com,Ok,T,engineer\nbad,Bad,T,engineer\n")
    result = runner.invoke(args=["users", "import-roster", str(bad)])
    assert result.exit_code != 0
    assert "line 3, email" in result.output and "nothing was imported" in result.output
    assert count(User) == 0


def test_import_roster_writes_invitation_links(runner: FlaskCliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("email,name,team,role\nok@example.com,Ok,T,engineer\n")
    links = tmp_path / "links.csv"
    result = runner.invoke(args=["users", "import-roster", str(good), "--invitations", str(links)])
    assert result.exit_code == 0, result.output
    assert "1 new (invited)" in result.output and str(links) in result.output
    header, row = links.read_text().splitlines()
    assert header == "email,name,invitation"
    assert row.startswith("ok@example.com,Ok,http://127.0.0.1:5000/invite/")
