"""Catalog pages: the workshop list with filters, one workshop, one rendered notebook, downloads."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Response, current_app, render_template, request
from wtforms.fields.choices import SelectChoice

from webapp.db import db
from webapp.grading.wellformed import NotebookLimits
from webapp.learn import bp
from webapp.learn.exercise_panel import exercise_panel
from webapp.learn.forms import AnswersForm, CatalogFilterForm, UploadForm
from webapp.services.catalog import pages, rendering, worked
from webapp.services.catalog.pages import CatalogFilter
from webapp.services.learning import drafts, exercises, live_checks, practice, submissions
from webapp.settings import settings_of
from webapp.web.access import admin_required, me, public
from webapp.web.downloads import attachment

IPYNB_MIMETYPE = "application/x-ipynb+json"


def render_cache_dir() -> Path:
    """Where rendered notebooks are kept (instance/render-cache unless configured)."""
    return settings_of(current_app).render_cache_path


def render_limits() -> rendering.RenderLimits:
    """How big a notebook may be rendered (RENDER_MAX_BYTES, RENDER_TIME_LIMIT_S)."""
    return settings_of(current_app).render


def notebook_limits() -> NotebookLimits:
    """The bounds on every notebook that enters the app (NOTEBOOK_MAX_*)."""
    return settings_of(current_app).notebook_limits


def practice_limit() -> practice.PracticeLimit:
    """How many practice runs ("Run tests") an engineer has per hour (PRACTICE_RUNS_PER_HOUR)."""
    return settings_of(current_app).practice


@bp.route("/workshops")
def catalog() -> str:
    skills, categories = pages.filter_options(db.session)
    form = CatalogFilterForm(request.args)
    form.skill.choices = [SelectChoice("", "Any skill")] + [SelectChoice(*s) for s in skills]
    form.category.choices = [SelectChoice("", "Any category")] + [
        SelectChoice(*c) for c in categories
    ]
    filters = _filters(form)
    cards = pages.list_workshops(db.session, viewer_id=me().id, filters=filters)
    filtered = filters != CatalogFilter()
    return render_template("learn/catalog.html", form=form, cards=cards, filtered=filtered)


def _filters(form: CatalogFilterForm) -> CatalogFilter:
    level = form.level.data or ""
    return CatalogFilter(
        skill=str(form.skill.data or "")[:60],
        category=str(form.category.data or "")[:60],
        level=int(level) if level.isdigit() else None,
        query=str(form.q.data or "").strip()[:100],
    )


@bp.route("/workshops/<slug>")
def workshop(slug: str) -> str:
    page = pages.workshop_page(db.session, slug=slug, viewer_id=me().id)
    states = exercises.notebook_states(
        db.session, user_id=me().id, notebook_ids=[nb.id for nb in page.notebooks]
    )
    return render_template("learn/workshop.html", page=page, card=page.card, states=states)


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>")
def notebook(slug: str, notebook_id: int) -> str:
    ref = pages.notebook_ref(db.session, slug=slug, notebook_id=notebook_id)
    examples = worked.shown(db.session, ref.content_hash)
    html = rendering.cached_notebook_html(
        render_cache_dir(),
        ref.content_hash + (f"-w{examples.outputs_key}" if examples.outputs_key else ""),
        lambda: worked.student_with_outputs(
            db.session, ref.content_hash, pages.version_json(db.session, ref.version_id)
        ),
        render_limits(),
    )
    user = me()
    saved = drafts.saved_draft(db.session, user_id=user.id, notebook_id=ref.notebook_id)
    draft = saved.answers
    return render_template(
        "learn/notebook.html",
        ref=ref,
        notebook_html=html,
        answer_cells=[
            dataclasses.asdict(c)
            for c in submissions.version_answer_cells(
                db.session, version_id=ref.version_id, content_hash=ref.content_hash, draft=draft
            )
        ],
        draft_saved_at=saved.updated_at,  # the editors' local copy gives way to a newer one
        attempts=submissions.attempts(db.session, user_id=user.id, notebook_id=ref.notebook_id),
        practice_days=settings_of(current_app).retention.practice_days,
        practice=practice.allowance(
            db.session,
            user_id=user.id,
            notebook_id=ref.notebook_id,
            limit=practice_limit(),
            now=datetime.now(UTC),
        ),
        answers_form=AnswersForm(),
        submit_key=secrets.token_urlsafe(16),
        upload_form=UploadForm(),
        live_cells=[dataclasses.asdict(c) for c in _live_cells(ref)],
        live=settings_of(current_app).live,
        exercises=exercise_panel(user.id, ref),
        worked_examples=examples,
    )


def _live_cells(ref: pages.NotebookRef) -> tuple[live_checks.LiveCell, ...]:
    cells = live_checks.live_cells(None, ref.content_hash)
    if not cells:
        student = pages.version_json(db.session, ref.version_id)
        cells = live_checks.live_cells(student, ref.content_hash)
    return cells


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/download")
def download_student(slug: str, notebook_id: int) -> Response:
    """The student version holding the engineer's saved draft, to go on with in JupyterLab."""
    ref = pages.notebook_ref(db.session, slug=slug, notebook_id=notebook_id)
    draft = submissions.load_draft(db.session, user_id=me().id, notebook_id=ref.notebook_id)
    student = worked.student_with_outputs(
        db.session, ref.content_hash, pages.version_json(db.session, ref.version_id)
    )
    nb = drafts.student_with_draft(student, draft)
    return ipynb(nb, f"{ref.workshop_slug}-{ref.filename}")


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/source")
@admin_required
def download_source(slug: str, notebook_id: int) -> Response:
    """The instructor version, with solutions and hidden tests (admins only)."""
    ref = pages.notebook_ref(db.session, slug=slug, notebook_id=notebook_id)
    nb = pages.version_json(db.session, ref.version_id, which="source")
    return ipynb(nb, f"{ref.workshop_slug}-source-{ref.filename}")


def ipynb(nb: dict[str, Any], filename: str) -> Response:
    """The notebook as an .ipynb attachment named ``filename``."""
    body = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    return attachment(Response(body, mimetype=IPYNB_MIMETYPE), filename)


@bp.route("/notebook-highlight.css")
@public
def highlight_css() -> Response:
    """The Pygments stylesheet for highlighted code in rendered notebooks."""
    response = Response(rendering.highlight_css(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
