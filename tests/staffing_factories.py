"""Factories for staffing tests: skills, evidence, projects and workshops, flushed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from webapp.db import db as _db
from webapp.models import (
    EvidenceSource,
    PlanRun,
    ProficiencyLevel,
    Project,
    ProjectAssignment,
    ProjectRequirement,
    Skill,
    SkillCategory,
    SkillEvidence,
    Team,
    User,
    Workshop,
    WorkshopPrerequisite,
    WorkshopSkill,
)

LEVEL_NAMES = ("Novice", "Advanced beginner", "Competent", "Proficient", "Expert")


def make_levels() -> None:
    for i, name in enumerate(LEVEL_NAMES, start=1):
        _db.session.merge(ProficiencyLevel(level=i, name=name, descriptor=name))
    _db.session.flush()


def make_skill(code: str, name: str | None = None) -> Skill:
    category = _db.session.query(SkillCategory).filter_by(code="test").one_or_none()
    if category is None:
        category = SkillCategory(code="test", name="Test skills")
        _db.session.add(category)
    skill = Skill(code=code, name=name or code.title(), category=category)
    _db.session.add(skill)
    _db.session.flush()
    return skill


def give_level(user: User, skill: Skill, level: int, days_ago: int = 10) -> None:
    _db.session.add(
        SkillEvidence(
            user_id=user.id,
            skill_id=skill.id,
            level=level,
            source=EvidenceSource.MANAGER.value,
            recorded_at=datetime.now(UTC) - timedelta(days=days_ago),
        )
    )
    _db.session.flush()


def make_project(
    team: Team,
    name: str = "Churn model",
    *,
    weeks: int = 10,
    needs: tuple[tuple[Skill, int, int], ...] = (),
    people: tuple[User, ...] = (),
    allocation: int = 50,
) -> Project:
    """A planned project with (skill, min level, headcount) needs and people assigned."""
    project = Project(name=name, team_id=team.id, start_date=date.today() + timedelta(weeks=weeks))
    project.requirements = [
        ProjectRequirement(skill_id=s.id, min_level=lv, headcount=n, importance=3)
        for s, lv, n in needs
    ]
    project.assignments = [
        ProjectAssignment(user_id=u.id, allocation_pct=allocation) for u in people
    ]
    _db.session.add(project)
    _db.session.flush()
    return project


def make_workshop(
    slug: str, skill: Skill, level: int, hours: float = 6.0, requires: Workshop | None = None
) -> Workshop:
    ws = Workshop(
        slug=slug, title=slug.replace("-", " ").title(), hours=hours, difficulty="intermediate"
    )
    ws.skills = [WorkshopSkill(skill_id=skill.id, level=level)]
    _db.session.add(ws)
    _db.session.flush()
    if requires is not None:
        _db.session.add(WorkshopPrerequisite(workshop_id=ws.id, required_id=requires.id))
        _db.session.flush()
    return ws


def make_submission(user: User, workshop: Workshop) -> int:
    """A bare submission id, for verified (workshop) evidence that must point at one."""
    from webapp.models import Notebook, NotebookVersion, Submission

    notebook = Notebook(workshop_id=workshop.id, filename=f"n{user.id}.ipynb", title="N")
    _db.session.add(notebook)
    _db.session.flush()
    version = NotebookVersion(notebook_id=notebook.id, content_hash="h", source={}, student={})
    _db.session.add(version)
    _db.session.flush()
    submission = Submission(user_id=user.id, version_id=version.id, notebook={})
    _db.session.add(submission)
    _db.session.flush()
    return submission.id


def solved_plan(team: Team, *, by: User | None = None, verified_only: bool = False) -> PlanRun:
    """The team's plan as after “Compute the plan”: requested, then solved by the worker's own
    use case (``jobs.run_plan``) in this process."""
    from flask import current_app

    from webapp import jobs
    from webapp.services.planning import runs
    from webapp.settings import settings_of

    run, _ = runs.request(
        _db.session,
        team_id=team.id,
        actor=by,
        settings=settings_of(current_app).plan_for(),
        verified_only=verified_only,
        now=datetime.now(UTC),
    )
    _db.session.commit()
    assert jobs.run_plan(run.id)
    _db.session.expire_all()
    solved = _db.session.get(PlanRun, run.id)
    assert solved is not None and solved.status == "done", solved and solved.error
    return solved
