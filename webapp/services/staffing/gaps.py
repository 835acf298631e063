"""Staffing gaps: each requirement against the people assigned to its project and their levels.

A requirement asks for ``headcount`` people at ``min_level`` or above. The people counted are
those assigned to the project whose current estimate reaches the level and whose time allows the
role, each toward one requirement of the project at most (``availability``: the capacity rules
the optimiser plans with); the gap is the number of slots left (``missing``) and the level
shortfall of the best unqualified assignees holding no role there. The computation is a pure
function over arrays; the loader beside it makes four SQL queries (the requirements, every
assignee joined to their deciding evidence by the one level rule in ``skills.levels``, then the
assignees' availability and assignments), so an organisation-wide report costs the same number of
round trips as one project.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Row, and_, select

from webapp.db import Session
from webapp.models import (
    Project,
    ProjectAssignment,
    ProjectRequirement,
    Skill,
    Team,
    User,
)
from webapp.services.access import policy
from webapp.services.rows import labelled, rows_into
from webapp.services.skills import levels
from webapp.services.staffing import availability
from webapp.services.staffing.records import OPEN_STATUSES


@dataclass(frozen=True)
class RequirementRow:
    """One requirement as loaded: plain values only."""

    id: int
    project_id: int
    project_name: str
    team_id: int
    team_name: str
    start_date: date
    skill_id: int
    skill_name: str
    min_level: int
    headcount: int
    importance: int
    allocation_pct: int


@dataclass(frozen=True)
class Assignee:
    """A person on a project with their level in one requirement's skill (0: no evidence;
    None: hidden from the viewer, who does not manage any of their teams). ``qualified``: they
    count toward this requirement; ``held`` names the requirement (skill) they count toward
    instead, ``no_time`` says the role asks more time than they have free."""

    user_id: int
    name: str
    level: int | None
    qualified: bool
    held: str = ""
    no_time: bool = False

    @property
    def hidden(self) -> bool:
        return self.level is None


@dataclass(frozen=True)
class RequirementGap:
    """A requirement and how far its project's people are from it."""

    req: RequirementRow
    qualified: int  # assignees at the level or above
    missing: int  # slots still open
    shortfall: int  # levels missing, summed over the open slots' best assignees (or the level)
    assignees: tuple[Assignee, ...] = ()
    not_counted: int = 0  # people on the project whose levels the viewer may not see

    @property
    def met(self) -> bool:
        return self.missing == 0


def compute_gaps(
    reqs: Sequence[RequirementRow],
    pair_req: np.ndarray,
    pair_level: np.ndarray,
    holds: np.ndarray | None = None,
    busy: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per requirement: qualified count, open slots and level shortfall.

    ``pair_req`` indexes ``reqs`` for each (requirement, assignee) pair and ``pair_level`` is the
    assignee's level in the requirement's skill; ``holds`` marks the pairs that count (default:
    the level is reached) and ``busy`` the pairs whose person counts toward another requirement
    of the project. An open slot is charged the shortfall of the best unqualified assignee still
    free, or the whole level when nobody is left.
    """
    n = len(reqs)
    need = np.array([r.min_level for r in reqs], dtype=np.int64).reshape(n)
    heads = np.array([r.headcount for r in reqs], dtype=np.int64).reshape(n)
    pair_req = np.asarray(pair_req, dtype=np.int64)
    pair_level = np.asarray(pair_level, dtype=np.int64)
    ok = pair_level >= need[pair_req] if len(pair_req) else np.zeros(0, dtype=bool)
    counted = ok if holds is None else holds
    qualified = np.bincount(pair_req[counted], minlength=n)
    missing = np.maximum(heads - qualified, 0)
    shortfall = missing * need
    # Credit the best unqualified assignees: sort by (requirement, level desc) and rank them.
    idx = np.flatnonzero(~ok if busy is None else ~ok & ~busy)
    if len(idx):
        order = idx[np.lexsort((-pair_level[idx], pair_req[idx]))]
        r = pair_req[order]
        first = np.r_[0, np.flatnonzero(np.diff(r)) + 1]
        rank = np.arange(len(r)) - np.repeat(first, np.diff(np.r_[first, len(r)]))
        use = rank < missing[r]
        np.subtract.at(shortfall, r[use], pair_level[order][use])
    return qualified, missing, shortfall


def load_requirements(
    session: Session,
    *,
    team_ids: Collection[int] | None = None,
    project_ids: Collection[int] | None = None,
) -> list[RequirementRow]:
    """Requirements of open projects (planned or active), ordered by start date and importance."""
    query = (
        select(
            *labelled(
                RequirementRow,
                id=ProjectRequirement.id,
                project_id=Project.id,
                project_name=Project.name,
                team_id=Team.id,
                team_name=Team.name,
                start_date=Project.start_date,
                skill_id=Skill.id,
                skill_name=Skill.name,
                min_level=ProjectRequirement.min_level,
                headcount=ProjectRequirement.headcount,
                importance=ProjectRequirement.importance,
                allocation_pct=ProjectRequirement.allocation_pct,
            )
        )
        .join(Project, Project.id == ProjectRequirement.project_id)
        .join(Team, Team.id == Project.team_id)
        .join(Skill, Skill.id == ProjectRequirement.skill_id)
        .order_by(
            Project.start_date, Project.name, ProjectRequirement.importance.desc(), Skill.name
        )
    )
    if project_ids is not None:
        query = query.where(Project.id.in_(list(project_ids)))
    else:
        query = query.where(Project.status.in_(OPEN_STATUSES))
    if team_ids is not None:
        query = query.where(Project.team_id.in_(list(team_ids)))
    return rows_into(RequirementRow, session.execute(query))


def _pairs_with_evidence(session: Session, req_ids: list[int]) -> Sequence[Row[Any]]:
    """(requirement, assignee, name, level, source, recorded_at): each pair joined to its deciding
    evidence by the level rule's SQL half, up to one row per source, or one row of nulls."""
    r, a = ProjectRequirement, ProjectAssignment
    chosen = select(r.project_id).where(r.id.in_(req_ids))
    deciding = levels.deciding_rows(
        user_ids=select(a.user_id).where(a.project_id.in_(chosen)),
        skill_ids=select(r.skill_id).where(r.id.in_(req_ids)),
    ).subquery()
    ev = deciding.c
    return session.execute(
        select(r.id, a.user_id, User.display_name, ev.level, ev.source, ev.recorded_at)
        .join(a, a.project_id == r.project_id)
        .join(User, User.id == a.user_id)
        .outerjoin(deciding, and_(ev.user_id == a.user_id, ev.skill_id == r.skill_id))
        .where(r.id.in_(req_ids))
    ).all()


def _assignment_pairs(
    session: Session, reqs: Sequence[RequirementRow]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, str]]:
    """(requirement index, user id, level) for everyone on each requirement's project: one query,
    then the level rule's pure half (0 without evidence)."""
    index = {req.id: i for i, req in enumerate(reqs)}
    rows = _pairs_with_evidence(session, list(index))
    skill_of = {row.id: reqs[index[row.id]].skill_id for row in rows}
    evidence = (
        levels.EvidenceRow(row.user_id, skill_of[row.id], row.level, row.source, row.recorded_at)
        for row in rows
        if row.level is not None
    )
    found = {key: picked.level for key, picked in levels.combine(evidence).items()}
    pairs = dict.fromkeys((row.id, row.user_id) for row in rows)
    names = {row.user_id: row.display_name for row in rows}
    pair_req = np.array([index[req_id] for req_id, _ in pairs], dtype=np.int64)
    pair_user = np.array([uid for _, uid in pairs], dtype=np.int64)
    pair_level = np.array(
        [found.get((uid, skill_of[req_id]), 0) for req_id, uid in pairs], dtype=np.int64
    )
    return pair_req, pair_user, pair_level, names


def gaps(
    session: Session,
    *,
    viewer: User | None,
    team_ids: Collection[int] | None = None,
    project_ids: Collection[int] | None = None,
    with_assignees: bool = False,
) -> list[RequirementGap]:
    """The gap of every requirement of the selected projects (open projects of the teams), as
    ``viewer`` may see it (None: the whole organisation, for the command line).

    Only the people whose levels the viewer may see (``policy.people_scope``) count in the
    figures; anyone else on a project is listed by name and counted in ``not_counted``, so no
    figure reveals their level.
    """
    reqs = load_requirements(session, team_ids=team_ids, project_ids=project_ids)
    if not reqs:
        return []
    pair_req, pair_user, pair_level, names = _assignment_pairs(session, reqs)
    scope = None if viewer is None else policy.people_scope(session, viewer)
    counted = np.ones(len(pair_user), dtype=bool)
    if scope is not None:
        counted = np.isin(pair_user, np.fromiter(scope, dtype=np.int64, count=len(scope)))
    holds, busy, no_time = _one_role_within_time(
        session, reqs, pair_req, pair_user, pair_level, counted
    )
    qualified, missing, shortfall = compute_gaps(
        reqs, pair_req[counted], pair_level[counted], holds[counted], busy[counted]
    )
    not_counted = np.bincount(pair_req[~counted], minlength=len(reqs))
    people: dict[int, list[Assignee]] = {}
    if with_assignees:
        held = {
            (reqs[r].project_id, u): reqs[r].skill_name
            for r, u in zip(pair_req[holds].tolist(), pair_user[holds].tolist(), strict=True)
        }
        for i, (r, u, lv, seen) in enumerate(
            zip(pair_req.tolist(), pair_user.tolist(), pair_level.tolist(), counted, strict=True)
        ):
            level = lv if seen else None
            other = "" if holds[i] or not busy[i] else held[reqs[r].project_id, u]
            person = Assignee(u, names[u], level, bool(holds[i]), other, bool(no_time[i]))
            people.setdefault(r, []).append(person)
    return [
        RequirementGap(
            req,
            int(qualified[i]),
            int(missing[i]),
            int(shortfall[i]),
            tuple(sorted(people.get(i, []), key=_assignee_order)),
            int(not_counted[i]),
        )
        for i, req in enumerate(reqs)
    ]


def _one_role_within_time(
    session: Session,
    reqs: Sequence[RequirementRow],
    pair_req: np.ndarray,
    pair_user: np.ndarray,
    pair_level: np.ndarray,
    counted: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: (counts toward this requirement, counts toward another one of the project,
    qualified but the role asks more time than they have free), among the ``counted`` pairs."""
    loads = availability.load_people(session, pair_user[counted].tolist())
    need = np.array([r.min_level for r in reqs], dtype=np.int64)
    qualified = counted & (pair_level >= need[pair_req])
    fits = np.array(
        [
            bool(ok) and loads[u].fits(reqs[r].project_id, reqs[r].allocation_pct)
            for r, u, ok in zip(pair_req.tolist(), pair_user.tolist(), qualified, strict=True)
        ],
        dtype=bool,
    ).reshape(len(pair_req))
    projects = [r.project_id for r in reqs]
    heads = [r.headcount for r in reqs]
    holds = availability.count_once(pair_req, pair_user, qualified & fits, projects, heads)
    holding = {
        (projects[r], u)
        for r, u in zip(pair_req[holds].tolist(), pair_user[holds].tolist(), strict=True)
    }
    busy = (
        np.array(
            [
                (projects[r], u) in holding
                for r, u in zip(pair_req.tolist(), pair_user.tolist(), strict=True)
            ],
            dtype=bool,
        ).reshape(len(pair_req))
        & ~holds
    )
    return holds, busy, qualified & ~fits


def _assignee_order(a: Assignee) -> tuple[int, str]:
    """Highest level first, people whose level is hidden last, then by name."""
    return (-(a.level if a.level is not None else -1), a.name)


@dataclass(frozen=True)
class ProjectSummary:
    project_id: int
    project_name: str
    team_name: str
    start_date: date
    requirements: int
    slots: int
    missing: int
    shortfall: int


@dataclass(frozen=True)
class SkillSummary:
    skill_id: int
    skill_name: str
    projects: int
    missing: int
    shortfall: int


def by_project(rows: Sequence[RequirementGap]) -> list[ProjectSummary]:
    """Roll requirement gaps up per project, the projects missing most people first."""
    out: dict[int, list[RequirementGap]] = {}
    for g in rows:
        out.setdefault(g.req.project_id, []).append(g)
    summaries = [
        ProjectSummary(
            pid,
            gs[0].req.project_name,
            gs[0].req.team_name,
            gs[0].req.start_date,
            len(gs),
            sum(g.req.headcount for g in gs),
            sum(g.missing for g in gs),
            sum(g.shortfall for g in gs),
        )
        for pid, gs in out.items()
    ]
    return sorted(summaries, key=lambda s: (-s.missing, s.start_date, s.project_name))


def projects_not_fully_counted(rows: Sequence[RequirementGap]) -> int:
    """How many of the projects have people whose levels the viewer may not see (not counted)."""
    return len({g.req.project_id for g in rows if g.not_counted})


def by_skill(rows: Sequence[RequirementGap]) -> list[SkillSummary]:
    """Roll unmet requirements up per skill: where the organisation is short of people."""
    out: dict[int, list[RequirementGap]] = {}
    for g in rows:
        if g.missing:
            out.setdefault(g.req.skill_id, []).append(g)
    summaries = [
        SkillSummary(
            sid,
            gs[0].req.skill_name,
            len({g.req.project_id for g in gs}),
            sum(g.missing for g in gs),
            sum(g.shortfall for g in gs),
        )
        for sid, gs in out.items()
    ]
    return sorted(summaries, key=lambda s: (-s.missing, s.skill_name))
