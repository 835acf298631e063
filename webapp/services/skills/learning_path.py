"""Gaps and learning paths: what an engineer lacks, and the workshops that close it, in order.

Gaps come from two places: the requirements of the projects the engineer is assigned to (planned or
active ones) and the target role profile they chose. The path is a pure function over the
workshop graph: for each gap the workshop that verifies the skill at the target level with the
least overshoot (then the fewest hours), plus every prerequisite not yet passed, in prerequisite
order (ties by title), with total hours. Passed workshops are never proposed again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from webapp.db import Session
from webapp.models import (
    Project,
    ProjectAssignment,
    ProjectRequirement,
    RoleProfile,
    RoleProfileSkill,
    Skill,
    Workshop,
    WorkshopPrerequisite,
    WorkshopProgress,
    WorkshopSkill,
)
from webapp.models.staffing import OPEN_PROJECT_STATUSES
from webapp.services.skills.estimates import EstimateSettings, SkillEstimate, load_estimates

OPEN_PROJECTS = OPEN_PROJECT_STATUSES


@dataclass(frozen=True)
class Gap:
    """A skill below the level a project or the target profile asks for."""

    skill_id: int
    skill_name: str
    current: int  # 0 when there is no evidence at all
    target: int
    reasons: tuple[str, ...]  # "Churn model", "Profile: ML engineer"


@dataclass(frozen=True)
class WorkshopNode:
    id: int
    slug: str
    title: str
    hours: float
    skills: Mapping[int, int]  # skill id -> level a pass verifies
    requires: tuple[int, ...] = ()


@dataclass(frozen=True)
class LearningPath:
    steps: tuple[WorkshopNode, ...]
    total_hours: float
    uncovered: tuple[Gap, ...] = field(default=())  # gaps no workshop verifies

    @property
    def next_step(self) -> WorkshopNode | None:
        return self.steps[0] if self.steps else None


def find_gaps(
    requirements: Iterable[tuple[int, str, int, str]],
    estimates: Mapping[int, SkillEstimate],
) -> list[Gap]:
    """Gaps from (skill id, skill name, target level, reason) and the engineer's estimates by skill.

    Several requirements on one skill keep the highest target and list every reason.
    """
    targets: dict[int, tuple[str, int, list[str]]] = {}
    for skill_id, name, level, reason in requirements:
        _, best, reasons = targets.get(skill_id, (name, 0, []))
        targets[skill_id] = (name, max(best, level), [*reasons, reason])
    gaps = []
    for skill_id, (name, target, reasons) in targets.items():
        est = estimates.get(skill_id)
        current = est.level if est else 0
        if current < target:
            gaps.append(Gap(skill_id, name, current, target, tuple(dict.fromkeys(reasons))))
    return sorted(gaps, key=lambda g: (g.current - g.target, g.skill_name))


def best_workshop_for(
    workshops: Iterable[WorkshopNode], skill_id: int, level: int, passed: Collection[int] = ()
) -> WorkshopNode | None:
    """The workshop verifying ``skill_id`` at ``level`` or above with the least overshoot.

    When none reaches the level, the one verifying the highest level below it.
    """
    candidates = [w for w in workshops if skill_id in w.skills and w.id not in passed]
    if not candidates:
        return None
    reaching = [w for w in candidates if w.skills[skill_id] >= level]
    if reaching:
        return min(reaching, key=lambda w: (w.skills[skill_id], w.hours, w.title))
    return max(candidates, key=lambda w: (w.skills[skill_id], -w.hours, w.title))


def plan_path(
    gaps: Iterable[Gap], workshops: Iterable[WorkshopNode], passed: Collection[int]
) -> LearningPath:
    """The workshops closing ``gaps``, prerequisites first, skipping the ``passed`` ones."""
    by_id = {w.id: w for w in workshops}
    chosen: set[int] = set()
    uncovered = []
    for gap in gaps:
        shop = best_workshop_for(by_id.values(), gap.skill_id, gap.target, passed)
        if shop is None:
            uncovered.append(gap)
        else:
            chosen |= _with_prerequisites(shop.id, by_id, passed)
    steps = _prerequisite_order(chosen, by_id)
    return LearningPath(
        steps=tuple(steps),
        total_hours=round(sum(w.hours for w in steps), 2),
        uncovered=tuple(uncovered),
    )


def _with_prerequisites(
    start: int, by_id: Mapping[int, WorkshopNode], passed: Collection[int]
) -> set[int]:
    seen: set[int] = set()
    stack = [start]
    while stack:
        wid = stack.pop()
        if wid in seen or wid in passed or wid not in by_id:
            continue
        seen.add(wid)
        stack.extend(by_id[wid].requires)
    return seen


def _prerequisite_order(chosen: set[int], by_id: Mapping[int, WorkshopNode]) -> list[WorkshopNode]:
    """Kahn's topological order within ``chosen``; a cycle (a catalog bug) keeps title order."""
    pending = {w: {r for r in by_id[w].requires if r in chosen} for w in chosen}
    order: list[WorkshopNode] = []
    while pending:
        ready = sorted((w for w, reqs in pending.items() if not reqs), key=lambda w: by_id[w].title)
        if not ready:  # a cycle: take the rest by title rather than loop forever
            ready = sorted(pending, key=lambda w: by_id[w].title)
        for wid in ready:
            order.append(by_id[wid])
            del pending[wid]
        for reqs in pending.values():
            reqs.difference_update(ready)
    return order


# --- loaders -------------------------------------------------------------------------------


def load_workshop_graph(session: Session) -> list[WorkshopNode]:
    """Every workshop that is not archived, with the skills it verifies and its prerequisites."""
    shops = session.execute(
        select(Workshop.id, Workshop.slug, Workshop.title, Workshop.hours).where(
            Workshop.archived.is_(False)
        )
    ).all()
    skills: dict[int, dict[int, int]] = {}
    for wid, sid, level in session.execute(
        select(WorkshopSkill.workshop_id, WorkshopSkill.skill_id, WorkshopSkill.level)
    ):
        skills.setdefault(wid, {})[sid] = level
    requires: dict[int, list[int]] = {}
    for wid, rid in session.execute(
        select(WorkshopPrerequisite.workshop_id, WorkshopPrerequisite.required_id)
    ):
        requires.setdefault(wid, []).append(rid)
    return [
        WorkshopNode(
            wid, slug, title, float(hours), skills.get(wid, {}), tuple(requires.get(wid, []))
        )
        for wid, slug, title, hours in shops
    ]


def engineer_gaps(
    session: Session,
    *,
    user_id: int,
    profile_id: int | None,
    now: datetime,
    settings: EstimateSettings,
) -> list[Gap]:
    """The engineer's gaps against their open projects and target profile, biggest first."""
    found = load_estimates(session, user_ids=[user_id], now=now, settings=settings)
    return find_gaps(
        requirements_for(session, user_id, profile_id),
        {skill_id: est for (_uid, skill_id), est in found.items()},
    )


def biggest_gap_workshop(
    session: Session,
    *,
    user_id: int,
    profile_id: int | None,
    now: datetime,
    settings: EstimateSettings,
) -> tuple[Gap, WorkshopNode] | None:
    """The biggest gap a workshop not yet passed closes, and that workshop; None when none does."""
    gaps = engineer_gaps(
        session, user_id=user_id, profile_id=profile_id, now=now, settings=settings
    )
    if not gaps:
        return None
    graph = load_workshop_graph(session)
    passed = passed_workshop_ids(session, user_id)
    for gap in gaps:
        shop = best_workshop_for(graph, gap.skill_id, gap.target, passed)
        if shop is not None:
            return gap, shop
    return None


def passed_workshop_ids(session: Session, user_id: int) -> set[int]:
    return set(
        session.scalars(
            select(WorkshopProgress.workshop_id).where(
                WorkshopProgress.user_id == user_id, WorkshopProgress.passed_at.is_not(None)
            )
        )
    )


def requirements_for(
    session: Session, user_id: int, profile_id: int | None
) -> list[tuple[int, str, int, str]]:
    """(skill id, skill name, level, reason) from assigned open projects and the target profile."""
    projects = session.execute(
        select(Skill.id, Skill.name, ProjectRequirement.min_level, Project.name)
        .join(ProjectRequirement, ProjectRequirement.skill_id == Skill.id)
        .join(Project, Project.id == ProjectRequirement.project_id)
        .join(ProjectAssignment, ProjectAssignment.project_id == Project.id)
        .where(ProjectAssignment.user_id == user_id, Project.status.in_(OPEN_PROJECTS))
    ).all()
    rows = [(sid, name, level, f"Project: {pname}") for sid, name, level, pname in projects]
    if profile_id is not None:
        profile = session.execute(
            select(Skill.id, Skill.name, RoleProfileSkill.level, RoleProfile.name)
            .join(RoleProfileSkill, RoleProfileSkill.skill_id == Skill.id)
            .join(RoleProfile, RoleProfile.id == RoleProfileSkill.profile_id)
            .where(RoleProfile.id == profile_id)
        ).all()
        rows += [(sid, name, level, f"Profile: {pname}") for sid, name, level, pname in profile]
    return rows
