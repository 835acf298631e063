"""The training plan: load the optimiser's inputs from the database, solve, explain in words.

``load_inputs`` turns a team (or the whole organisation) into the optimiser's dataclasses with a
handful of set-based queries; ``explain`` (its own module) turns a ``Plan`` into sentences a
manager can act on. Solving a team takes seconds at most; results are kept in a small cache keyed
by the inputs' digest, so a page shows the last plan until the data it was made from changes. That
cache lives in each process, so another web worker may not have a plan this one computed (issue 12
stores plans).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select

from webapp.db import Session
from webapp.models import (
    ProficiencyLevel,
    Project,
    ProjectAssignment,
    TeamMembership,
    User,
    Workshop,
    WorkshopPrerequisite,
    WorkshopProgress,
    WorkshopSkill,
    WorkshopSkillPrerequisite,
)
from webapp.services.cache import LRU
from webapp.services.planning.explain import PlanLine, UnfilledLine, describe_hire, explain
from webapp.services.planning.inputs import PlanInputs
from webapp.services.planning.optimiser import (
    EngineerIn,
    Plan,
    PlanSettings,
    RequirementIn,
    WorkshopImpact,
    WorkshopIn,
    plan_training,
    single_hire_whatif,
    workshop_impact,
)
from webapp.services.skills.levels import current_levels
from webapp.services.staffing.gaps import load_requirements
from webapp.services.staffing.records import OPEN_STATUSES


def _engineer_ids(session: Session, team_ids: Collection[int] | None) -> list[int]:
    """Active non-manager members of the teams (every active engineer when ``None``)."""
    query = select(TeamMembership.user_id).join(User, User.id == TeamMembership.user_id)
    query = query.where(User.active.is_(True), TeamMembership.is_manager.is_(False))
    if team_ids is not None:
        query = query.where(TeamMembership.team_id.in_(list(team_ids)))
    return sorted(set(session.scalars(query)))


def _engineers(session: Session, ids: list[int]) -> tuple[EngineerIn, ...]:
    if not ids:
        return ()
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    levels: dict[int, dict[int, int]] = {}
    for (uid, sid), level in current_levels(session, user_ids=ids).items():
        levels.setdefault(uid, {})[sid] = level
    passed: dict[int, set[int]] = {}
    for uid, wid in session.execute(
        select(WorkshopProgress.user_id, WorkshopProgress.workshop_id).where(
            WorkshopProgress.user_id.in_(ids), WorkshopProgress.passed_at.is_not(None)
        )
    ):
        passed.setdefault(uid, set()).add(wid)
    alloc: dict[int, int] = {}
    projects: dict[int, set[int]] = {}
    for uid, pid, pct in session.execute(
        select(ProjectAssignment.user_id, Project.id, ProjectAssignment.allocation_pct)
        .join(Project, Project.id == ProjectAssignment.project_id)
        .where(ProjectAssignment.user_id.in_(ids), Project.status.in_(OPEN_STATUSES))
    ):
        alloc[uid] = min(100, alloc.get(uid, 0) + pct)
        projects.setdefault(uid, set()).add(pid)
    return tuple(
        EngineerIn(
            uid,
            names[uid],
            levels.get(uid, {}),
            frozenset(passed.get(uid, ())),
            alloc.get(uid, 0),
            frozenset(projects.get(uid, ())),
        )
        for uid in ids
    )


def _workshops(session: Session) -> tuple[WorkshopIn, ...]:
    rows = session.execute(
        select(Workshop.id, Workshop.title, Workshop.hours)
        .where(Workshop.archived.is_(False))
        .order_by(Workshop.id)
    ).all()
    verifies: dict[int, dict[int, int]] = {}
    for wid, sid, lvl in session.execute(
        select(WorkshopSkill.workshop_id, WorkshopSkill.skill_id, WorkshopSkill.level)
    ):
        verifies.setdefault(wid, {})[sid] = lvl
    pre_ws: dict[int, set[int]] = {}
    for wid, rid in session.execute(
        select(WorkshopPrerequisite.workshop_id, WorkshopPrerequisite.required_id)
    ):
        pre_ws.setdefault(wid, set()).add(rid)
    pre_lv: dict[int, dict[int, int]] = {}
    sp = WorkshopSkillPrerequisite
    for wid, sid, lvl in session.execute(select(sp.workshop_id, sp.skill_id, sp.level)):
        pre_lv.setdefault(wid, {})[sid] = lvl
    return tuple(
        WorkshopIn(
            wid,
            title,
            float(hours),
            verifies[wid],
            frozenset(pre_ws.get(wid, ())),
            pre_lv.get(wid, {}),
        )
        for wid, title, hours in rows
        if verifies.get(wid)
    )


def load_inputs(session: Session, team_ids: Collection[int] | None) -> PlanInputs:
    """The optimiser's inputs for the teams' engineers and open projects (all when ``None``)."""
    reqs = tuple(
        RequirementIn(
            r.id,
            r.project_id,
            r.project_name,
            r.skill_id,
            r.skill_name,
            r.min_level,
            r.headcount,
            r.importance,
            r.allocation_pct,
            r.start_date,
        )
        for r in load_requirements(session, team_ids=team_ids)
    )
    levels = dict(session.execute(select(ProficiencyLevel.level, ProficiencyLevel.name)).all())
    engineers = _engineers(session, _engineer_ids(session, team_ids))
    return PlanInputs(engineers, _workshops(session), reqs, levels)


@dataclass(frozen=True)
class PlanReport:
    """A solved plan with everything the page, the CSV and the API show."""

    plan: Plan
    lines: tuple[PlanLine, ...]
    unfilled: tuple[UnfilledLine, ...]
    impacts: tuple[WorkshopImpact, ...]
    hires: tuple[str, ...]
    digest: str
    computed_at: datetime
    engineers: int
    slots: int

    @property
    def status_text(self) -> str:
        """The plan's quality in words, honest about what was proven."""
        if self.plan.status == "empty":
            return "There are no open requirements to plan for."
        gap = self.plan.gap
        if self.plan.status == "optimal":
            return (
                f"Optimal within {gap:.1%} of the best possible plan "
                "(among the few cheapest trainees per requirement that the optimiser considers)."
            )
        if gap == float("inf"):
            return "The time limit ran out before any plan was found; the plan fills no slot."
        return f"The time limit ran out: this plan may be up to {gap:.1%} worse than the best."


def solve(
    inputs: PlanInputs,
    settings: PlanSettings,
    *,
    what_ifs: bool = True,
    what_if_time_s: float = 2.0,
) -> PlanReport:
    """Solve the plan; with ``what_ifs``, also rank workshops by impact and try one more hire."""
    args = (inputs.engineers, inputs.workshops, inputs.requirements)
    plan = plan_training(*args, settings)
    lines, unfilled = explain(inputs, plan, settings)
    impacts: tuple[WorkshopImpact, ...] = ()
    hires: tuple[str, ...] = ()
    if what_ifs and plan.unfilled_slots:
        quick = replace(settings, time_limit_s=min(what_if_time_s, settings.time_limit_s))
        impacts = tuple(i for i in workshop_impact(*args, quick) if i.slots_closed)[:5]
        skills = {r.skill_id: r.skill_name for r in inputs.requirements}
        options = single_hire_whatif(*args, quick, max_profiles=4)
        hires = tuple(describe_hire(o, inputs, skills) for o in options[:3] if o.saving > 0)
    return PlanReport(
        plan,
        lines,
        unfilled,
        impacts,
        hires,
        inputs.digest(settings),
        datetime.now(UTC),
        len(inputs.engineers),
        sum(r.headcount for r in inputs.requirements),
    )


# The last plans, keyed by scope ("team:<id>") and the inputs' digest; per process, so each web
# worker keeps (and may have to solve) its own until plans are stored jobs (issue 12).
CACHE: LRU[tuple[str, str], PlanReport] = LRU(32)


def cached_or_solve(
    session: Session,
    team_id: int,
    settings: PlanSettings,
    *,
    solve_now: bool,
    what_if_time_s: float = 2.0,
) -> tuple[PlanInputs, PlanReport | None]:
    """The team's plan for the current data: from this process's cache, or solved now if asked."""
    inputs = load_inputs(session, [team_id])
    scope = f"team:{team_id}"
    report = CACHE.get((scope, inputs.digest(settings)))
    if report is None and solve_now:
        report = solve(inputs, settings, what_if_time_s=what_if_time_s)
        CACHE.put((scope, report.digest), report)
    return inputs, report


def team_ids_with_requirements(session: Session) -> list[int]:
    """Teams that own at least one open project with a requirement, for per-team solving."""
    return sorted({r.team_id for r in load_requirements(session)})


def combine(reports: list[tuple[int, PlanReport]]) -> dict[str, object]:
    """One JSON body for plans solved team by team: sums, the worst gap, every line.

    The parts are solved independently (a team's engineers staff its own projects), so the
    combined plan is optimal only within that decomposition; ``teams`` gives each part's status.
    """
    plans = [r.plan for _, r in reports]
    gaps = [p.gap for p in plans]
    return {
        "status": "optimal"
        if all(p.status in ("optimal", "empty") for p in plans)
        else "time_limit",
        "objective": sum(p.objective for p in plans),
        "gap": None if any(g == float("inf") for g in gaps) else max(gaps, default=0.0),
        "training_hours": sum(p.training_hours for p in plans),
        "unfilled_slots": sum(p.unfilled_slots for p in plans),
        "assignments": [a for p in plans for a in p.to_json()["assignments"]],  # type: ignore[attr-defined]
        "training": [t for p in plans for t in p.to_json()["training"]],  # type: ignore[attr-defined]
        "explanations": [line.sentence for _, r in reports for line in r.lines],
        "teams": [
            {
                "team_id": tid,
                "status": r.plan.status,
                "gap": r.plan.to_json()["gap"],
                "solve_seconds": r.plan.solve_seconds,
            }
            for tid, r in reports
        ],
    }
