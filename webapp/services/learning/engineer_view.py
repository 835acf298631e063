"""What a manager sees about one engineer: levels, history and passed workshops, never scores.

The one read model behind the engineer's skill page (a manager's view and the engineer's own
"What my manager sees" preview), its CSV files and the API's answer to anyone who is neither the
engineer nor an admin. Workshop scores and attempts stay with the engineer and admins
(``policy.can_view_scores``); a pass shows only as the workshop and its date, which the verified
evidence it created shows in the history anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webapp.db import Session
from webapp.models import User
from webapp.services.learning import overview
from webapp.services.skills import learning_path, pages
from webapp.services.skills.estimates import EstimateSettings


@dataclass(frozen=True)
class WorkshopPass:
    workshop_slug: str
    workshop_title: str
    passed_at: datetime


@dataclass(frozen=True)
class EngineerView:
    engineer: User
    rows: list[pages.MySkillRow]
    history: list[pages.HistoryEntry]
    passes: list[WorkshopPass]


def workshop_passes(session: Session, user_id: int) -> list[WorkshopPass]:
    """The workshops the engineer has passed, newest first: their progress without the scores."""
    passed = [
        WorkshopPass(p.workshop_slug, p.workshop_title, p.passed_at)
        for p in overview.engineer_progress(session, user_id)
        if p.passed_at is not None
    ]
    return sorted(passed, key=lambda p: (-p.passed_at.timestamp(), p.workshop_title))


def load(
    session: Session, user_id: int, *, now: datetime, settings: EstimateSettings
) -> EngineerView:
    """Everything a manager sees about the engineer. Raises NotFound for an unknown id."""
    graph = learning_path.load_workshop_graph(session)
    return EngineerView(
        engineer=pages.get_user(session, user_id),
        rows=pages.engineer_skills(session, user_id, now=now, settings=settings, workshops=graph),
        history=pages.history(session, user_id),
        passes=workshop_passes(session, user_id),
    )
