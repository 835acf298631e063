"""CSV imports through the browser's pages and the worker's jobs, as a user meets them:
upload, a worker checks the file, the preview (or the problems), the go, the worker writes it."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import csrf_token, post_form
from webapp import jobs
from webapp.db import db as _db
from webapp.models import ImportRun
from webapp.services import imports


def run_import_jobs(app: Flask) -> None:
    """What a grading worker does with the queued import steps (checks, then writes)."""
    with app.app_context():
        for run_id, status in _db.session.execute(select(ImportRun.id, ImportRun.status)).all():
            step = {"checking": imports.check, "importing": imports.apply}.get(status)
            if step is not None:
                jobs.run_import_step(run_id, step)
    _db.session.rollback()  # see the worker's commits


def upload(client: FlaskClient, path: str, fields: dict[str, object], data: bytes) -> str:
    """POST the file (field ``file`` or ``roster``) with the form's other fields; the run's URL."""
    field = "roster" if path.startswith("/admin") else "file"
    response = post_form(
        client,
        path,
        {**fields, field: (io.BytesIO(data), "upload.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def checked(client: FlaskClient, app: Flask, url: str) -> str:
    run_import_jobs(app)
    return client.get(url).get_data(as_text=True)


def confirmed(client: FlaskClient, app: Flask, url: str) -> str:
    """Press Import on a previewed run, let the worker write it; the run's page."""
    answer = client.post(url + "/confirm", data={"csrf_token": csrf_token(client, url)})
    assert answer.status_code == 302
    run_import_jobs(app)
    return client.get(url).get_data(as_text=True)


def import_all_the_way(
    client: FlaskClient, app: Flask, path: str, data: str | bytes, **fields: object
) -> str:
    """Upload, check and — when the check found nothing wrong — import; the last page."""
    raw = data.encode() if isinstance(data, str) else data
    url = upload(client, path, fields, raw)
    page = checked(client, app, url)
    if "Every row is good." not in page:
        return page
    return confirmed(client, app, url)
