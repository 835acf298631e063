"""Live kernels on the notebook page: start, run a cell (outputs streamed), interrupt, restart,
stop, and check one exercise. JSON in, JSON or newline-delimited JSON events out; CSRF in the
X-CSRFToken header. The kernel is always the current engineer's own for this notebook."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, jsonify, request, stream_with_context

from webapp.db import db
from webapp.grading.wellformed import source_size_problem
from webapp.kernels.client import HostUnavailable, KernelGone
from webapp.learn import bp
from webapp.learn.views import notebook_limits
from webapp.models import LiveKernel
from webapp.services.catalog import pages
from webapp.services.catalog.pages import NotebookRef
from webapp.services.errors import InvalidInput
from webapp.services.learning import exercises, live_checks, live_sessions, submissions
from webapp.services.learning.live_outputs import events
from webapp.services.learning.live_sessions import LiveSettings
from webapp.settings import settings_of
from webapp.web.access import me
from webapp.web.json_input import json_object

KERNEL = "/workshops/<slug>/notebooks/<int:notebook_id>/kernel"


def _live() -> LiveSettings:
    return settings_of(current_app).live


def _ref(slug: str, notebook_id: int) -> NotebookRef:
    return pages.notebook_ref(db.session, slug=slug, notebook_id=notebook_id)


def _mine(ref: NotebookRef) -> LiveKernel:
    return live_sessions.require(
        db.session, user_id=me().id, notebook_id=ref.notebook_id, settings=_live()
    )


def _body() -> dict[str, Any]:
    return json_object(
        request.get_data(as_text=True),
        max_depth=notebook_limits().max_depth,
        message="Send a JSON object (the page does this; reload it and try again).",
    )


@bp.route(KERNEL, methods=["GET"])
def kernel_status(slug: str, notebook_id: int) -> Response:
    """Whether the engineer has a kernel for this notebook (the page asks when it loads)."""
    ref = _ref(slug, notebook_id)
    row = live_sessions.find(db.session, user_id=me().id, notebook_id=ref.notebook_id)
    return jsonify(running=row is not None, idle_minutes=_live().idle_minutes)


@bp.route(KERNEL, methods=["POST"])
def kernel_start(slug: str, notebook_id: int) -> Response:
    ref = _ref(slug, notebook_id)
    row, started = live_sessions.open_kernel(
        db.session,
        user=me(),
        notebook_id=ref.notebook_id,
        workshop_slug=ref.workshop_slug,
        settings=_live(),
    )
    db.session.commit()
    return jsonify(running=True, started=started, idle_minutes=_live().idle_minutes)


@bp.route(f"{KERNEL}/<any(interrupt, restart, stop):action>", methods=["POST"])
def kernel_control(slug: str, notebook_id: int, action: str) -> Response:
    row = _mine(_ref(slug, notebook_id))
    if action == "stop":
        live_sessions.stop(db.session, row, _live())
    else:
        live_sessions.control(db.session, row, action, _live())
    db.session.commit()
    return jsonify(running=action != "stop", done=action)


@bp.route(f"{KERNEL}/run", methods=["POST"])
def kernel_run(slug: str, notebook_id: int) -> Response:
    """Run one cell's code; its outputs stream back as they come."""
    row = _mine(_ref(slug, notebook_id))
    code = _body().get("code")
    if not isinstance(code, str):
        raise InvalidInput("Send the cell's code as text.")
    too_long = source_size_problem("This cell", code, notebook_limits().max_source_bytes)
    if too_long is not None:
        raise InvalidInput(too_long)
    live_sessions.touch(row, datetime.now(UTC))
    db.session.commit()
    settings = _live()
    return _stream(row.id, events(live_sessions.execute(row, code, settings)))


@bp.route("/workshops/<slug>/notebooks/<int:notebook_id>/check/<grade_id>", methods=["POST"])
def check_exercise(slug: str, notebook_id: int, grade_id: str) -> Response:
    """Run the exercise's answers (as in the editors) and then its visible tests."""
    ref = _ref(slug, notebook_id)
    row = _mine(ref)
    answers = _body().get("answers", {})
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise InvalidInput("Send the answers as an object of answer cell to text.")
    submissions.check_answer_sizes(answers, notebook_limits())
    plan = live_checks.plan_for(pages.version_json(db.session, ref.version_id), grade_id)
    live_sessions.touch(row, datetime.now(UTC))
    db.session.commit()
    settings = _live()

    def execute(code: str) -> Iterable[dict[str, Any]]:
        return live_sessions.execute(row, code, settings)

    checked = live_checks.run_check(plan, answers, execute, settings.cell_max_s)
    return _stream(row.id, _recorded(checked, me().id, ref.notebook_id, plan))


def _recorded(
    stream: Iterator[dict[str, Any]], user_id: int, notebook_id: int, plan: live_checks.CheckPlan
) -> Iterator[dict[str, Any]]:
    """The check's events; its outcome is recorded per answer cell (practice, never evidence)."""
    for event in stream:
        if event["event"] == "checked":
            for grade_id, _stub in plan.answers:
                exercises.record_check(
                    db.session,
                    user_id=user_id,
                    notebook_id=notebook_id,
                    grade_id=grade_id,
                    passed=bool(event["passed"]),
                    now=datetime.now(UTC),
                )
            db.session.commit()
        yield event


def _stream(row_id: int, stream: Iterator[dict[str, Any]]) -> Response:
    """Newline-delimited JSON events, sent as they come; a lost kernel ends the stream with an
    ``error`` event that says what to do (and the kernel is forgotten)."""
    settings = _live()

    def lines() -> Iterator[str]:
        try:
            for event in stream:
                yield json.dumps(event) + "\n"
        except KernelGone:
            row = db.session.get(LiveKernel, row_id)
            if row is not None:
                live_sessions.forget(db.session, row)
                db.session.commit()
            yield _error(live_sessions.gone_message(settings), running=False)
        except HostUnavailable:
            yield _error(live_sessions.host_down(settings), running=True)

    response = Response(stream_with_context(lines()), mimetype="application/x-ndjson")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _error(message: str, *, running: bool) -> str:
    return json.dumps({"event": "error", "message": message, "running": running}) + "\n"
