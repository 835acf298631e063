"""Where the browser's editors and JupyterLab meet: the student notebook holding the engineer's
saved draft (to download), and an uploaded notebook's answers saved as the draft (to load into
the editors). The draft itself is kept by ``submissions.save_draft``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nbformat import NotebookNode
from sqlalchemy import select

from webapp.db import Session
from webapp.grading import notebook as nbg
from webapp.grading.wellformed import DEFAULT_LIMITS, NotebookLimits
from webapp.models import Draft, NotebookVersion, User
from webapp.services.errors import InvalidInput
from webapp.services.learning import submissions

NOT_LOADED = "Nothing was loaded and your saved answers are unchanged. "
WHAT_TO_DO = (
    " Upload the .ipynb you downloaded from this notebook's page, with your answers typed in "
    "its cells, and try again."
)


@dataclass(frozen=True)
class SavedDraft:
    """The engineer's saved answers (grade_id to text) and when the server last stored them."""

    answers: dict[str, str]
    updated_at: datetime | None


def saved_draft(session: Session, *, user_id: int, notebook_id: int) -> SavedDraft:
    draft = session.scalar(
        select(Draft).where(Draft.user_id == user_id, Draft.notebook_id == notebook_id)
    )
    if draft is None:
        return SavedDraft({}, None)
    return SavedDraft(dict(draft.answers), draft.updated_at)


def student_with_draft(student: dict[str, Any], draft: dict[str, str]) -> dict[str, Any]:
    """The student notebook with the draft's answers in their cells; answers to cells this
    version no longer has (a draft from before a catalog update) are left out."""
    if not draft:
        return student
    known = {cell.grade_id for cell in submissions.answer_cells(student, {})}
    kept = {gid: text for gid, text in draft.items() if gid in known}
    return dict(submissions.notebook_from_answers(student, kept))


def answers_of(nb: NotebookNode) -> dict[str, str]:
    """The text of every answer (solution) cell of a notebook, by grade id."""
    return {
        gid: str(cell.source)
        for cell in nb.cells
        if (gid := nbg.grade_id(cell)) and nbg.is_solution(cell)
    }


def load_upload(
    session: Session,
    *,
    user: User,
    version: NotebookVersion,
    data: bytes,
    limits: NotebookLimits = DEFAULT_LIMITS,
) -> Draft:
    """Save an uploaded notebook's answers as the engineer's draft, after the checks every
    upload passes (``submissions.parse_upload``); the caller commits.

    Raises InvalidInput saying what is wrong and what to do; nothing is stored then.
    """
    try:
        nb = submissions.parse_upload(data, version, limits)
    except InvalidInput as refused:
        raise InvalidInput(NOT_LOADED + refused.message.rstrip(".") + "." + WHAT_TO_DO) from refused
    return submissions.save_draft(
        session, user=user, version=version, answers=answers_of(nb), limits=limits
    )
