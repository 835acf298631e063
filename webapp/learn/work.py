"""Working on a notebook: autosaved answers, Run tests / Submit, uploads, live grading status,
feedback, and the review queue for written answers."""

from __future__ import annotations

import json

from flask import flash, jsonify, redirect, render_template, request, url_for
from nbformat import NotebookNode
from werkzeug.wrappers import Response

from webapp import jobs
from webapp.db import db
from webapp.learn import bp
from webapp.learn.forms import LOAD, AnswersForm, ReviewForm, UploadForm
from webapp.learn.views import practice_limit, render_cache_dir
from webapp.models import NotebookVersion, Submission, SubmissionStatus
from webapp.services.catalog import pages, rendering
from webapp.services.catalog.pages import NotebookRef
from webapp.services.errors import InvalidInput, PracticeRunRefused
from webapp.services.learning import drafts, exercises, hints, reviews, submissions
from webapp.web.access import manager_required, me


def _version_for(slug: str, notebook_id: int):  # noqa: ANN202
    ref = pages.notebook_ref(db.session, slug=slug, notebook_id=notebook_id)
    return ref, submissions.current_version(db.session, ref.notebook_id)


def _notebook_page(ref: NotebookRef) -> Response:
    return redirect(url_for("learn.notebook", slug=ref.workshop_slug, notebook_id=ref.notebook_id))


def _submit(ref: NotebookRef, version: NotebookVersion, nb: NotebookNode, mode: str) -> Response:
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
        )
    except PracticeRunRefused as refused:
        db.session.commit()  # the answers' draft is kept; nothing was stored for the run
        flash(refused.message, "warning")
        return _notebook_page(ref)
    db.session.commit()  # stored before it is queued: a lost job is found and run again
    jobs.grade_submission(submission.id)
    return redirect(url_for("learn.submission", submission_id=submission.id))


def _answers(text: str, message: str) -> dict[str, str]:
    """The editor's answers, a JSON object of grade_id to text; raises InvalidInput(message)."""
    try:
        answers = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands of levels deep
        raise InvalidInput(message) from exc
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise InvalidInput(message)
    return answers


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/submit", methods=["POST"])
def submit(slug: str, notebook_id: int) -> Response:
    ref, version = _version_for(slug, notebook_id)
    form = AnswersForm()
    unreadable = "The answers could not be read; reload the page and try again."
    if not form.validate_on_submit():
        raise InvalidInput(unreadable)
    answers = _answers(form.answers.data or "{}", unreadable)
    nb = submissions.notebook_from_answers(version.student, answers)
    submissions.save_draft(db.session, user=me(), version=version, answers=answers)
    return _submit(ref, version, nb, form.mode.data or "")


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/upload", methods=["POST"])
def upload(slug: str, notebook_id: int) -> Response:
    ref, version = _version_for(slug, notebook_id)
    form = UploadForm()
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        raise InvalidInput(" ".join(messages) or "Choose a .ipynb file to upload.")
    data = form.notebook.data.read()
    if form.mode.data == LOAD:
        drafts.load_upload(db.session, user=me(), version=version, data=data)
        db.session.commit()
        flash("Your notebook's answers are in the editors and saved as your draft.", "success")
        return _notebook_page(ref)
    nb = submissions.parse_upload(data, version)
    return _submit(ref, version, nb, form.mode.data or "")


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/draft", methods=["POST"])
def save_draft(slug: str, notebook_id: int) -> Response:
    """Autosave (JSON body, CSRF token in the X-CSRFToken header)."""
    _ref, version = _version_for(slug, notebook_id)
    wanted = "Send the answers as a JSON object of cell id to text."
    if not request.is_json:
        raise InvalidInput(wanted)
    answers = _answers(request.get_data(as_text=True), wanted)
    draft = submissions.save_draft(db.session, user=me(), version=version, answers=answers)
    db.session.commit()
    return jsonify(saved_at=draft.updated_at.isoformat())


def _own_submission(submission_id: int) -> Submission:
    return submissions.get_for_viewer(db.session, submission_id, viewer=me())


@bp.route("/submissions/<int:submission_id>")
def submission(submission_id: int) -> str:
    sub = _own_submission(submission_id)
    page = submissions.submission_page(db.session, sub)
    feedback_html = None
    if sub.status == SubmissionStatus.GRADED.value and sub.feedback:
        feedback = sub.feedback
        feedback_html = rendering.cached_notebook_html(
            render_cache_dir(), rendering.json_hash(feedback), lambda: feedback
        )
    failing = exercises.first_failing(
        db.session,
        notebook_id=page.notebook_id,
        results=[(r.grade_id, r.status) for r in page.results],
    )
    return render_template(
        "learn/submission.html",
        page=page,
        feedback_html=feedback_html,
        back_anchor=exercises.cell_anchor(failing.cell_id) if failing else None,
        hint_use=hints.hint_use(db.session, user_id=sub.user_id, notebook_id=page.notebook_id),
    )


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
