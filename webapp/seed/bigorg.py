"""A large synthetic organisation for scale tests, written with bulk inserts.

``flask demo --engineers 5000 --skills 150 --projects 300`` builds about 200 teams of 25, with a
manager each, roughly 20 evidence rows per engineer (about 100,000 in all), a workshop ladder for
every generated skill, and projects with requirements and assignments. Skills beyond the
taxonomy are generated (codes ``gen-NNN``). Rows go in with ``insert()`` executemany batches,
never one ORM object at a time; building the largest size takes a minute or two on PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from webapp.db import Session
from webapp.models import (
    EvidenceSource,
    Project,
    ProjectAssignment,
    ProjectRequirement,
    Skill,
    SkillCategory,
    SkillEvidence,
    Team,
    TeamMembership,
    User,
    Workshop,
    WorkshopPrerequisite,
    WorkshopSkill,
)

BIG_DOMAIN = "big.skillforge-demo.com"
TEAM_SIZE = 25
BATCH = 5000


@dataclass(frozen=True)
class BigOrgSummary:
    teams: int
    engineers: int
    skills: int
    workshops: int
    projects: int
    requirements: int
    assignments: int
    evidence: int
    created: bool


def _bulk(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[start : start + BATCH])


def _skills(session: Session, wanted: int) -> list[int]:
    """Ids of ``wanted`` skills: the taxonomy's first, then generated ones."""
    ids = list(
        session.scalars(select(Skill.id).where(Skill.archived.is_(False)).order_by(Skill.id))
    )
    missing = wanted - len(ids)
    if missing > 0:
        category = session.scalar(select(SkillCategory).where(SkillCategory.code == "generated"))
        if category is None:
            category = SkillCategory(code="generated", name="Generated for scale tests")
            session.add(category)
            session.flush()
        start = len(ids) + 1
        rows = [
            {"code": f"gen-{n:03d}", "name": f"Generated skill {n:03d}", "category_id": category.id}
            for n in range(start, start + missing)
        ]
        _bulk(session, Skill, rows)
        ids = list(
            session.scalars(select(Skill.id).where(Skill.archived.is_(False)).order_by(Skill.id))
        )
    return ids[:wanted]


def _workshops(session: Session, skill_ids: list[int], rng: random.Random) -> int:
    """A ladder (levels 2, 3, 4; each needs the one below) for skills without any workshop."""
    covered = set(session.scalars(select(WorkshopSkill.skill_id)))
    todo = [s for s in skill_ids if s not in covered]
    rows = [
        {
            "slug": f"gen-{s}-l{level}",
            "title": f"Skill {s} level {level}",
            "summary": "Generated for scale tests.",
            "hours": float(rng.choice([4, 6, 8, 12])),
            "difficulty": "intermediate",
        }
        for s in todo
        for level in (2, 3, 4)
    ]
    _bulk(session, Workshop, rows)
    ids = dict(
        session.execute(select(Workshop.slug, Workshop.id).where(Workshop.slug.like("gen-%"))).all()
    )
    _bulk(
        session,
        WorkshopSkill,
        [
            {"workshop_id": ids[f"gen-{s}-l{lv}"], "skill_id": s, "level": lv}
            for s in todo
            for lv in (2, 3, 4)
        ],
    )
    _bulk(
        session,
        WorkshopPrerequisite,
        [
            {"workshop_id": ids[f"gen-{s}-l{lv}"], "required_id": ids[f"gen-{s}-l{lv - 1}"]}
            for s in todo
            for lv in (3, 4)
        ],
    )
    return len(rows)


def _people(
    session: Session, n: int, password_hash: str
) -> tuple[list[int], dict[int, list[int]], dict[int, int]]:
    """Teams of TEAM_SIZE engineers plus a manager; returns engineer ids, members and managers."""
    n_teams = max(1, -(-n // TEAM_SIZE))
    _bulk(session, Team, [{"name": f"Big Org {t:03d}"} for t in range(1, n_teams + 1)])
    team_ids = list(
        session.scalars(select(Team.id).where(Team.name.like("Big Org %")).order_by(Team.name))
    )
    users = [
        {
            "email": f"eng{i:05d}@{BIG_DOMAIN}",
            "display_name": f"Engineer {i:05d}",
            "password_hash": password_hash,
            "role": "engineer",
        }
        for i in range(1, n + 1)
    ] + [
        {
            "email": f"mgr{t:03d}@{BIG_DOMAIN}",
            "display_name": f"Manager {t:03d}",
            "password_hash": password_hash,
            "role": "manager",
        }
        for t in range(1, n_teams + 1)
    ]
    _bulk(session, User, users)
    ids = dict(
        session.execute(select(User.email, User.id).where(User.email.like(f"%@{BIG_DOMAIN}"))).all()
    )
    engineers = [ids[f"eng{i:05d}@{BIG_DOMAIN}"] for i in range(1, n + 1)]
    members = {t: engineers[k * TEAM_SIZE : (k + 1) * TEAM_SIZE] for k, t in enumerate(team_ids)}
    managers = {t: ids[f"mgr{k + 1:03d}@{BIG_DOMAIN}"] for k, t in enumerate(team_ids)}
    rows = [
        {"team_id": t, "user_id": u, "is_manager": False} for t, us in members.items() for u in us
    ]
    rows += [{"team_id": t, "user_id": m, "is_manager": True} for t, m in managers.items()]
    _bulk(session, TeamMembership, rows)
    return engineers, members, managers


def _evidence(
    session: Session,
    members: dict[int, list[int]],
    managers: dict[int, int],
    skill_ids: list[int],
    rng: random.Random,
) -> int:
    """About 20 rows per engineer: self-assessments, half re-assessed by the manager, re-dated."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for team, users in members.items():
        for user in users:
            for skill in rng.sample(skill_ids, k=min(len(skill_ids), 10)):
                when = now - timedelta(days=rng.randint(30, 700))
                level = rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5])
                rows.append(_ev(user, skill, level, "self", user, when))
                if rng.random() < 0.5:
                    later = when + timedelta(days=rng.randint(1, 25))
                    rows.append(
                        _ev(
                            user,
                            skill,
                            max(1, level - rng.randint(0, 1)),
                            "manager",
                            managers[team],
                            later,
                        )
                    )
                if rng.random() < 0.5:
                    rows.append(
                        _ev(user, skill, min(5, level + 1), "self", user, when + timedelta(days=28))
                    )
    _bulk(session, SkillEvidence, rows)
    return len(rows)


def _ev(user: int, skill: int, level: int, source: str, by: int, when: datetime) -> dict[str, Any]:
    return {
        "user_id": user,
        "skill_id": skill,
        "level": level,
        "source": EvidenceSource(source).value,
        "recorded_by_id": by,
        "recorded_at": when,
        "note": "Generated for scale tests",
    }


def _projects(
    session: Session,
    n: int,
    members: dict[int, list[int]],
    skill_ids: list[int],
    rng: random.Random,
    today: date,
) -> tuple[int, int]:
    team_ids = sorted(members)
    rows = [
        {
            "name": f"Big project {p:04d}",
            "team_id": team_ids[p % len(team_ids)],
            "start_date": today + timedelta(weeks=rng.randint(2, 26)),
            "status": rng.choice(["planned", "planned", "active"]),
            "description": "Generated for scale tests.",
        }
        for p in range(n)
    ]
    _bulk(session, Project, rows)
    projects = session.execute(
        select(Project.id, Project.team_id).where(Project.name.like("Big project %"))
    ).all()
    reqs: list[dict[str, Any]] = []
    assigned: list[dict[str, Any]] = []
    for pid, team in projects:
        for skill in rng.sample(skill_ids, k=min(len(skill_ids), rng.randint(3, 6))):
            reqs.append(
                {
                    "project_id": pid,
                    "skill_id": skill,
                    "min_level": rng.choice([2, 3, 3, 4]),
                    "headcount": rng.randint(1, 3),
                    "importance": rng.randint(1, 5),
                    "allocation_pct": rng.choice([50, 100]),
                }
            )
        for user in rng.sample(members[team], k=min(len(members[team]), rng.randint(2, 6))):
            assigned.append(
                {
                    "project_id": pid,
                    "user_id": user,
                    "allocation_pct": rng.choice([20, 50, 50, 100]),
                }
            )
    _bulk(session, ProjectRequirement, reqs)
    _bulk(session, ProjectAssignment, assigned)
    return len(reqs), len(assigned)


def build_big_org(
    session: Session,
    *,
    engineers: int,
    skills: int,
    projects: int,
    password_hash: str,
    seed: int = 11,
    today: date | None = None,
) -> BigOrgSummary:
    """Create the large organisation once; a second call finds it and changes nothing."""
    if session.scalar(select(Team.id).where(Team.name == "Big Org 001")) is not None:
        return BigOrgSummary(0, 0, 0, 0, 0, 0, 0, 0, created=False)
    rng = random.Random(seed)
    skill_ids = _skills(session, skills)
    n_workshops = _workshops(session, skill_ids, rng)
    engineer_ids, members, managers = _people(session, engineers, password_hash)
    n_evidence = _evidence(session, members, managers, skill_ids, rng)
    n_reqs, n_assigned = _projects(
        session, projects, members, skill_ids, rng, today or datetime.now(UTC).date()
    )
    session.flush()
    return BigOrgSummary(
        len(members),
        len(engineer_ids),
        len(skill_ids),
        n_workshops,
        projects,
        n_reqs,
        n_assigned,
        n_evidence,
        True,
    )
