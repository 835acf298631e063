"""An idempotent demo organisation: teams, people, projects, role profiles and some evidence."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import nbformat
from sqlalchemy import select

from webapp.db import Session
from webapp.models import (
    EvidenceSource,
    Notebook,
    NotebookVersion,
    Project,
    ProjectAssignment,
    ProjectRequirement,
    Role,
    RoleProfile,
    RoleProfileSkill,
    Skill,
    SkillEvidence,
    User,
    WorkshopPrerequisite,
)
from webapp.services.learning import progress, submissions
from webapp.services.people import accounts

DEMO_PASSWORD = "skillforge-demo"  # noqa: S105 (printed for the demo logins)
DEMO_DOMAIN = "skillforge-demo.com"

TEAMS = {
    "Data Platform": (
        "Maria Lopez",
        ["Ana Silva", "Ben Carter", "Chen Wei", "Dara Okafor", "Eli Novak"],
    ),
    "Applied ML": (
        "David Kim",
        ["Farah Haddad", "Gus Moreau", "Hana Sato", "Ivan Petrov", "Jo Baker"],
    ),
    "ML Infrastructure": (
        "Priya Nair",
        ["Kofi Mensah", "Lena Vogel", "Mateo Ruiz", "Nia Brooks", "Omar Aziz"],
    ),
}
# project -> (team, weeks until start, [(skill code, min level, headcount, importance)])
PROJECTS = {
    "Churn model": (
        "Applied ML",
        10,
        [("generalisation", 3, 2, 5), ("interpretability", 3, 1, 4), ("data-quality", 3, 1, 3)],
    ),
    "Fraud detection": (
        "Applied ML",
        16,
        [("fairness", 3, 1, 5), ("ml-monitoring", 3, 1, 4), ("data-volume", 3, 1, 3)],
    ),
    "Feature store migration": (
        "Data Platform",
        8,
        [("data-integration", 3, 2, 5), ("data-quality", 4, 1, 4), ("data-volume", 3, 1, 3)],
    ),
    "Low-latency serving": (
        "ML Infrastructure",
        12,
        [("model-serving", 3, 2, 5), ("compute-cost", 3, 1, 4), ("ml-monitoring", 3, 1, 3)],
    ),
}
PROFILES = {
    "ML engineer": {
        "generalisation": 3,
        "interpretability": 3,
        "training-efficiency": 3,
        "fairness": 2,
    },
    "Data engineer": {
        "data-quality": 4,
        "data-volume": 3,
        "data-integration": 3,
        "data-privacy": 2,
    },
    "ML platform engineer": {"model-serving": 3, "compute-cost": 3, "ml-monitoring": 3},
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    name: str


def email_for(name: str) -> str:
    return f"{name.split()[0].lower()}@{DEMO_DOMAIN}"


def build_demo(session: Session, *, today: date | None = None, seed: int = 7) -> list[DemoLogin]:
    """Create the demo organisation, or leave it as it is when it exists; returns the logins.

    Needs the skill taxonomy synced first (the skills of the projects and profiles must exist).
    """
    today = today or datetime.now(UTC).date()
    skills = {s.code: s for s in session.scalars(select(Skill))}
    logins = [_ensure_user(session, "Ada Admin", Role.ADMIN, None)]
    engineers: list[User] = []
    for team, (manager, members) in TEAMS.items():
        logins.append(_ensure_user(session, manager, Role.MANAGER, team))
        for name in members:
            logins.append(_ensure_user(session, name, Role.ENGINEER, team))
            engineers.append(_user(session, name))
    _ensure_profiles(session, skills)
    fresh = _ensure_projects(session, skills, engineers, today)
    if fresh:
        _add_evidence(session, skills, engineers, random.Random(seed))
        _add_workshop_progress(session, engineers, random.Random(seed))
    session.flush()
    return logins


def _user(session: Session, name: str) -> User:
    user = accounts.find_by_email(session, email_for(name))
    assert user is not None
    return user


def _ensure_user(session: Session, name: str, role: Role, team: str | None) -> DemoLogin:
    email = email_for(name)
    if accounts.find_by_email(session, email) is None:
        accounts.create_user(
            session,
            email=email,
            display_name=name,
            password=DEMO_PASSWORD,
            role=role,
            actor=None,
            team=team,
        )
    return DemoLogin(role.value, email, name)


def _ensure_profiles(session: Session, skills: dict[str, Skill]) -> None:
    for name, targets in PROFILES.items():
        if session.scalar(select(RoleProfile).where(RoleProfile.name == name)) is None:
            profile = RoleProfile(name=name, description=f"Target levels for a {name.lower()}.")
            profile.targets = [
                RoleProfileSkill(skill=skills[c], level=lv)
                for c, lv in targets.items()
                if c in skills
            ]
            session.add(profile)


def _ensure_projects(
    session: Session, skills: dict[str, Skill], engineers: list[User], today: date
) -> bool:
    """Create the projects that are missing; True when any was created."""
    created = False
    for i, (name, (team_name, weeks, needs)) in enumerate(PROJECTS.items()):
        if session.scalar(select(Project).where(Project.name == name)) is not None:
            continue
        created = True
        team = accounts.get_or_create_team(session, team_name)
        project = Project(
            name=name,
            team=team,
            start_date=today + timedelta(weeks=weeks),
            description=f"{name}: a demo project of the {team_name} team.",
        )
        project.requirements = [
            ProjectRequirement(skill=skills[c], min_level=lv, headcount=n, importance=imp)
            for c, lv, n, imp in needs
            if c in skills
        ]
        members = [e for e in engineers if team.id in {m.team_id for m in e.memberships}]
        project.assignments = [
            ProjectAssignment(user=e, allocation_pct=50) for e in members[i % 2 :: 2][:2]
        ]
        session.add(project)
    return created


def _add_evidence(
    session: Session, skills: dict[str, Skill], engineers: list[User], rng: random.Random
) -> None:
    now = datetime.now(UTC)
    codes = sorted(skills)
    managers = {
        m.team_id: m.user_id
        for e in engineers
        for m in e.memberships[0].team.memberships
        if m.is_manager
    }
    for engineer in engineers:
        manager_id = managers.get(engineer.memberships[0].team_id)
        for code in rng.sample(codes, k=min(5, len(codes))):
            when = now - timedelta(days=rng.randint(5, 400))
            claimed = rng.randint(1, 4)
            session.add(
                SkillEvidence(
                    user_id=engineer.id,
                    skill_id=skills[code].id,
                    level=claimed,
                    source=EvidenceSource.SELF.value,
                    recorded_by_id=engineer.id,
                    recorded_at=when,
                    note="Self-assessment (demo data)",
                )
            )
            if manager_id and rng.random() < 0.5:
                session.add(
                    SkillEvidence(
                        user_id=engineer.id,
                        skill_id=skills[code].id,
                        level=max(1, claimed - rng.randint(0, 1)),
                        source=EvidenceSource.MANAGER.value,
                        recorded_by_id=manager_id,
                        recorded_at=when + timedelta(days=3),
                        note="Manager assessment (demo data)",
                    )
                )


def _add_workshop_progress(session: Session, engineers: list[User], rng: random.Random) -> None:
    """Graded attempts for two thirds of the engineers, some of them passes (demo data: the
    attempts record results without running the grader, and show no graded notebook)."""
    versions = session.scalars(
        select(NotebookVersion)
        .join(Notebook, Notebook.id == NotebookVersion.notebook_id)
        .where(Notebook.current_hash == NotebookVersion.content_hash, Notebook.archived.is_(False))
        .order_by(Notebook.workshop_id, Notebook.position)
    ).all()
    with_prerequisites = set(session.scalars(select(WorkshopPrerequisite.workshop_id)))
    by_workshop: dict[int, list[NotebookVersion]] = {}
    for version in versions:  # entry workshops only: the demo respects prerequisites
        if version.notebook.workshop_id not in with_prerequisites:
            by_workshop.setdefault(version.notebook.workshop_id, []).append(version)
    if not by_workshop:
        return
    for engineer in engineers[: len(engineers) * 2 // 3]:
        for workshop_id in rng.sample(sorted(by_workshop), k=min(2, len(by_workshop))):
            skill = rng.choice([0.35, 0.7, 1.0])  # how well this engineer does here
            for version in by_workshop[workshop_id]:
                _demo_attempt(session, engineer, version, skill, rng)


def _demo_attempt(
    session: Session, engineer: User, version: NotebookVersion, skill: float, rng: random.Random
) -> None:
    cells = tuple(
        submissions.CellOutcome(
            ex.grade_id,
            ex.points if passed else 0.0,
            ex.points,
            "passed" if passed else "failed",
            None if passed else "AssertionError (demo data)",
        )
        for ex in version.exercises
        if ex.kind == "auto"
        for passed in [rng.random() < skill]
    )
    nb = nbformat.from_dict(version.student)
    attempt = submissions.create_submission(
        session, user=engineer, version=version, nb=nb, mode="final"
    )
    attempt.status = "running"
    submissions.record_outcome(session, attempt, submissions.Outcome(cells, (), {}, "demo", "demo"))
    progress.update_progress(session, attempt)
