"""Run tests from the notebook page: a refused practice run comes back to the page with the reason,
stores nothing, and the page says how many practice runs are left; Submit is never refused."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import nbformat
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Org, csrf_token
from tests.factories import fixture_catalog
from webapp.db import db as _db
from webapp.extensions import queue
from webapp.models import Draft, NotebookVersion, Submission


@pytest.fixture()
def page(client: FlaskClient, auth: AuthActions, org: Org) -> Iterator[str]:
    """The tiny notebook's page, the engineer logged in; the grading queue emptied after."""
    auth.login(org.engineer.email)
    yield f"/workshops/tiny/notebooks/{fixture_catalog()['tiny']}"
    queue.flush()


def click(client: FlaskClient, page: str, mode: str = "check", answer: str = "return 2"):  # noqa: ANN201
    answers = {"impl_mean": f"def mean(xs):\n    {answer}"}
    return client.post(
        f"{page}/submit",
        data={"csrf_token": csrf_token(client, page), "mode": mode, "answers": json.dumps(answers)},
    )


def count() -> int:
    return _db.session.scalar(select(func.count(Submission.id))) or 0


def graded_all() -> None:
    for sub in _db.session.scalars(select(Submission)):
        sub.status = "graded"
    _db.session.commit()


def test_the_page_says_how_many_practice_runs_are_left(client: FlaskClient, page: str) -> None:
    assert "You have 10 of 10 practice runs left this hour" in client.get(page).get_data(True)
    click(client, page)
    body = client.get(page).get_data(as_text=True)
    assert "You have 9 of 10 practice runs left this hour; Submit is not limited." in body


def test_a_second_run_while_the_first_is_graded_comes_back_with_a_link_to_it(
    client: FlaskClient, page: str
) -> None:
    first = click(client, page)
    assert first.status_code == 302 and first.headers["Location"].startswith("/submissions/")
    refused = click(client, page, answer="return 3")
    assert refused.status_code == 302 and refused.headers["Location"] == page
    assert count() == 1
    draft = _db.session.scalar(select(Draft))
    assert draft is not None and "return 3" in draft.answers["impl_mean"]  # the answers are kept
    body = client.get(page).get_data(as_text=True)
    assert "is still being graded; you can run the tests again once it is done" in body  # flash
    run_id = _db.session.scalar(select(Submission.id))
    assert f'href="/submissions/{run_id}">test run #{run_id}</a>' in body
    graded_all()
    assert click(client, page).headers["Location"].startswith("/submissions/")
    assert count() == 2


def test_submit_is_accepted_while_a_practice_run_is_pending(client: FlaskClient, page: str) -> None:
    click(client, page)
    response = click(client, page, "final")
    assert response.status_code == 302 and response.headers["Location"].startswith("/submissions/")
    assert count() == 2


def test_an_uploaded_practice_run_is_held_to_the_same_rule(client: FlaskClient, page: str) -> None:
    click(client, page)
    version = _db.session.scalar(
        select(NotebookVersion).where(NotebookVersion.notebook_id == fixture_catalog()["tiny"])
    )
    assert version is not None
    data = nbformat.writes(nbformat.from_dict(version.student)).encode()
    response = client.post(
        f"{page}/upload",
        data={
            "csrf_token": csrf_token(client, page),
            "mode": "check",
            "notebook": (io.BytesIO(data), "work.ipynb"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and response.headers["Location"] == page
    assert count() == 1


def test_the_hourly_limit_says_when_the_next_run_is_possible(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    page: str,
    override_settings: Callable[..., None],
) -> None:
    override_settings(PRACTICE_RUNS_PER_HOUR=2)
    start = datetime(2030, 3, 4, 13, 4, 10, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        auth.login(org.engineer.email)  # the session from before the jump in time has expired
        for _ in range(2):
            click(client, page)
            graded_all()
        refused = click(client, page)
        assert refused.headers["Location"] == page and count() == 2
        body = client.get(page).get_data(as_text=True)
        assert "you can run the tests again at 14:05 UTC. Submit is not limited." in body
        assert click(client, page, "final").headers["Location"].startswith("/submissions/")
        clock.move_to(start + timedelta(hours=1, seconds=1))
        assert click(client, page).headers["Location"].startswith("/submissions/")
        assert count() == 4
