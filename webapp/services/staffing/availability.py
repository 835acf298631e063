"""Capacity rules for people already on projects: their load, and who counts toward which slot.

The same rules the optimiser plans with (``planning/optimiser_model.Instance``): a person's
assignments across open projects should not exceed their availability; a role on a project
raises their assignment there to the role's share, so it fits when what it adds is free; and a
person counts toward one slot of one requirement per project.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from webapp.db import Session
from webapp.models import Project, ProjectAssignment, User
from webapp.services.staffing.records import OPEN_STATUSES


@dataclass(frozen=True)
class Load:
    """A person's availability and their assignments to open projects: (id, name, share)."""

    user_id: int
    name: str
    availability_pct: int
    projects: tuple[tuple[int, str, int], ...]

    @property
    def total(self) -> int:
        return sum(pct for _, _, pct in self.projects)

    @property
    def free(self) -> int:
        """The share left for new roles (never below zero)."""
        return max(self.availability_pct - self.total, 0)

    def on(self, project_id: int) -> int:
        return sum(pct for pid, _, pct in self.projects if pid == project_id)

    def fits(self, project_id: int, role_pct: int) -> bool:
        """Whether holding a role of ``role_pct`` on the project keeps within availability: it
        adds only what it asks beyond their assignment there."""
        return max(role_pct - self.on(project_id), 0) <= self.free


def load_people(session: Session, user_ids: Collection[int]) -> dict[int, Load]:
    """Each person's load, in two queries."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    projects: dict[int, list[tuple[int, str, int]]] = {}
    for uid, pid, name, pct in session.execute(
        select(
            ProjectAssignment.user_id, Project.id, Project.name, ProjectAssignment.allocation_pct
        )
        .join(Project, Project.id == ProjectAssignment.project_id)
        .where(ProjectAssignment.user_id.in_(ids), Project.status.in_(OPEN_STATUSES))
        .order_by(Project.name)
    ):
        projects.setdefault(uid, []).append((pid, name, pct))
    people = session.execute(
        select(User.id, User.display_name, User.availability_pct).where(User.id.in_(ids))
    )
    return {uid: Load(uid, name, pct, tuple(projects.get(uid, ()))) for uid, name, pct in people}


def count_once(
    pair_req: np.ndarray,
    pair_user: np.ndarray,
    eligible: np.ndarray,
    req_project: Sequence[int],
    heads: Sequence[int],
) -> np.ndarray:
    """Which (requirement, person) pairs count: each person toward at most one requirement per
    project, each requirement up to its headcount, as many slots as possible.

    ``eligible`` marks the pairs that could count (qualified, and the role fits the person's
    time). Requirements are served in their order (the loader's: most important first within a
    project), each slot keeping what it got when a later slot reshuffles the others by an
    augmenting path, so the slots filled are a maximum set that favours the earlier ones.
    """
    holds = np.zeros(len(pair_req), dtype=bool)
    by_req: dict[int, list[int]] = {}
    for i in np.flatnonzero(eligible).tolist():
        by_req.setdefault(int(pair_req[i]), []).append(i)
    role: dict[tuple[int, int], int] = {}  # (project, user) -> the pair they count through
    for r in sorted(by_req):
        for _ in range(int(heads[r])):
            if not _augment(r, by_req, pair_req, pair_user, req_project, role, holds, set()):
                break
    return holds


def _augment(
    r: int,
    by_req: dict[int, list[int]],
    pair_req: np.ndarray,
    pair_user: np.ndarray,
    req_project: Sequence[int],
    role: dict[tuple[int, int], int],
    holds: np.ndarray,
    seen: set[tuple[int, int]],
) -> bool:
    """Kuhn's augmenting path: give requirement r one more person, moving others if needed."""
    project = req_project[r]
    for i in by_req.get(r, []):
        key = (project, int(pair_user[i]))
        if holds[i] or key in seen:
            continue
        seen.add(key)
        current = role.get(key)
        if current is not None:
            holds[current] = False  # try to move them to another requirement of the project
            moved = _augment(
                int(pair_req[current]), by_req, pair_req, pair_user, req_project, role, holds, seen
            )
            if not moved:
                holds[current] = True
                continue
        holds[i] = True
        role[key] = i
        return True
    return False
