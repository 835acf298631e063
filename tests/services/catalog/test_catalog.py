"""Catalog sync: everything or nothing, idempotent, versions by content hash, archiving."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.factories import FIXTURE_COURSES as FIXTURES
from tests.factories import make_user
from webapp.db import db as _db
from webapp.models import (
    AuditEvent,
    CatalogSync,
    Exercise,
    Notebook,
    NotebookVersion,
    Role,
    Skill,
    Submission,
    Workshop,
    WorkshopPrerequisite,
)
from webapp.services.catalog.sync import catalog_status, sync_catalog

CATALOG_TABLES = (Workshop, Notebook, NotebookVersion, Exercise, Skill, WorkshopPrerequisite)


@pytest.fixture()
def courses(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture catalog (the tiny course and an nbgrader assignment)."""
    target = tmp_path / "courses"
    shutil.copytree(FIXTURES / "valid", target)
    return target


def counts() -> dict[str, int]:
    return {
        m.__name__: _db.session.scalar(select(func.count()).select_from(m)) for m in CATALOG_TABLES
    }


def sync(root: Path, actor: object = None) -> object:
    result = sync_catalog(_db.session, root, actor=actor)  # type: ignore[arg-type]
    _db.session.commit()
    return result


def edit_notebook(path: Path, cell: int, source: str) -> None:
    nb = json.loads(path.read_text())
    nb["cells"][cell]["source"] = source
    path.write_text(json.dumps(nb, indent=1))


def test_sync_writes_workshops_notebooks_versions_and_exercises(db: object, courses: Path) -> None:
    result = sync(courses)
    assert result.ok, result.problems
    tiny = _db.session.scalar(select(Workshop).where(Workshop.slug == "tiny"))
    assert tiny.title == "Tiny statistics" and tiny.hours == 0.5
    assert {(ws.skill.code, ws.level) for ws in tiny.skills} == {
        ("python-data", 1),
        ("statistics", 2),
    }
    (notebook,) = tiny.notebooks
    (version,) = notebook.versions
    assert notebook.current_hash == version.content_hash
    assert version.max_points == 3
    assert [(e.grade_id, e.points) for e in version.exercises] == [
        ("test_mean", 2),
        ("test_var", 1),
    ]
    # the student version keeps stubs, not solutions, and no hidden tests
    student = json.dumps(version.student)
    assert "NotImplementedError" in student and "HIDDEN TESTS" not in student
    assert "sum(xs) / len(xs)" in json.dumps(version.source)


def test_exercise_without_skill_tag_counts_for_the_first_workshop_skill(
    db: object, courses: Path
) -> None:
    sync(courses)
    rows = _db.session.execute(
        select(Exercise.grade_id, Skill.code).join(Skill, Skill.id == Exercise.skill_id)
    ).all()
    assert dict(rows)["test_mean"] == "statistics"  # tagged in the notebook
    assert dict(rows)["test_var"] == "python-data"  # untagged: the first skill of course.toml


def test_real_nbgrader_assignment_syncs_unchanged(db: object, courses: Path) -> None:
    sync(courses)
    ps1 = _db.session.scalar(select(Workshop).where(Workshop.slug == "ps1"))
    version = ps1.notebooks[0].versions[0]
    kinds = {e.grade_id: (e.kind, e.points) for e in version.exercises}
    assert kinds == {
        "correct_squares": ("auto", 1),
        "squares_invalid_input": ("auto", 1),
        "explain_error": ("manual", 1),
    }
    assert [p.required.slug for p in ps1.prerequisites] == ["tiny"]
    assert ps1.notebooks[0].title == "Problem set 1: squares"


def test_sync_twice_changes_nothing(db: object, courses: Path) -> None:
    sync(courses)
    before = counts()
    stamps = {w.slug: w.updated_at for w in _db.session.scalars(select(Workshop))}
    second = sync(courses)
    assert second.ok and second.counts.new_versions == 0 and second.counts.new_workshops == 0
    assert counts() == before
    assert {w.slug: w.updated_at for w in _db.session.scalars(select(Workshop))} == stamps


def test_changed_notebook_becomes_a_new_version_and_submissions_keep_theirs(
    db: object, courses: Path
) -> None:
    sync(courses)
    notebook = _db.session.scalar(select(Notebook).where(Notebook.filename == "01-basics.ipynb"))
    old_version = notebook.versions[0]
    user = make_user()
    submission = Submission(user_id=user.id, version_id=old_version.id, notebook={})
    _db.session.add(submission)
    _db.session.commit()

    edit_notebook(courses / "tiny" / "01-basics.ipynb", 0, "# Means, variances and more")
    result = sync(courses)

    assert result.counts.new_versions == 1
    _db.session.refresh(notebook)
    assert len(notebook.versions) == 2
    assert notebook.current_hash != old_version.content_hash
    assert notebook.title == "Means, variances and more"
    assert _db.session.get(Submission, submission.id).version_id == old_version.id
    assert _db.session.get(NotebookVersion, old_version.id) is not None


def test_re_running_outputs_only_keeps_the_version(db: object, courses: Path) -> None:
    sync(courses)
    path = courses / "tiny" / "01-basics.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    nb["cells"][1]["execution_count"] = 1
    path.write_text(json.dumps(nb))
    assert sync(courses).counts.new_versions == 0


def test_workshop_removed_from_disk_is_archived_with_its_history(db: object, courses: Path) -> None:
    sync(courses)
    shutil.rmtree(courses / "ps1")  # ps1 depends on tiny, not the other way round
    result = sync(courses)
    assert result.ok and result.counts.archived_workshops == 1
    ps1 = _db.session.scalar(select(Workshop).where(Workshop.slug == "ps1"))
    assert ps1.archived and len(ps1.notebooks[0].versions) == 1
    assert [(s.slug, s.archived) for s in catalog_status(_db.session)][-1] == ("ps1", True)
    shutil.copytree(FIXTURES / "valid" / "ps1", courses / "ps1")
    sync(courses)
    _db.session.refresh(ps1)
    assert not ps1.archived


def test_notebook_dropped_from_course_toml_is_archived(db: object, courses: Path) -> None:
    sync(courses)
    shutil.copy(courses / "tiny" / "01-basics.ipynb", courses / "tiny" / "02-more.ipynb")
    toml = courses / "tiny" / "course.toml"
    toml.write_text(toml.read_text().replace('["01-basics.ipynb"]', '["02-more.ipynb"]'))
    sync(courses)
    by_name = {n.filename: n for n in _db.session.scalars(select(Notebook))}
    assert by_name["01-basics.ipynb"].archived and not by_name["02-more.ipynb"].archived


def test_broken_catalog_reports_every_problem_and_leaves_the_database_untouched(
    db: object, courses: Path
) -> None:
    sync(courses)
    before = counts()
    result = sync(FIXTURES / "broken")
    assert not result.ok
    assert counts() == before
    problems = "\n".join(result.problems)
    expected = [
        "bad-cells/01-basics.ipynb, cell 2: missing grade_id",
        "bad-cells/01-basics.ipynb, cell 4 (grade_id 'impl_mean'): duplicate grade_id",
        "cell 5 (grade_id 'impl_var'): solution region is never closed",
        "cell 6 (grade_id 'test_var'): graded cell without points",
        "unknown skill 'astrology' in metadata.skillforge.skill",
        "bad-json/01-broken.ipynb: not JSON",
        "bad-json/02-missing.ipynb: listed in course.toml but the file is missing",
        "unknown-skill/course.toml: [skills]: unknown skill 'astrology'",
        "prerequisite cycle: cycle-a -> cycle-b -> cycle-a",
    ]
    for text in expected:
        assert text in problems
    last = _db.session.scalars(select(CatalogSync).order_by(CatalogSync.id.desc())).first()
    assert not last.ok and len(last.problems) == len(result.problems)


def test_invalid_nbformat_is_reported_with_its_file(db: object, courses: Path) -> None:
    path = courses / "tiny" / "01-basics.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][0]["cell_type"] = "picture"
    path.write_text(json.dumps(nb))
    result = sync(courses)
    assert not result.ok
    assert any(p.startswith("tiny/01-basics.ipynb: not a valid notebook") for p in result.problems)
    assert counts()["Workshop"] == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('difficulty = "expert"', "'difficulty' must be one of"),
        ("hours = -1", "'hours' must be a positive number"),
        ("colour = 3", "unknown key 'colour'"),
    ],
)
def test_bad_course_toml_values_are_reported(
    db: object, courses: Path, line: str, message: str
) -> None:
    toml = courses / "tiny" / "course.toml"
    key = line.split(" ")[0]
    kept = [x for x in toml.read_text().splitlines() if not x.startswith(f"{key} ")]
    toml.write_text("\n".join([line, *kept]) + "\n")
    result = sync(courses)
    assert any(p.startswith("tiny/course.toml") and message in p for p in result.problems)


def test_admin_sync_is_audited(db: object, courses: Path) -> None:
    admin = make_user(Role.ADMIN)
    sync(courses, actor=admin)
    event = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "catalog.sync")).one()
    assert event.actor_id == admin.id and event.detail["ok"] is True


def test_a_linked_data_file_or_folder_is_refused_naming_it(
    db: object, courses: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("the server's secret")
    (courses / "tiny" / "data").mkdir()
    (courses / "tiny" / "data" / "prices.csv").symlink_to(secret)
    (courses / "ps1" / "shared").symlink_to(tmp_path, target_is_directory=True)
    before = counts()
    result = sync(courses)
    assert not result.ok
    assert counts() == before
    assert "tiny/data/prices.csv: a symbolic link; copy the file itself" in "\n".join(
        result.problems
    )
    assert any(p.startswith("ps1/shared: a symbolic link") for p in result.problems)


@pytest.mark.parametrize(
    ("limit", "damage", "message"),
    [
        (
            {"NOTEBOOK_MAX_CELLS": 5},
            lambda nb: None,
            "tiny/01-basics.ipynb: it has 6 cells, more than the 5 a notebook may have.",
        ),
        (
            {"NOTEBOOK_MAX_SOURCE_BYTES": 1000},
            lambda nb: nb["cells"][1].update(source="# data\n" * 200),
            "tiny/01-basics.ipynb: Cell 2 holds 1,400 bytes of source, more than the 1,000",
        ),
        (
            {"NOTEBOOK_MAX_OUTPUT_BYTES": 1000},
            lambda nb: nb["cells"][1].update(
                outputs=[{"output_type": "stream", "name": "stdout", "text": "z" * 1000}]
            ),
            "tiny/01-basics.ipynb: Cell 2 has an output of 1,",
        ),
    ],
)
def test_a_course_notebook_over_a_limit_is_named_and_nothing_is_published(
    app: Flask,
    db: object,
    courses: Path,
    override_settings: Callable[..., None],
    limit: dict[str, int],
    damage: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    """Through the command, so the deployment's NOTEBOOK_MAX_* are the ones held to."""
    override_settings(**limit)
    path = courses / "tiny" / "01-basics.ipynb"
    nb = json.loads(path.read_text())
    damage(nb)
    path.write_text(json.dumps(nb))
    before = counts()
    result = app.test_cli_runner().invoke(args=["courses", "sync", str(courses)])
    assert result.exit_code == 1
    assert message in result.output
    assert counts() == before


def test_a_folder_without_workshops_archives_nothing_unless_asked(
    db: object, courses: Path, tmp_path: Path
) -> None:
    # A wrong COURSES_PATH or a half-copied folder looks like a catalog whose workshops all went.
    sync(courses)
    empty = tmp_path / "emptied"  # the skill taxonomy and nothing else
    empty.mkdir()
    shutil.copy(courses / "skills.toml", empty / "skills.toml")
    refused = sync(empty)
    assert not refused.ok and refused.counts.archived_workshops == 0
    assert "would archive all 2 live workshops" in refused.problems[0]
    assert "--archive-all" in refused.problems[0]
    assert not any(w.archived for w in _db.session.scalars(select(Workshop)))

    on_purpose = sync_catalog(_db.session, empty, actor=None, archive_all=True)
    _db.session.commit()
    assert on_purpose.ok and on_purpose.counts.archived_workshops == 2
