"""Housekeeping: old practice runs, ended sessions, quiet throttles and unused renders go;
submitted attempts, open sessions and renders in use stay; a dry run removes nothing."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.factories import ADD_NOTEBOOK, make_notebook_version, make_user
from webapp.db import db as _db
from webapp.models import ExerciseResult, ImportRun, LoginThrottle, Submission, UserSession
from webapp.services import housekeeping
from webapp.services.catalog import rendering
from webapp.settings import from_config

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
KEEP = housekeeping.Retention(practice_days=90, sessions_days=30, render_days=30)


def submission(user_id: int, version_id: int, *, mode: str, days_ago: int) -> Submission:
    row = Submission(
        user_id=user_id,
        version_id=version_id,
        mode=mode,
        status="graded",
        notebook={},
        score=1.0,
        max_score=2.0,
        submitted_at=NOW - timedelta(days=days_ago),
    )
    _db.session.add(row)
    _db.session.flush()
    _db.session.add(
        ExerciseResult(
            submission_id=row.id,
            exercise_id=version_exercise(version_id),
            grade_id="check",
            status="failed",
            points=1.0,
            max_points=2.0,
        )
    )
    _db.session.flush()
    return row


def version_exercise(version_id: int) -> int:
    from webapp.models import Exercise

    exercise = _db.session.scalar(select(Exercise.id).where(Exercise.version_id == version_id))
    assert exercise is not None
    return exercise


def signed_in(user_id: int, *, ended_days_ago: int | None, expires_in_days: int) -> None:
    _db.session.add(
        UserSession(
            user_id=user_id,
            token_hash=os.urandom(16).hex(),
            expires_at=NOW + timedelta(days=expires_in_days),
            ended_at=None if ended_days_ago is None else NOW - timedelta(days=ended_days_ago),
        )
    )
    _db.session.flush()


def test_old_practice_runs_go_with_their_results_and_submitted_attempts_stay(db: object) -> None:
    version = make_notebook_version(ADD_NOTEBOOK, slug="adding")
    user = make_user()
    old_run = submission(user.id, version.id, mode="check", days_ago=91)
    recent_run = submission(user.id, version.id, mode="check", days_ago=10)
    old_final = submission(user.id, version.id, mode="final", days_ago=400)
    pruned = housekeeping.prune_database(_db.session, KEEP, now=NOW)
    assert pruned.practice_runs == 1
    left = set(_db.session.scalars(select(Submission.id)))
    assert left == {recent_run.id, old_final.id}
    assert old_run.id not in set(_db.session.scalars(select(ExerciseResult.submission_id)))


def test_ended_and_expired_sessions_and_quiet_throttles_go_open_ones_stay(db: object) -> None:
    user = make_user()
    signed_in(user.id, ended_days_ago=45, expires_in_days=-40)  # long over
    signed_in(user.id, ended_days_ago=None, expires_in_days=-31)  # expired a month ago
    signed_in(user.id, ended_days_ago=2, expires_in_days=5)  # ended lately: still listed
    signed_in(user.id, ended_days_ago=None, expires_in_days=5)  # open
    _db.session.add_all(
        [
            LoginThrottle(
                key="client:10.0.0.1", failures=3, last_failure_at=NOW - timedelta(days=60)
            ),
            LoginThrottle(
                key="client:10.0.0.2", failures=3, last_failure_at=NOW - timedelta(days=1)
            ),
        ]
    )
    _db.session.flush()
    dry = housekeeping.prune_database(_db.session, KEEP, now=NOW, dry_run=True)
    assert (dry.sessions, dry.throttles) == (2, 1)
    assert _db.session.scalar(select(func.count(UserSession.id))) == 4  # a dry run removes nothing
    pruned = housekeeping.prune_database(_db.session, KEEP, now=NOW)
    assert (pruned.sessions, pruned.throttles) == (2, 1)
    assert _db.session.scalar(select(func.count(UserSession.id))) == 2
    assert list(_db.session.scalars(select(LoginThrottle.key))) == ["client:10.0.0.2"]


def test_zero_days_keeps_everything(db: object) -> None:
    version = make_notebook_version(ADD_NOTEBOOK, slug="adding")
    user = make_user()
    submission(user.id, version.id, mode="check", days_ago=1000)
    forever = housekeeping.Retention(practice_days=0, sessions_days=0, render_days=0)
    assert housekeeping.prune_database(_db.session, forever, now=NOW) == housekeeping.Pruned()


def aged(path: Path, days: float, text: str = "x") -> Path:
    path.write_text(text)
    moment = time.time() - days * 86400
    os.utime(path, (moment, moment))
    return path


def test_unused_renders_and_dead_renders_leftovers_go_renders_in_use_stay(tmp_path: Path) -> None:
    version = rendering.RENDERER_VERSION
    kept = aged(tmp_path / f"aaa-r{version}.html", 3)
    unused = aged(tmp_path / f"bbb-r{version}.html", 31, "y" * 1000)
    old_version = aged(tmp_path / "ccc-r0.html", 1)
    marker = aged(tmp_path / f"ddd-r{version}.too-large", 2)
    dead_tmp = aged(tmp_path / f".eee-r{version}.html-123.tmp", 0.1)
    live_tmp = aged(tmp_path / f".fff-r{version}.html-456.tmp", 0.001)
    dry = housekeeping.prune_render_cache(tmp_path, KEEP, renderer_version=version, dry_run=True)
    assert dry.render_files == 3 and all(p.exists() for p in (unused, old_version, dead_tmp))
    pruned = housekeeping.prune_render_cache(tmp_path, KEEP, renderer_version=version)
    assert pruned.render_files == 3 and pruned.render_bytes == 1000 + 1 + 1
    assert {p.name for p in tmp_path.iterdir()} == {kept.name, marker.name, live_tmp.name}


def test_a_render_read_from_disk_is_marked_used_so_it_is_kept(tmp_path: Path) -> None:
    cell = {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "Hello"}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    rendering.cached_notebook_html(tmp_path, "abc", lambda: nb)
    [html] = tmp_path.glob("*.html")
    moment = time.time() - 40 * 86400
    os.utime(html, (moment, moment))
    rendering.forget_memory()  # a restarted process reads it from disk
    assert "Hello" in (rendering.cached_notebook_html(tmp_path, "abc", lambda: nb) or "")
    assert time.time() - html.stat().st_mtime < 60
    housekeeping.prune_render_cache(tmp_path, KEEP, renderer_version=rendering.RENDERER_VERSION)
    assert html.exists()


def test_retention_settings_refuse_a_negative_number_of_days(app: Flask) -> None:
    with pytest.raises(ValueError, match="RETENTION_PRACTICE_DAYS must be 0"):
        from_config({**app.config, "RETENTION_PRACTICE_DAYS": -1})


def test_the_command_says_what_it_removed(app: Flask, db: object) -> None:
    version = make_notebook_version(ADD_NOTEBOOK, slug="adding")
    user = make_user()
    submission(user.id, version.id, mode="check", days_ago=365 * 3)
    _db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["housekeeping", "--dry-run"])
    assert dry.exit_code == 0 and dry.output.startswith("Would remove 1 practice run,")
    done = runner.invoke(args=["housekeeping"])
    assert done.exit_code == 0 and done.output.startswith("Removed 1 practice run,")
    assert _db.session.scalar(select(func.count(Submission.id))) == 0


def test_finished_imports_go_with_their_files_and_ones_in_progress_stay(db: object) -> None:
    admin = make_user("admin")

    def run(status: str, days_ago: int) -> ImportRun:
        row = ImportRun(
            kind="roster",
            actor_id=admin.id,
            filename="roster.csv",
            data=b"email,name,team,role\n",
            status=status,
            created_at=NOW - timedelta(days=days_ago),
        )
        _db.session.add(row)
        _db.session.flush()
        return row

    old_done, old_pending, recent = run("done", 40), run("importing", 40), run("refused", 3)
    pruned = housekeeping.prune_database(_db.session, KEEP, now=NOW)
    assert pruned.imports == 1
    left = set(_db.session.scalars(select(ImportRun.id)))
    assert left == {old_pending.id, recent.id} and old_done.id not in left
