"""Team skill trends: coverage and progress month by month, replayed from the evidence history.

Evidence is append-only, so the estimate at any past date is the estimate over the rows recorded
by then. Two queries (the team's evidence, its workshop passes); the months are replayed in memory.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from webapp.db import Session
from webapp.models import SkillEvidence, WorkshopProgress
from webapp.services.skills.estimates import EstimateSettings, estimate
from webapp.services.skills.levels import EvidenceRow

HOLDS_LEVEL = 3


@dataclass(frozen=True)
class TrendPoint:
    month: str  # "2025-06"
    verified_pairs: int  # (engineer, skill) pairs with a verified level
    claimed_only_pairs: int  # pairs with a self or manager level and no verification
    skills_covered: int  # skills at least one engineer holds at HOLDS_LEVEL or above
    mean_level: float  # mean estimated level over all pairs with evidence
    workshops_passed: int  # passes during the month


def month_ends(now: datetime, months: int) -> list[tuple[str, datetime]]:
    """(label, cutoff) for the last ``months`` months, oldest first; the current month ends now."""
    points = []
    year, month = now.year, now.month
    for _ in range(months):
        label = f"{year:04d}-{month:02d}"
        nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        points.append((label, min(nxt, now)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return points[::-1]


def replay(
    rows: list[EvidenceRow],
    passes: list[datetime],
    *,
    now: datetime,
    months: int,
    settings: EstimateSettings,
) -> list[TrendPoint]:
    """The trend points from evidence rows and pass dates (pure)."""
    rows = sorted(rows, key=lambda r: r.recorded_at)
    times = [r.recorded_at for r in rows]
    passes = sorted(passes)
    points = []
    previous_cutoff = None
    for label, cutoff in month_ends(now, months):
        ests = estimate(rows[: bisect_left(times, cutoff)], now=cutoff, settings=settings).values()
        verified = sum(1 for e in ests if e.verified_level)
        covered = {e.skill_id for e in ests if e.level >= HOLDS_LEVEL}
        start = bisect_left(passes, previous_cutoff) if previous_cutoff else 0
        points.append(
            TrendPoint(
                month=label,
                verified_pairs=verified,
                claimed_only_pairs=len(ests) - verified,
                skills_covered=len(covered),
                mean_level=round(sum(e.level for e in ests) / len(ests), 2) if ests else 0.0,
                workshops_passed=bisect_left(passes, cutoff) - start,
            )
        )
        previous_cutoff = cutoff
    return points


def team_trends(
    session: Session,
    user_ids: list[int],
    *,
    now: datetime,
    settings: EstimateSettings,
    months: int = 12,
) -> list[TrendPoint]:
    """Monthly trend points for a group of engineers."""
    if not user_ids:
        return replay([], [], now=now, months=months, settings=settings)
    ev = SkillEvidence
    # In recording order: the level rule breaks ties on time by it, like its SQL half does.
    query = (
        select(*(getattr(ev, f) for f in EvidenceRow._fields))
        .where(ev.user_id.in_(user_ids), ev.recorded_at <= now)
        .order_by(ev.id)
    )
    rows = [EvidenceRow._make(r) for r in session.execute(query)]
    passes = [
        when
        for when in session.scalars(
            select(WorkshopProgress.passed_at).where(
                WorkshopProgress.user_id.in_(user_ids),
                WorkshopProgress.passed_at.is_not(None),
                WorkshopProgress.passed_at <= now,
            )
        )
        if when is not None
    ]
    return replay(rows, passes, now=now, months=months, settings=settings)
