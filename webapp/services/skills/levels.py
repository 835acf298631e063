"""THE current-level rule: one SQL subquery of the deciding evidence, one pure combine."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, case, func, select

from webapp.db import Session
from webapp.models import EvidenceSource, SkillEvidence

# Plain strings: enum attribute access is slow in the per-row loop.
WORKSHOP, MANAGER, SELF = (
    s.value for s in (EvidenceSource.WORKSHOP, EvidenceSource.MANAGER, EvidenceSource.SELF)
)

# Ids to filter on: a collection, a one-column SELECT of ids, or None for all.
IdFilter = Collection[int] | Select[Any] | None


class EvidenceRow(NamedTuple):
    """The columns of one ``skill_evidence`` row that the rule needs."""

    user_id: int
    skill_id: int
    level: int
    source: str
    recorded_at: datetime


@dataclass(frozen=True)
class DecidingEvidence:
    """The evidence that decides one engineer's level in one skill: at most one row per source."""

    verified: EvidenceRow | None = None
    manager: EvidenceRow | None = None
    self_assessed: EvidenceRow | None = None

    @property
    def claim(self) -> EvidenceRow | None:
        """The best non-verified row: the manager's, else the self-assessment."""
        return self.manager or self.self_assessed

    @property
    def winner(self) -> EvidenceRow:
        """The row the current level comes from: the verified one, else the claim."""
        row = self.verified or self.claim
        assert row is not None  # built only from at least one row
        return row

    @property
    def level(self) -> int:
        """The current level."""
        return self.winner.level

    @property
    def rows(self) -> tuple[EvidenceRow, ...]:
        """The deciding rows of every source that has one."""
        return tuple(r for r in (self.verified, self.manager, self.self_assessed) if r)


def _better(row: EvidenceRow, best: EvidenceRow | None) -> bool:
    """Whether ``row``, given after ``best``, replaces it within the same source."""
    if best is None:
        return True
    if row.source == WORKSHOP and row.level != best.level:
        return row.level > best.level
    return row.recorded_at >= best.recorded_at


def combine(rows: Iterable[EvidenceRow]) -> dict[tuple[int, int], DecidingEvidence]:
    """The deciding evidence per (user, skill) of evidence rows given in recording order.

    Per source one row decides: among verified (``workshop``) rows the highest level, newest on
    ties, so passing a lower workshop later does not undo a higher pass; among ``manager`` and
    among ``self`` rows the newest, so a new assessment replaces the old one without editing it;
    on equal times the row given later wins. The current level is then the verified row's, else
    the manager's, else the self-assessed one. Pure: no database, no clock. Rows already reduced
    by :func:`deciding_rows` give the same result as all of them would.
    """
    picked: dict[tuple[int, int], dict[str, EvidenceRow]] = {}
    for row in rows:
        per_source = picked.setdefault((row.user_id, row.skill_id), {})
        if _better(row, per_source.get(row.source)):
            per_source[row.source] = row
    return {
        key: DecidingEvidence(p.get(WORKSHOP), p.get(MANAGER), p.get(SELF))
        for key, p in picked.items()
    }


def _ids(ids: Collection[int] | Select[Any]) -> list[int] | Select[Any]:
    return ids if isinstance(ids, Select) else list(ids)


def deciding_rows(*, user_ids: IdFilter = None, skill_ids: IdFilter = None) -> Select[Any]:
    """SELECT of the deciding rows (:class:`EvidenceRow`'s columns): one per (user, skill, source).

    The same per-source choice as :func:`combine`, in the database: a window function ranks the
    rows of each (user, skill, source), workshop rows by level, then time, then id (the later
    recorded row wins a tie), others by time, then id; only rank 1 is returned.
    """
    ev = SkillEvidence
    verified_level = case((ev.source == WORKSHOP, ev.level), else_=0)
    rank = func.row_number().over(
        partition_by=(ev.user_id, ev.skill_id, ev.source),
        order_by=(verified_level.desc(), ev.recorded_at.desc(), ev.id.desc()),
    )
    inner = select(*(getattr(ev, f) for f in EvidenceRow._fields), rank.label("rank"))
    if user_ids is not None:
        inner = inner.where(ev.user_id.in_(_ids(user_ids)))
    if skill_ids is not None:
        inner = inner.where(ev.skill_id.in_(_ids(skill_ids)))
    sub = inner.subquery()
    return select(*(sub.c[f] for f in EvidenceRow._fields)).where(sub.c.rank == 1)


def load(
    session: Session, *, user_ids: IdFilter = None, skill_ids: IdFilter = None
) -> dict[tuple[int, int], DecidingEvidence]:
    """The deciding evidence of the given users and skills (all when ``None``), in one query."""
    for ids in (user_ids, skill_ids):
        if ids is not None and not isinstance(ids, Select) and not ids:
            return {}
    query = deciding_rows(user_ids=user_ids, skill_ids=skill_ids)
    return combine(EvidenceRow._make(r) for r in session.execute(query))


def current_levels(
    session: Session, *, user_ids: IdFilter = None, skill_ids: IdFilter = None
) -> dict[tuple[int, int], int]:
    """The current level per (user, skill) with evidence, for the given users and skills."""
    picked = load(session, user_ids=user_ids, skill_ids=skill_ids)
    return {key: deciding.level for key, deciding in picked.items()}
