"""Admin pages: importing a roster from the browser is all or nothing."""

from __future__ import annotations

import io
import json
import zipfile

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Org, csrf_token
from webapp.db import db as _db
from webapp.models import AuditEvent, User


def upload_roster(client: FlaskClient, text: str | bytes):  # noqa: ANN201
    token = csrf_token(client, "/admin/users/import")
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/admin/users/import",
        data={"csrf_token": token, "roster": (io.BytesIO(data), "roster.csv")},
        content_type="multipart/form-data",
    )


def test_a_bad_row_lists_its_line_and_stores_nothing(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    before = _db.session.scalar(select(func.count(User.id)))
    response = upload_roster(
        client, "email,name,team,role\nnew@example.com,New,Ops,engineer\nbad,Bad,Ops,engineer\n"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nothing was imported" in body and "not a valid email" in body
    assert _db.session.scalar(select(func.count(User.id))) == before


def test_a_good_roster_shows_each_new_initial_password_once(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    response = upload_roster(client, "email,name,team,role\nnew@example.com,New,Ops,engineer\n")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported 1 row." in body and "new@example.com" in body and "created" in body
    assert _db.session.scalar(select(User).where(User.email == "new@example.com")) is not None


def test_a_roster_excel_saved_as_plain_csv_keeps_its_accents(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    # Excel on Windows writes plain "CSV" in Windows-1252 with semicolons in many locales.
    auth.login(org.admin.email)
    data = "email;name;team;role\r\nzoe@example.com;Zoé Façade;Opérations;engineer\r\n"
    response = upload_roster(client, data.encode("cp1252"))
    assert response.status_code == 200
    zoe = _db.session.scalar(select(User).where(User.email == "zoe@example.com"))
    assert zoe is not None and zoe.display_name == "Zoé Façade"


def test_a_file_no_encoding_reads_is_refused_with_what_to_do(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    response = upload_roster(client, b"email,name,team,role\n\x81\x8d@example.com,X,Ops,engineer\n")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "not text in UTF-8, UTF-16 or Windows-1252" in body and "CSV UTF-8" in body


def test_a_backup_download_is_a_zip_of_the_organisation_and_is_audited(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    page = client.get("/admin/backup").get_data(as_text=True)
    assert "Download a backup" in page and "<code>users</code>" in page
    assert client.post("/admin/backup").status_code == 400  # no CSRF token: refused
    token = csrf_token(client, "/admin/backup")
    with client.post("/admin/backup", data={"csrf_token": token}) as answer:  # sent, then closed
        assert answer.status_code == 200 and answer.mimetype == "application/zip"
        assert "attachment; filename=skillforge-backup-" in answer.headers["Content-Disposition"]
        data = answer.data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        people = [json.loads(line) for line in archive.read("tables/users.jsonl").splitlines()]
    assert manifest["format"] == "skillforge-backup" and manifest["tables"]["users"] == len(people)
    assert {p["email"] for p in people} >= {org.admin.email, org.engineer.email}
    action = _db.session.scalar(
        select(AuditEvent.action).where(AuditEvent.action == "backup.download")
    )
    assert action == "backup.download"
