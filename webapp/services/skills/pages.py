"""Read models for the skill pages: an engineer's skills and history, and a team's matrix.

The team matrix is built from one estimate query for the team's engineers, then held as numpy
arrays (engineers × skills) so coverage, sorting and bus-factor counts are vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from webapp.db import Session
from webapp.models import (
    ProficiencyLevel,
    Project,
    ProjectAssignment,
    ProjectRequirement,
    RoleProfile,
    Skill,
    SkillCategory,
    SkillEvidence,
    Team,
    TeamMembership,
    User,
)
from webapp.services.errors import NotFound
from webapp.services.rows import labelled, rows_into
from webapp.services.skills.estimates import EstimateSettings, SkillEstimate, load_estimates
from webapp.services.skills.learning_path import OPEN_PROJECTS, WorkshopNode, best_workshop_for

COVERAGE_LEVEL = 3  # "holds the skill" means this level or above, unless a project says otherwise


@dataclass(frozen=True)
class SkillInfo:
    id: int
    code: str
    name: str
    category_id: int
    category: str


@dataclass(frozen=True)
class LevelInfo:
    level: int
    name: str
    descriptor: str


@dataclass(frozen=True)
class MySkillRow:
    skill: SkillInfo
    estimate: SkillEstimate
    reverify_with: WorkshopNode | None  # set when the verification is due


@dataclass(frozen=True)
class HistoryEntry:
    evidence_id: int
    skill_id: int
    skill_name: str
    level: int
    source: str
    recorded_at: datetime
    recorded_by: str | None
    note: str


def proficiency_levels(session: Session) -> list[LevelInfo]:
    columns = labelled(
        LevelInfo,
        level=ProficiencyLevel.level,
        name=ProficiencyLevel.name,
        descriptor=ProficiencyLevel.descriptor,
    )
    rows = session.execute(select(*columns).order_by(ProficiencyLevel.level))
    return rows_into(LevelInfo, rows)


def skill_catalog(session: Session, *, category_id: int | None = None) -> list[SkillInfo]:
    """Skills that are not archived, by category then name."""
    query = (
        select(
            *labelled(
                SkillInfo,
                id=Skill.id,
                code=Skill.code,
                name=Skill.name,
                category_id=Skill.category_id,
                category=SkillCategory.name,
            )
        )
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .where(Skill.archived.is_(False))
        .order_by(SkillCategory.name, Skill.name)
    )
    if category_id is not None:
        query = query.where(Skill.category_id == category_id)
    return rows_into(SkillInfo, session.execute(query))


def categories(session: Session) -> list[tuple[int, str]]:
    query = select(SkillCategory.id, SkillCategory.name).order_by(SkillCategory.name)
    return [(cid, name) for cid, name in session.execute(query)]


def role_profiles(session: Session) -> list[tuple[int, str]]:
    query = (
        select(RoleProfile.id, RoleProfile.name)
        .where(RoleProfile.archived.is_(False))
        .order_by(RoleProfile.name)
    )
    return [(pid, name) for pid, name in session.execute(query)]


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("That engineer does not exist.")
    return user


def set_target_profile(session: Session, *, actor: User, profile_id: int | None) -> None:
    """Choose (or clear, with None) the role profile the actor's gaps are measured against."""
    if profile_id is not None:
        profile = session.get(RoleProfile, profile_id)
        if profile is None or profile.archived:
            raise NotFound("That role profile does not exist; pick one from the list.")
    actor.target_profile_id = profile_id
    session.flush()


def engineer_skills(
    session: Session,
    user_id: int,
    *,
    now: datetime,
    settings: EstimateSettings,
    workshops: list[WorkshopNode],
) -> list[MySkillRow]:
    """Every skill the engineer has evidence for, with its estimate, by category and name."""
    estimates = load_estimates(session, user_ids=[user_id], now=now, settings=settings)
    catalog = {s.id: s for s in skill_catalog(session)}
    rows = []
    for (_, skill_id), est in estimates.items():
        if skill_id not in catalog:
            continue
        due_with = None
        if est.due_for_reverification and est.verified_level:
            due_with = best_workshop_for(workshops, skill_id, est.verified_level)
        rows.append(MySkillRow(catalog[skill_id], est, due_with))
    return sorted(rows, key=lambda r: (r.skill.category, r.skill.name))


def history(session: Session, user_id: int) -> list[HistoryEntry]:
    """All evidence of one engineer, by skill name then newest first; nothing is ever removed."""
    recorder = aliased(User)
    rows = session.execute(
        select(
            *labelled(
                HistoryEntry,
                evidence_id=SkillEvidence.id,
                skill_id=Skill.id,
                skill_name=Skill.name,
                level=SkillEvidence.level,
                source=SkillEvidence.source,
                recorded_at=SkillEvidence.recorded_at,
                recorded_by=recorder.display_name,
                note=SkillEvidence.note,
            )
        )
        .join(Skill, Skill.id == SkillEvidence.skill_id)
        .outerjoin(recorder, recorder.id == SkillEvidence.recorded_by_id)
        .where(SkillEvidence.user_id == user_id)
        .order_by(Skill.name, SkillEvidence.recorded_at.desc(), SkillEvidence.id.desc())
    )
    return rows_into(HistoryEntry, rows)


def teams_visible_to(session: Session, team_ids: set[int] | None) -> list[tuple[int, str, int]]:
    """(id, name, engineers) of the given teams, all when ``None`` (admins)."""
    engineers = func.count(TeamMembership.id).filter(TeamMembership.is_manager.is_(False))
    query = (
        select(Team.id, Team.name, engineers)
        .outerjoin(TeamMembership, TeamMembership.team_id == Team.id)
        .group_by(Team.id, Team.name)
        .order_by(Team.name)
    )
    if team_ids is not None:
        query = query.where(Team.id.in_(team_ids))
    return [(tid, name, int(n)) for tid, name, n in session.execute(query)]


def team_projects(session: Session, team_id: int) -> list[tuple[int, str]]:
    query = (
        select(Project.id, Project.name)
        .where(Project.team_id == team_id, Project.status.in_(OPEN_PROJECTS))
        .order_by(Project.name)
    )
    return [(pid, name) for pid, name in session.execute(query)]


def team_engineers(
    session: Session, team_id: int, *, project_id: int | None = None
) -> list[tuple[int, str]]:
    """(id, display name) of the team's engineers (not its managers), optionally on a project."""
    query = (
        select(User.id, User.display_name)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .where(
            TeamMembership.team_id == team_id,
            TeamMembership.is_manager.is_(False),
            User.active.is_(True),
        )
        .order_by(User.display_name, User.id)
    )
    if project_id is not None:
        query = query.join(
            ProjectAssignment,
            (ProjectAssignment.user_id == User.id) & (ProjectAssignment.project_id == project_id),
        )
    return [(uid, name) for uid, name in session.execute(query)]


def project_requirements(
    session: Session, project_ids: list[int]
) -> list[tuple[int, str, int, int, str]]:
    """(project id, project name, skill id, min level, skill name) of the given projects."""
    if not project_ids:
        return []
    return list(
        session.execute(
            select(
                Project.id,
                Project.name,
                ProjectRequirement.skill_id,
                ProjectRequirement.min_level,
                Skill.name,
            )
            .join(ProjectRequirement, ProjectRequirement.project_id == Project.id)
            .join(Skill, Skill.id == ProjectRequirement.skill_id)
            .where(Project.id.in_(project_ids))
            .order_by(Project.name, Skill.name)
        )
    )


def level_arrays(
    estimates: dict[tuple[int, int], SkillEstimate], user_ids: list[int], skill_ids: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(estimated levels, verified levels) as engineers × skills int arrays; 0 means none."""
    u_index = {u: i for i, u in enumerate(user_ids)}
    s_index = {s: j for j, s in enumerate(skill_ids)}
    level = np.zeros((len(user_ids), len(skill_ids)), dtype=np.int8)
    verified = np.zeros_like(level)
    keys = [
        (u_index[u], s_index[s], e)
        for (u, s), e in estimates.items()
        if u in u_index and s in s_index
    ]
    if keys:
        rows = np.fromiter((k[0] for k in keys), dtype=np.intp, count=len(keys))
        cols = np.fromiter((k[1] for k in keys), dtype=np.intp, count=len(keys))
        level[rows, cols] = [k[2].level for k in keys]
        verified[rows, cols] = [k[2].verified_level or 0 for k in keys]
    return level, verified


# --- the team matrix -----------------------------------------------------------------------


@dataclass(frozen=True)
class BusFactorWarning:
    project: str
    skill_name: str
    min_level: int
    verified_holders: int


@dataclass(frozen=True)
class TeamMatrix:
    """Engineers × skills; arrays hold levels (0 = no evidence), rows already sorted."""

    engineers: list[tuple[int, str]]
    skills: list[SkillInfo]
    levels: np.ndarray
    verified: np.ndarray
    claimed: np.ndarray
    due: np.ndarray
    thresholds: np.ndarray  # per skill: the level that counts as holding it
    coverage: list[tuple[int, int]] | None  # per skill (holders, verified); None: group too small
    warnings: list[BusFactorWarning]

    def cell(self, i: int, j: int) -> tuple[int, int, int, bool]:
        """(level, verified level, claimed level, due for re-verification) of one cell."""
        return (
            int(self.levels[i, j]),
            int(self.verified[i, j]),
            int(self.claimed[i, j]),
            bool(self.due[i, j]),
        )


@dataclass(frozen=True)
class MatrixQuery:
    category_id: int | None = None
    project_id: int | None = None
    sort_skill_id: int | None = None  # None: by name
    show_all: bool = False


def team_matrix(
    session: Session,
    team_id: int,
    query: MatrixQuery,
    *,
    now: datetime,
    settings: EstimateSettings,
    bus_factor_min: int,
    min_group: int,
) -> TeamMatrix:
    """The heatmap of a team (one estimate query), its coverage row and bus-factor warnings.

    Raises NotFound when the query's project is not one of the team's.
    """
    if query.project_id is not None:
        _check_team_project(session, team_id, query.project_id)
    everyone = team_engineers(session, team_id)
    shown = (
        team_engineers(session, team_id, project_id=query.project_id)
        if query.project_id is not None
        else everyone
    )
    estimates = load_estimates(
        session, user_ids=[u for u, _ in everyone], now=now, settings=settings
    )
    project_ids = (
        [query.project_id] if query.project_id else [p for p, _ in team_projects(session, team_id)]
    )
    needs = project_requirements(session, project_ids)
    skills = _matrix_skills(session, query, estimates, needs, {u for u, _ in shown})
    arrays = _arrays(estimates, [u for u, _ in shown], [s.id for s in skills])
    min_level = {sid: lvl for _, _, sid, lvl, _ in needs} if query.project_id else {}
    thresholds = np.array([min_level.get(s.id, COVERAGE_LEVEL) for s in skills], dtype=np.int8)
    order = _row_order(shown, skills, arrays[0], query.sort_skill_id)
    levels, verified, claimed, due = (a[order] for a in arrays)
    coverage = None
    if len(shown) >= min_group:
        holders = (levels >= thresholds).sum(axis=0)
        verified_holders = (verified >= thresholds).sum(axis=0)
        coverage = [(int(h), int(v)) for h, v in zip(holders, verified_holders, strict=True)]
    return TeamMatrix(
        engineers=[shown[i] for i in order],
        skills=skills,
        levels=levels,
        verified=verified,
        claimed=claimed,
        due=due,
        thresholds=thresholds,
        coverage=coverage,
        warnings=bus_factor_warnings(estimates, [u for u, _ in everyone], needs, bus_factor_min),
    )


def _check_team_project(session: Session, team_id: int, project_id: int) -> None:
    owner = session.scalar(select(Project.team_id).where(Project.id == project_id))
    if owner != team_id:
        team = session.get(Team, team_id)
        name = team.name if team is not None else "this team"
        raise NotFound(f"That is not a project of {name}; pick one of its projects from the list.")


def _matrix_skills(
    session: Session,
    query: MatrixQuery,
    estimates: dict[tuple[int, int], SkillEstimate],
    needs: list[tuple[int, str, int, int, str]],
    shown_ids: set[int],
) -> list[SkillInfo]:
    """The columns: the category's skills; with a project, its required ones; by default only
    skills someone shown holds or a project needs."""
    skills = skill_catalog(session, category_id=query.category_id)
    needed = {sid for _, _, sid, _, _ in needs}
    if query.project_id is not None:
        return [s for s in skills if s.id in needed]
    if query.show_all:
        return skills
    held = {s for u, s in estimates if u in shown_ids}
    return [s for s in skills if s.id in held or s.id in needed]


def _arrays(
    estimates: dict[tuple[int, int], SkillEstimate], user_ids: list[int], skill_ids: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    level, verified = level_arrays(estimates, user_ids, skill_ids)
    claimed = np.zeros_like(level)
    due = np.zeros(level.shape, dtype=bool)
    u_index = {u: i for i, u in enumerate(user_ids)}
    s_index = {s: j for j, s in enumerate(skill_ids)}
    for (u, s), est in estimates.items():
        if u in u_index and s in s_index:
            claimed[u_index[u], s_index[s]] = est.claimed_level or 0
            due[u_index[u], s_index[s]] = est.due_for_reverification
    return level, verified, claimed, due


def _row_order(
    engineers: list[tuple[int, str]],
    skills: list[SkillInfo],
    levels: np.ndarray,
    sort_skill_id: int | None,
) -> np.ndarray:
    """Row order: by name (the query's order), or by level in one skill, highest first."""
    index = np.arange(len(engineers))
    column = next((j for j, s in enumerate(skills) if s.id == sort_skill_id), None)
    if column is None or not len(engineers):
        return index
    return np.lexsort((index, -levels[:, column].astype(np.int16)))


def bus_factor_warnings(
    estimates: dict[tuple[int, int], SkillEstimate],
    team_user_ids: list[int],
    needs: list[tuple[int, str, int, int, str]],
    minimum: int,
) -> list[BusFactorWarning]:
    """Requirements that fewer than ``minimum`` of the team's engineers hold verified."""
    skill_ids = sorted({sid for _, _, sid, _, _ in needs})
    _, verified = level_arrays(estimates, team_user_ids, skill_ids)
    column = {s: j for j, s in enumerate(skill_ids)}
    warnings = []
    for _, project, sid, min_level, skill_name in needs:
        holders = int((verified[:, column[sid]] >= min_level).sum()) if team_user_ids else 0
        if holders < minimum:
            warnings.append(BusFactorWarning(project, skill_name, min_level, holders))
    return warnings
