"""Factories: users, teams, skills, evidence, notebooks and the fixture catalog, for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
from sqlalchemy import select

from webapp.db import db as _db
from webapp.grading import notebook as nbg
from webapp.models import (
    Exercise,
    ExerciseProgress,
    HintUse,
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
from webapp.services.catalog.sync import sync_catalog
from webapp.services.people import passwords

PASSWORD = "correct-horse-battery"
passwords.use_profile("CHEAPEST")  # Argon2 is slow on purpose; tests check logic, not cost
_HASH = passwords.hash_password(PASSWORD)
FIXTURE_COURSES = Path(__file__).resolve().parent / "fixtures" / "courses"


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

    def other_notebook(self, notebook_id: int) -> int:
        """Another notebook of the workshop that ``notebook_id`` belongs to."""
        first = _db.session.get(Notebook, notebook_id)
        assert first is not None
        count = len(first.workshop.notebooks)
        other = Notebook(workshop_id=first.workshop_id, filename=f"kit-{count}.ipynb", title="Kit")
        _db.session.add(other)
        _db.session.flush()
        return other.id

    def hints_revealed(self, user: User, notebook_id: int, times: list[datetime]) -> None:
        """The engineer revealed the hints of one exercise of the notebook, one at each time."""
        progress = ExerciseProgress(
            user_id=user.id, notebook_id=notebook_id, grade_id="impl_kit", hints_revealed=len(times)
        )
        progress.hint_uses = [HintUse(number=n, revealed_at=t) for n, t in enumerate(times, 1)]
        _db.session.add(progress)
        _db.session.flush()


# --- notebooks -----------------------------------------------------------------------------------


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


def fixture_catalog() -> dict[str, int]:
    """Sync tests/fixtures/courses/valid (idempotent); returns {slug: first notebook id}."""
    result = sync_catalog(_db.session, FIXTURE_COURSES / "valid", actor=None)
    assert result.ok, result.problems
    _db.session.commit()
    return first_notebook_ids()


def first_notebook_ids() -> dict[str, int]:
    """{slug: first notebook id} of the synced catalog."""
    rows = _db.session.execute(
        select(Workshop.slug, Notebook.id)
        .join(Notebook, Notebook.workshop_id == Workshop.id)
        .order_by(Notebook.position)
    )
    found: dict[str, int] = {}
    for slug, notebook_id in rows:
        found.setdefault(slug, notebook_id)
    return found


def graded_submission(
    user: User, version: NotebookVersion, feedback: dict[str, Any], *, id: int | None = None
) -> Submission:
    """A submission already graded (0 points) whose feedback notebook is ``feedback``; committed."""
    submission = Submission(
        id=id,
        user_id=user.id,
        version_id=version.id,
        notebook={},
        status="graded",
        feedback=dict(feedback),
        score=0.0,
    )
    _db.session.add(submission)
    _db.session.commit()
    return submission


# A one-exercise workshop notebook (two test cells) for the grading job and use-case tests.
ADD_NOTEBOOK = nbgrader_notebook(
    "def add(a, b):\n    return a + b", "assert add(1, 2) == 3", "assert add(-1, 1) == 0"
)


def student_with_answer(notebook_id: int, grade_id: str, text: str) -> bytes:
    """The current student version of a notebook with one answer typed in, as an .ipynb file."""
    version = _db.session.scalar(
        select(NotebookVersion).where(NotebookVersion.notebook_id == notebook_id)
    )
    assert version is not None
    nb = nbformat.from_dict(version.student)
    for cell in nb.cells:
        if nbg.grade_id(cell) == grade_id:
            cell.source = text
    return nbformat.writes(nb).encode()
