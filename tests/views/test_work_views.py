"""Submitting from the browser and by upload: bad input gets a 400 that says what is wrong, and
nothing is stored; good input is stored and queued before the page answers."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from tests.conftest import AuthActions, FreshContextClient, Org, csrf_token
from tests.factories import (
    ADD_NOTEBOOK,
    fixture_catalog,
    graded_submission,
    make_notebook_version,
)
from webapp.db import db as _db
from webapp.extensions import queue
from webapp.models import Draft, NotebookVersion, Submission


def count_submissions() -> int:
    return _db.session.scalar(select(func.count(Submission.id))) or 0


def student_notebook(notebook_id: int) -> dict[str, object]:
    version = _db.session.scalar(
        select(NotebookVersion).where(NotebookVersion.notebook_id == notebook_id)
    )
    assert version is not None
    return version.student


def upload(  # noqa: ANN201
    client: FlaskClient,
    notebook_id: int,
    data: bytes,
    name: str = "work.ipynb",
    mode: str = "final",
):
    url = f"/workshops/tiny/notebooks/{notebook_id}/upload"
    token = csrf_token(client, f"/workshops/tiny/notebooks/{notebook_id}")
    return client.post(
        url,
        data={"csrf_token": token, "mode": mode, "notebook": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_that_is_not_json_is_refused_and_nothing_stored(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    response = upload(client, notebook_id, b"{this is not json")
    assert response.status_code == 400
    assert "not JSON" in response.get_data(as_text=True)
    assert count_submissions() == 0


def test_upload_of_another_workshops_notebook_names_the_mismatch(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    catalog = fixture_catalog()
    auth.login(org.engineer.email)
    other = nbformat.writes(nbformat.from_dict(student_notebook(catalog["ps1"]))).encode()
    response = upload(client, catalog["tiny"], other)
    assert response.status_code == 400
    assert "cannot be graded here" in response.get_data(as_text=True)
    assert count_submissions() == 0


def test_upload_over_the_size_limit_gets_the_413_page(
    app: Flask, client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    body = b"-" * (app.config["MAX_CONTENT_LENGTH"] + 1)  # raw bytes: no temporary file
    response = client.post(
        f"/workshops/tiny/notebooks/{notebook_id}/upload",
        data=body,
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 413
    assert "upload limit" in response.get_data(as_text=True)
    assert count_submissions() == 0


def test_good_upload_is_stored_then_queued(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    queue.flush()
    data = nbformat.writes(nbformat.from_dict(student_notebook(notebook_id))).encode()
    response = upload(client, notebook_id, data)
    assert response.status_code == 302
    submission = _db.session.scalar(select(Submission))
    assert submission is not None and submission.status == "queued"
    assert response.headers["Location"] == f"/submissions/{submission.id}"
    assert queue.pending_count() == 1
    queue.flush()


def test_submit_from_the_editor_keeps_the_answers_as_a_draft(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    answers = {"impl_mean": "def mean(xs):\n    return 2"}
    response = client.post(
        f"{page}/submit",
        data={
            "csrf_token": csrf_token(client, page),
            "mode": "check",
            "answers": json.dumps(answers),
        },
    )
    assert response.status_code == 302
    submission = _db.session.scalar(select(Submission))
    assert submission is not None and submission.mode == "check"
    draft = _db.session.scalar(select(Draft))
    assert draft is not None and draft.answers == answers
    assert "return 2" in client.get(page).get_data(as_text=True)  # the editor shows the draft
    queue.flush()


def test_answers_for_cells_that_do_not_exist_are_refused(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    response = client.post(
        f"{page}/submit",
        data={
            "csrf_token": csrf_token(client, page),
            "mode": "final",
            "answers": json.dumps({"test_mean": "pass"}),
        },
    )
    assert response.status_code == 400
    assert "do not belong" in response.get_data(as_text=True)
    assert count_submissions() == 0


def test_autosave_takes_json_with_the_csrf_header(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    url = f"{page}/draft"
    assert client.post(url, json={"impl_mean": "x = 1"}).status_code == 400  # no token
    ok = client.post(
        url, json={"impl_mean": "x = 1"}, headers={"X-CSRFToken": csrf_token(client, page)}
    )
    assert ok.status_code == 200 and "saved_at" in ok.get_json()


def test_a_new_databases_submission_never_shows_an_old_ones_cached_feedback(
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    tmp_path: Path,
    override_settings: Callable[..., None],
) -> None:
    override_settings(RENDER_CACHE_PATH=str(tmp_path / "render-cache"))  # kept across "databases"
    version = make_notebook_version(ADD_NOTEBOOK)
    _db.session.commit()

    def graded(text: str) -> int:
        feedback = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
        return graded_submission(org.engineer, version, feedback, id=4242).id

    auth.login(org.engineer.email)
    first = graded("Feedback from the first database")
    assert "Feedback from the first database" in client.get(f"/submissions/{first}").get_data(
        as_text=True
    )
    _db.session.execute(delete(Submission))  # a new database reuses the id
    second = graded("Feedback from the second database")
    page = client.get(f"/submissions/{second}").get_data(as_text=True)
    assert second == first
    assert "second database" in page and "first database" not in page


def signed_in_tabs(app: Flask, email: str, page: str, n: int) -> list[tuple[FlaskClient, str]]:
    """``n`` browser tabs of one engineer, each signed in on its own, with the page's token."""
    tabs = []
    for _ in range(n):
        tab = FreshContextClient(app, app.response_class, use_cookies=True)
        AuthActions(tab).login(email)
        tabs.append((tab, csrf_token(tab, page)))
    return tabs


def test_a_first_autosave_racing_a_submit_and_another_tab_loses_nothing(
    app: Flask, db: object, org: Org
) -> None:
    # Three tabs of one engineer on a notebook with no draft yet: two autosave and one submits
    # at the same moment. Before the draft was one upsert, one of them got a 500 almost always.
    notebook_id = fixture_catalog()["tiny"]
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    tabs = signed_in_tabs(app, org.engineer.email, page, 3)
    answers = {"impl_mean": "def mean(xs):\n    return sum(xs) / len(xs)"}

    def autosave(tab: FlaskClient, token: str) -> int:
        return tab.post(f"{page}/draft", json=answers, headers={"X-CSRFToken": token}).status_code

    def submit(tab: FlaskClient, token: str) -> int:
        form = {"csrf_token": token, "mode": "final", "answers": json.dumps(answers)}
        return tab.post(f"{page}/submit", data=form).status_code

    rounds = 6
    for _ in range(rounds):
        _db.session.execute(delete(Draft))
        _db.session.commit()
        start = threading.Barrier(3)

        def at_once(
            action: Callable[[FlaskClient, str], int],
            tab: FlaskClient,
            token: str,
            start: threading.Barrier = start,
        ) -> int:
            start.wait()
            return action(tab, token)

        with ThreadPoolExecutor(3) as pool:
            codes = list(pool.map(at_once, (autosave, autosave, submit), *zip(*tabs, strict=True)))
        assert codes == [200, 200, 302]
        _db.session.expire_all()
        drafts = _db.session.scalars(select(Draft)).all()
        assert [d.answers for d in drafts] == [answers]
    assert count_submissions() == rounds
    queue.flush()


def test_the_same_submit_form_sent_twice_or_at_once_is_one_attempt(
    app: Flask, db: object, org: Org
) -> None:
    # A double click, a browser retrying after a time-out, or a retry after "the queue cannot be
    # reached": each used to store (and grade) the attempt again.
    notebook_id = fixture_catalog()["tiny"]
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    tabs = signed_in_tabs(app, org.engineer.email, page, 2)
    html = tabs[0][0].get(page).get_data(as_text=True)
    key = html.split('name="key" value="', 1)[1].split('"', 1)[0]
    assert len(key) >= 16
    answers = json.dumps({"impl_mean": "def mean(xs):\n    return sum(xs) / len(xs)"})

    def submit(tab: FlaskClient, token: str, form_key: str, start: threading.Barrier) -> str:
        start.wait()
        form = {"csrf_token": token, "mode": "final", "answers": answers, "key": form_key}
        answer = tab.post(f"{page}/submit", data=form)
        assert answer.status_code == 302
        return str(answer.headers["Location"])

    tab, token = tabs[0]
    first = submit(tab, token, key, threading.Barrier(1))
    again = submit(tab, token, key, threading.Barrier(1))
    assert again == first and count_submissions() == 1
    for round_key in ("race-one-0123456789", "race-two-0123456789"):
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            places = list(
                pool.map(lambda t: submit(t[0], t[1], round_key, start), tabs)  # noqa: B023
            )
        assert places[0] == places[1]
    assert count_submissions() == 3
    another = tabs[1][0].get(page).get_data(as_text=True)  # a new page: a new attempt
    assert another.split('name="key" value="', 1)[1].split('"', 1)[0] != key
    queue.flush()
