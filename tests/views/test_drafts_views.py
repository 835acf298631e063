"""The browser and JupyterLab meet: the download holds the saved draft, and an upload can fill the
editors with its answers (saved as the draft) after the checks every upload passes."""

from __future__ import annotations

import json

import nbformat
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Org, csrf_token
from tests.factories import fixture_catalog, student_with_answer
from tests.views.test_work_views import student_notebook, upload
from webapp.db import db as _db
from webapp.grading import notebook as nbg
from webapp.models import Draft, NotebookVersion, Submission

MEAN = "def mean(xs):\n    return sum(xs) / len(xs)"


def answer_in(nb: dict[str, object], grade_id: str) -> str:
    node = nbformat.from_dict(nb)
    return next(str(c.source) for c in node.cells if nbg.grade_id(c) == grade_id)


def load(client: FlaskClient, notebook_id: int, data: bytes):  # noqa: ANN201
    return upload(client, notebook_id, data, mode="load")


def test_download_without_a_draft_is_the_plain_student_version(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    response = client.get(f"/workshops/tiny/notebooks/{notebook_id}/download")
    assert response.status_code == 200
    assert json.loads(response.get_data(as_text=True)) == student_notebook(notebook_id)


def test_download_holds_the_engineers_saved_draft_and_nobody_elses(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    auth.login(org.engineer.email)
    saved = client.post(
        f"{page}/draft", json={"impl_mean": MEAN}, headers={"X-CSRFToken": csrf_token(client, page)}
    )
    assert saved.status_code == 200
    downloaded = json.loads(client.get(f"{page}/download").get_data(as_text=True))
    assert answer_in(downloaded, "impl_mean") == MEAN
    nbformat.validate(nbformat.from_dict(downloaded))  # opens in JupyterLab
    auth.logout()
    auth.login(org.teammate.email)
    theirs = json.loads(client.get(f"{page}/download").get_data(as_text=True))
    assert answer_in(theirs, "impl_mean") != MEAN


def test_a_draft_for_cells_a_catalog_update_removed_still_downloads(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    version = _db.session.scalar(
        select(NotebookVersion).where(NotebookVersion.notebook_id == notebook_id)
    )
    assert version is not None
    _db.session.add(
        Draft(
            user_id=org.engineer.id,
            notebook_id=notebook_id,
            version_id=version.id,
            answers={"impl_mean": MEAN, "gone_cell": "x = 1"},
        )
    )
    _db.session.commit()
    response = client.get(f"/workshops/tiny/notebooks/{notebook_id}/download")
    assert response.status_code == 200
    assert answer_in(json.loads(response.get_data(as_text=True)), "impl_mean") == MEAN


def test_loading_an_upload_saves_its_answers_as_the_draft_and_the_editors_show_them(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    response = load(client, notebook_id, student_with_answer(notebook_id, "impl_mean", MEAN))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/workshops/tiny/notebooks/{notebook_id}"
    draft = _db.session.scalar(select(Draft))
    assert draft is not None and draft.answers["impl_mean"] == MEAN
    assert _db.session.scalar(select(func.count(Submission.id))) == 0  # nothing was graded
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "answers are in the editors and saved" in page
    assert json.dumps(MEAN)[1:-1] in page  # the editors' JSON holds the uploaded answer
    assert f'data-draft-saved-at="{draft.updated_at.isoformat()}"' in page


def test_a_bad_upload_to_load_says_what_to_do_and_keeps_the_draft(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    catalog = fixture_catalog()
    notebook_id = catalog["tiny"]
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    auth.login(org.engineer.email)
    client.post(
        f"{page}/draft", json={"impl_mean": MEAN}, headers={"X-CSRFToken": csrf_token(client, page)}
    )
    other = nbformat.writes(nbformat.from_dict(student_notebook(catalog["ps1"]))).encode()
    for data in (b"{not json", other):
        response = load(client, notebook_id, data)
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "Nothing was loaded and your saved answers are unchanged." in text
        assert "Upload the .ipynb you downloaded" in text
        draft = _db.session.scalar(select(Draft))
        assert draft is not None and draft.answers == {"impl_mean": MEAN}


def test_the_notebook_page_offers_download_and_upload_near_the_top(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    page = client.get(f"/workshops/tiny/notebooks/{notebook_id}").get_data(as_text=True)
    top = page[: page.index('data-testid="notebook"')]
    assert "Download .ipynb" in top and 'data-testid="upload-form"' in top
    assert "Load into the editors" in top
    assert "<details" not in top
    assert "Press Esc then Tab to leave an editor" in page
