"""Seeded generator of synthetic organisations (engineers, workshops, requirements)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from webapp.services.planning.decompose import Part
from webapp.services.planning.optimiser_model import EngineerIn, RequirementIn, WorkshopIn

TODAY = date(2025, 1, 6)
TEAM_SIZE = 25


@dataclass(frozen=True)
class Org:
    """One generated organisation; `today` is the date plans are made on."""

    engineers: tuple[EngineerIn, ...]
    workshops: tuple[WorkshopIn, ...]
    requirements: tuple[RequirementIn, ...]
    today: date = TODAY
    parts: tuple[Part, ...] = ()  # teams of TEAM_SIZE engineers, each owning some projects


def _workshops(rng: random.Random, n_skills: int) -> list[WorkshopIn]:
    """Per skill a ladder of levels 1..4 plus an intensive course straight to level 3."""
    out: list[WorkshopIn] = []
    for s in range(1, n_skills + 1):
        for level in range(1, 5):
            wid = s * 10 + level
            prereq_ws: frozenset[int] = frozenset()
            prereq_lv: dict[int, int] = {}
            if level > 1 and rng.random() < 0.6:
                prereq_ws = frozenset({wid - 1})
            elif level > 1:
                prereq_lv[s] = level - 1
            if level >= 3 and s > 1 and rng.random() < 0.25:
                prereq_lv[rng.randint(1, s - 1)] = 2  # cross-skill foundation, lower id: no cycle
            hours = float(rng.choice([4, 6, 8, 8, 12, 16]))
            title = f"Skill {s} level {level}"
            out.append(WorkshopIn(wid, title, hours, {s: level}, prereq_ws, prereq_lv))
        hours = float(rng.choice([16, 20, 24]))
        out.append(
            WorkshopIn(s * 10 + 5, f"Skill {s} intensive", hours, {s: 3}, frozenset(), {s: 1})
        )
    return out


def _engineers(rng: random.Random, n: int, n_skills: int, n_projects: int) -> list[EngineerIn]:
    out: list[EngineerIn] = []
    for i in range(1, n + 1):
        skills = rng.sample(range(1, n_skills + 1), k=min(n_skills, rng.randint(1, 4)))
        levels = {s: rng.choice([1, 1, 1, 2, 2, 2, 3, 4]) for s in skills}
        passed = frozenset(
            s * 10 + lvl
            for s, top in levels.items()
            for lvl in range(1, top + 1)
            if rng.random() < 0.5
        )
        projects: dict[int, int] = {}
        allocated = rng.choice([0, 20, 50, 80, 100, 100, 100])
        if rng.random() < 0.3:
            projects = {rng.randint(1, n_projects): 50}
            allocated = max(allocated, 50)
        out.append(
            EngineerIn(i, f"Engineer {i}", levels, passed, allocated, frozenset(projects), projects)
        )
    return out


def _requirements(
    rng: random.Random, n_slots: int, n_skills: int, n_projects: int
) -> list[RequirementIn]:
    starts = {p: TODAY + timedelta(weeks=rng.randint(2, 26)) for p in range(1, n_projects + 1)}
    out: list[RequirementIn] = []
    slots = 0
    while slots < n_slots:
        project, skill = rng.randint(1, n_projects), rng.randint(1, n_skills)
        headcount = min(rng.randint(1, 3), n_slots - slots)
        out.append(
            RequirementIn(
                id=len(out) + 1,
                project_id=project,
                project_name=f"Project {project}",
                skill_id=skill,
                skill_name=f"Skill {skill}",
                min_level=rng.choice([3, 3, 4, 4, 4]),
                headcount=headcount,
                importance=rng.randint(1, 5),
                allocation_pct=rng.choice([50, 100]),
                start_date=starts[project],
            )
        )
        slots += headcount
    return out


def generate_org(n_engineers: int, n_slots: int, *, seed: int = 0) -> Org:
    """An organisation with `n_engineers` engineers and requirements totalling `n_slots` slots."""
    rng = random.Random(seed)
    n_skills = min(40, max(6, n_slots // 3))
    n_projects = max(2, n_slots // 10)
    workshops = _workshops(rng, n_skills)
    engineers = _engineers(rng, n_engineers, n_skills, n_projects)
    requirements = _requirements(rng, n_slots, n_skills, n_projects)
    n_teams = max(1, n_engineers // TEAM_SIZE)
    parts = tuple(
        Part(
            frozenset(e.id for e in engineers if (e.id - 1) // TEAM_SIZE % n_teams == t),
            frozenset(r.id for r in requirements if (r.project_id - 1) % n_teams == t),
        )
        for t in range(n_teams)
    )
    return Org(tuple(engineers), tuple(workshops), tuple(requirements), parts=parts)
