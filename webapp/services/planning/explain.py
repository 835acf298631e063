"""A solved plan in words: who fills what after which workshops, and why a slot stays unfilled.

Each unfilled slot gets its true reason, found on the same indexed instance the optimiser solves
(``optimiser_model.Instance``): nobody to staff it, no workshop in the catalog teaching the level,
prerequisites nobody can meet, training longer than the learning time left, nobody with time to
spare, everyone able already holding another role on the project, training dearer than leaving
the slot open, or everyone able being needed elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from webapp.services.planning.inputs import PlanInputs
from webapp.services.planning.optimiser import HireOption, Plan
from webapp.services.planning.optimiser_model import Instance, PlanSettings, RequirementIn
from webapp.services.words import and_list, count


def day(when: date) -> str:
    return f"{when.day} {when:%B %Y}"


@dataclass(frozen=True)
class PlanLine:
    """One engineer filling one requirement, and the workshops that get them there."""

    engineer_id: int
    engineer: str
    requirement_id: int
    project: str
    skill: str
    level: int
    level_name: str
    due: date
    workshops: tuple[tuple[str, float], ...]  # (title, hours) in the order to take them
    accepted: tuple[str, ...] = ()  # workshops already accepted for this engineer and skill

    @property
    def hours(self) -> float:
        return sum(h for _, h in self.workshops)

    @property
    def key(self) -> str:
        """The line's name in an accept form: engineer and requirement."""
        return f"{self.engineer_id}-{self.requirement_id}"

    @property
    def sentence(self) -> str:
        if not self.workshops and self.accepted:
            return (
                f"{self.engineer} reaches {self.level_name} in {self.skill} for {self.project} "
                f"with the training already accepted ({and_list(self.accepted)})."
            )
        if not self.workshops:
            held = f"{self.level_name} in {self.skill}"
            return f"{self.engineer} already holds {held}: staff {self.project}."
        steps = ", then ".join(f"{t}, {h:g} h" for t, h in self.workshops)
        return (
            f"{self.engineer} reaches {self.level_name} in {self.skill} for {self.project} "
            f"by {day(self.due)}: take {steps}"
        )


@dataclass(frozen=True)
class UnfilledLine:
    requirement_id: int
    project: str
    skill: str
    level_name: str
    slots: int
    reason: str  # why nobody fills it, as a clause

    @property
    def sentence(self) -> str:
        return (
            f"{self.project} still lacks {count(self.slots, 'person', 'people')} at "
            f"{self.level_name} in {self.skill}: {self.reason}; consider hiring."
        )


def explain(
    inputs: PlanInputs, plan: Plan, settings: PlanSettings
) -> tuple[tuple[PlanLine, ...], tuple[UnfilledLine, ...]]:
    """Sentences for each planned assignment and each slot left unfilled, with its reason."""
    reqs = {r.id: r for r in inputs.requirements}
    lines = sorted(
        _lines(inputs, plan, reqs),
        key=lambda line: (line.due, line.project, line.skill, line.engineer),
    )
    reasons = unfilled_reasons(inputs, plan, settings)
    unfilled = tuple(
        UnfilledLine(
            rid,
            reqs[rid].project_name,
            reqs[rid].skill_name,
            level_name(inputs, reqs[rid].min_level),
            slots,
            reasons[rid],
        )
        for rid, slots in plan.unfilled
    )
    return tuple(lines), unfilled


def level_name(inputs: PlanInputs, level: int) -> str:
    return inputs.level_names.get(level, f"level {level}")


def _lines(inputs: PlanInputs, plan: Plan, reqs: Mapping[int, RequirementIn]) -> list[PlanLine]:
    eng = {e.id: e.name for e in inputs.engineers}
    ws = {w.id: w.title for w in inputs.workshops}
    verifies = {w.id: w.verifies for w in inputs.workshops}
    per_pair: dict[tuple[int, int], list[tuple[int, str, float]]] = {}
    for t in plan.training:
        for rid in t.for_requirements:
            per_pair.setdefault((t.engineer_id, rid), []).append(
                (t.order, ws[t.workshop_id], t.hours)
            )
    lines = []
    for a in plan.assignments:
        r = reqs[a.requirement_id]
        steps = sorted(per_pair.get((a.engineer_id, r.id), []))
        lines.append(
            PlanLine(
                a.engineer_id,
                eng.get(a.engineer_id, f"#{a.engineer_id}"),
                r.id,
                r.project_name,
                r.skill_name,
                r.min_level,
                level_name(inputs, r.min_level),
                r.start_date,
                tuple((title, hours) for _, title, hours in steps),
                tuple(
                    sorted(
                        ws[w]
                        for w in inputs.accepted.get(a.engineer_id, ())
                        if verifies.get(w, {}).get(r.skill_id, 0) >= r.min_level
                    )
                ),
            )
        )
    return lines


def describe_hire(option: HireOption, inputs: PlanInputs, skill_names: Mapping[int, str]) -> str:
    wanted = and_list(
        [
            f"{level_name(inputs, lvl)} in {skill_names.get(sid, sid)}"
            for sid, lvl in sorted(option.levels.items())
        ]
    )
    return (
        f"One more hire at {wanted} fills {count(option.slots_filled, 'more slot')} and saves "
        f"{option.saving:g} planning hours (training plus unfilled penalty)."
    )


# --- why a slot stays unfilled ------------------------------------------------------------------


def unfilled_reasons(inputs: PlanInputs, plan: Plan, settings: PlanSettings) -> dict[int, str]:
    """requirement id -> why its open slots stay unfilled, as a clause, for each unfilled one."""
    if not plan.unfilled:
        return {}
    inst = Instance(
        inputs.engineers,
        inputs.workshops,
        inputs.requirements,
        settings,
        settings.today or date.today(),
    )
    index = {r.id: i for i, r in enumerate(inputs.requirements)}
    row = {e.id: i for i, e in enumerate(inputs.engineers)}
    staffed = np.zeros((len(inst.engineers), len(inst.requirements)), dtype=bool)
    for a in plan.assignments:
        staffed[row[a.engineer_id], index[a.requirement_id]] = True
    projects = inst.req_project[:, None] == np.arange(int(inst.req_project.max()) + 1)[None, :]
    roles = staffed.astype(np.int64) @ projects.astype(np.int64)  # E x P: roles held per project
    return {
        rid: _reason(
            inst, index[rid], ~staffed[:, index[rid]], roles[:, inst.req_project[index[rid]]] > 0
        )
        for rid, _ in plan.unfilled
    }


def _reason(inst: Instance, r: int, free: np.ndarray, on_role: np.ndarray) -> str:
    """The first of the reasons that holds for requirement ``r`` among the ``free`` engineers
    (those not already filling one of its slots); ``on_role`` marks those holding another role
    on its project in the plan."""
    req = inst.requirements[r]
    skill, level = int(inst.req_skill[r]), int(inst.req_level[r])
    holders = free & inst.qualified[:, r]
    bound = inst.training_bound[:, r]
    if not len(inst.engineers):
        return "there is no engineer to staff it"
    if not holders.any() and not len(inst.justifiers(skill, level)):
        return f"no workshop in the catalog teaches {req.skill_name} to level {level}"
    if not (holders | (free & np.isfinite(bound))).any():
        return (
            f"no one meets the prerequisites of the workshops that teach {req.skill_name} "
            f"to level {level}"
        )
    able = holders | (free & inst.in_time[:, r])
    if not able.any():
        reach = free & np.isfinite(bound)
        hours = float(bound[reach].min())
        budgets = inst.avail[reach, inst.req_class[r]]
        left = float(budgets.max())
        return (
            f"the shortest training to level {level} in {req.skill_name} takes {hours:g} h, "
            f"more than the "
            f"{left:g} h of learning time {_anyone(budgets)}before {req.project_name} starts on "
            f"{day(req.start_date)}"
        )
    people = _names(inst, able)
    if not (able & inst.alloc_ok[:, r]).any():
        return f"{people} cannot spare the {req.allocation_pct} % of time it asks"
    able &= inst.alloc_ok[:, r]
    if on_role[able].all():
        return (
            f"{_names(inst, able)}, who could fill it, already {_verb(able, 'holds', 'hold')} "
            f"another role on {req.project_name} (one person holds one role per project)"
        )
    if not holders.any() and bound[able].min() > inst.req_weight[r]:
        return (
            f"training anyone for it takes at least {float(bound[able].min()):g} h, more than "
            f"the {float(inst.req_weight[r]):g} h the plan counts for leaving it open"
        )
    return (
        f"{_names(inst, able)}, who could fill it, {_verb(able, 'is', 'are')} needed for other "
        f"slots or {_verb(able, 'has', 'have')} no learning time left"
    )


def _names(inst: Instance, mask: np.ndarray) -> str:
    return and_list(sorted(inst.engineers[i].name for i in np.flatnonzero(mask).tolist()))


def _anyone(budgets: np.ndarray) -> str:
    """ "anyone has " when the people's learning budgets differ (the figure is the largest)."""
    return "" if float(budgets.min()) == float(budgets.max()) else "anyone has "


def _verb(mask: np.ndarray, one: str, many: str) -> str:
    return one if int(mask.sum()) == 1 else many
