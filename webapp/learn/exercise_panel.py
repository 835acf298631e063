"""Exercises on the notebook page: each one's state and hints, and "Show a hint"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify, url_for
from werkzeug.wrappers import Response

from webapp.db import db
from webapp.learn import bp
from webapp.services.catalog import pages, rendering
from webapp.services.catalog.pages import NotebookRef
from webapp.services.learning import exercises, hints
from webapp.web.access import me


def exercise_panel(user_id: int, ref: NotebookRef) -> list[dict[str, Any]]:
    """What the notebook page shows next to each exercise: its title, state, points and the
    hints already shown (as sanitised HTML), as JSON for exercises.js."""
    seen = hints.revealed_hints(db.session, user_id=user_id, notebook_id=ref.notebook_id)
    return [
        {
            "grade_id": state.grade_id,
            "cell_id": state.cell_id,
            "anchor": state.anchor,
            "title": state.title,
            "state": state.state,
            "points": state.points,
            "hints_total": state.hints_total,
            "hints": [rendering.markdown_html(h.markdown) for h in seen.get(state.grade_id, [])],
            "hint_url": url_for(
                "learn.show_hint",
                slug=ref.workshop_slug,
                notebook_id=ref.notebook_id,
                grade_id=state.grade_id,
            ),
        }
        for state in exercises.exercise_states(
            db.session, user_id=user_id, notebook_id=ref.notebook_id
        )
    ]


@bp.route(
    "/workshops/<slug>/notebooks/<int:notebook_id>/exercises/<grade_id>/hint", methods=["POST"]
)
def show_hint(slug: str, notebook_id: int, grade_id: str) -> Response:
    """Reveal the exercise's next hint (CSRF token in the X-CSRFToken header); JSON."""
    ref = pages.notebook_ref(db.session, slug=slug, notebook_id=notebook_id)
    hint = hints.record_hint(
        db.session,
        user_id=me().id,
        notebook_id=ref.notebook_id,
        grade_id=grade_id,
        now=datetime.now(UTC),
    )
    db.session.commit()
    return jsonify(
        number=hint.number, total=hint.total, html=rendering.markdown_html(hint.markdown)
    )
