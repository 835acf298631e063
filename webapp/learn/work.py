"""Working on a notebook: autosaved answers, Run tests / Submit, uploads, live grading status,
feedback, and the review queue for written answers."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from nbformat import NotebookNode
from werkzeug.wrappers import Response

from webapp import jobs
from webapp.db import db
from webapp.learn import bp
from webapp.learn.forms import LOAD, AnswersForm, ReviewForm, UploadForm
from webapp.learn.views import (
    ipynb,
    notebook_limits,
    practice_limit,
    render_cache_dir,
    render_limits,
)
from webapp.models import NotebookVersion, Submission, SubmissionStatus
from webapp.services.catalog import pages, rendering
from webapp.services.catalog.pages import NotebookRef
from webapp.services.errors import AlreadySubmitted, InvalidInput, NotFound, PracticeRunRefused
from webapp.services.learning import drafts, exercises, hints, reviews, submissions
from webapp.web.access import manager_required, me
from webapp.web.json_input import json_object
from webapp.web.limits import limited


def _version_for(slug: str, notebook_id: int):  # noqa: ANN202
    ref = pages.notebook_ref(db.session, slug=slug, notebook_id=notebook_id)
    return ref, submissions.current_version(db.session, ref.notebook_id)


def _notebook_page(ref: NotebookRef) -> Response:
    return redirect(url_for("learn.notebook", slug=ref.workshop_slug, notebook_id=ref.notebook_id))


def _submit(
    ref: NotebookRef, version: NotebookVersion, nb: NotebookNode, mode: str, key: str | None = None
) -> Response:
    """Store and queue an attempt; a refused practice run goes back to the notebook page, which
    says why and when the next one is possible."""
    try:
        submission = submissions.create_submission(
            db.session,
            user=me(),
            version=version,
            nb=nb,
            mode=mode,
            practice_limit=practice_limit(),
            limits=notebook_limits(),
            client_key=key,
        )
    except AlreadySubmitted as sent:  # a retry or a double click: the attempt already stored
        db.session.rollback()
        return redirect(url_for("learn.submission", submission_id=sent.submission_id))
    except PracticeRunRefused as refused:
        db.session.commit()  # the answers' draft is kept; nothing was stored for the run
        flash(refused.message, "warning")
        return _notebook_page(ref)
    db.session.commit()  # stored before it is queued: a lost job is found and run again
    if not jobs.enqueue(jobs.grade_submission, submission.id):
        flash(f"Your answers are submitted. {jobs.QUEUE_AWAY}", "warning")
    return redirect(url_for("learn.submission", submission_id=submission.id))


def _answers(text: str, message: str) -> dict[str, str]:
    """The editor's answers, a JSON object of grade_id to text; raises InvalidInput(message).
    The answers' sizes are checked where they are saved (``submissions.save_draft``)."""
    answers = json_object(text, max_depth=notebook_limits().max_depth, message=message)
    if not all(isinstance(v, str) for v in answers.values()):
        raise InvalidInput(message)
    return answers


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/submit", methods=["POST"])
@limited("SUBMIT_RATE_LIMIT")
def submit(slug: str, notebook_id: int) -> Response:
    ref, version = _version_for(slug, notebook_id)
    form = AnswersForm()
    unreadable = "The answers could not be read; reload the page and try again."
    if not form.validate_on_submit():
        raise InvalidInput(unreadable)
    answers = _answers(form.answers.data or "{}", unreadable)
    nb = submissions.notebook_from_answers(version.student, answers)
    submissions.save_draft(
        db.session, user=me(), version=version, answers=answers, limits=notebook_limits()
    )
    return _submit(ref, version, nb, form.mode.data or "", form.key.data or None)


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/upload", methods=["POST"])
@limited("UPLOAD_RATE_LIMIT")
def upload(slug: str, notebook_id: int) -> Response:
    ref, version = _version_for(slug, notebook_id)
    form = UploadForm()
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        raise InvalidInput(" ".join(messages) or "Choose a .ipynb file to upload.")
    data = form.notebook.data.read()
    if form.mode.data == LOAD:
        drafts.load_upload(
            db.session, user=me(), version=version, data=data, limits=notebook_limits()
        )
        db.session.commit()
        flash("Your notebook's answers are in the editors and saved as your draft.", "success")
        return _notebook_page(ref)
    nb = submissions.parse_upload(data, version, notebook_limits())
    return _submit(ref, version, nb, form.mode.data or "")


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/draft", methods=["POST"])
@limited("AUTOSAVE_RATE_LIMIT")
def save_draft(slug: str, notebook_id: int) -> Response:
    """Autosave (JSON body, CSRF token in the X-CSRFToken header)."""
    _ref, version = _version_for(slug, notebook_id)
    wanted = "Send the answers as a JSON object of cell id to text."
    if not request.is_json:
        raise InvalidInput(wanted)
    answers = _answers(request.get_data(as_text=True), wanted)
    draft = submissions.save_draft(
        db.session, user=me(), version=version, answers=answers, limits=notebook_limits()
    )
    db.session.commit()
    return jsonify(saved_at=draft.updated_at.isoformat())


def _own_submission(submission_id: int) -> Submission:
    return submissions.get_for_viewer(db.session, submission_id, viewer=me())


@bp.route("/submissions/<int:submission_id>")
def submission(submission_id: int) -> str:
    sub = _own_submission(submission_id)
    page = submissions.submission_page(db.session, sub)
    graded = sub.feedback if sub.status == SubmissionStatus.GRADED.value else None
    feedback_html = _feedback_html(graded) if graded else None
    failing = exercises.first_failing(
        db.session,
        notebook_id=page.notebook_id,
        results=[(r.grade_id, r.status) for r in page.results],
    )
    return render_template(
        "learn/submission.html",
        page=page,
        feedback_html=feedback_html,
        feedback_too_large=bool(graded) and feedback_html is None,
        back_anchor=exercises.cell_anchor(failing.cell_id) if failing else None,
        hint_use=hints.hint_use(db.session, user_id=sub.user_id, notebook_id=page.notebook_id),
    )


def _feedback_html(feedback: dict[str, Any]) -> str | None:
    """The graded notebook's HTML, None when it is too large to display."""
    return rendering.cached_notebook_html(
        render_cache_dir(), rendering.json_hash(feedback), lambda: feedback, render_limits()
    )


@bp.route("/submissions/<int:submission_id>/graded.ipynb")
def submission_download(submission_id: int) -> Response:
    """The graded notebook (what the submission page shows), to read in JupyterLab; it is how a
    notebook too large to display here is seen."""
    sub = _own_submission(submission_id)
    if sub.status != SubmissionStatus.GRADED.value or not sub.feedback:
        raise NotFound("This attempt has no graded notebook (yet).")
    return ipynb(sub.feedback, f"graded-{sub.id}.ipynb")


@bp.route("/submissions/<int:submission_id>/status.json")
def submission_status(submission_id: int) -> Response:
    sub = _own_submission(submission_id)
    return jsonify(
        status=sub.status,
        score=sub.score,
        max=sub.max_score,
        needs_review=sub.needs_review,
        error=sub.error,
    )


@bp.route("/reviews")
@manager_required
def review_queue() -> str:
    pending = reviews.pending(db.session, me())
    answers = {p.result_id: reviews.answer_text(db.session, p.result_id) for p in pending}
    return render_template(
        "learn/reviews.html", pending=pending, answers=answers, form=ReviewForm()
    )


@bp.route("/reviews/<int:result_id>", methods=["POST"])
@manager_required
def review_answer(result_id: int) -> Response:
    reviews.reviewable_result(db.session, result_id=result_id, reviewer=me())
    form = ReviewForm()
    if not form.validate_on_submit() or form.points.data is None:
        flash("Give the answer its points (a number) and try again.", "danger")
        return redirect(url_for("learn.review_queue"))
    reviews.grade_answer(
        db.session,
        result_id=result_id,
        points=float(form.points.data),
        comment=form.comment.data or "",
        reviewer=me(),
    )
    db.session.commit()
    flash("Graded. The engineer's total is updated.", "success")
    return redirect(url_for("learn.review_queue"))
