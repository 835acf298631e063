"""Admin pages: importing a roster from the browser is all or nothing."""

from __future__ import annotations

import io
import json
import re
import zipfile

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Org, csrf_token, post_form
from tests.import_flow import checked, run_import_jobs, upload
from webapp.db import db as _db
from webapp.models import AuditEvent, User


def import_page(client: FlaskClient, app: Flask, text: str | bytes) -> tuple[str, str]:
    """Upload a roster, let the worker check it; the run's URL and its page."""
    url = upload(
        client, "/admin/users/import", {}, text.encode() if isinstance(text, str) else text
    )
    return url, checked(client, app, url)


def test_a_bad_row_lists_its_line_and_column_and_stores_nothing(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.admin.email)
    before = _db.session.scalar(select(func.count(User.id)))
    url, page = import_page(
        client, app, "email,name,team,role\nnew@example.com,New,Ops,engineer\nbad,Bad,,engineer\n"
    )
    assert "2 problems: nothing will be imported." in page
    problems = page[page.index('data-testid="import-problems"') :]
    assert "<td>3</td><td><code>email</code></td>" in problems and "not a valid email" in problems
    assert "<td>3</td><td><code>team</code></td><td>empty: every row needs one" in problems
    assert _db.session.scalar(select(func.count(User.id))) == before
    csv = client.get(url + "/problems.csv").get_data(as_text=True)
    assert csv.lstrip("\ufeff").splitlines()[0] == "line,column,problem"


def test_a_good_roster_is_previewed_then_imported_and_each_new_person_invited(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.admin.email)
    text = (
        "email,name,team,role\nnew@example.com,New Person,Ops,engineer\n"
        f"{org.engineer.email},Eve,Platform,engineer\n"
    )
    url, page = import_page(client, app, text)
    assert "Every row is good." in page and "Import 2 rows" in page
    assert "moved from Applied ML to Platform" in page  # the preview says what changes
    assert _db.session.scalar(select(User).where(User.email == "new@example.com")) is None
    token = csrf_token(client, url)
    assert client.post(url + "/confirm", data={"csrf_token": token}).status_code == 302
    run_import_jobs(app)
    page = client.get(url).get_data(as_text=True)
    assert "Imported 2 rows." in page
    link = re.search(r"http://localhost/invite/[^<\s]+", page)
    assert link is not None
    links = client.get(url + "/invitations.csv").get_data(as_text=True).lstrip("\ufeff")
    assert links.splitlines()[1].startswith("new@example.com,New Person,http://localhost/invite/")
    auth.logout()
    invite = link[0].removeprefix("http://localhost")
    assert "Welcome to Skillforge, New Person" in client.get(invite).get_data(as_text=True)
    chosen = "correct horse battery staple 42"
    set_it = post_form(client, invite, {"new": chosen, "confirm": chosen})
    assert set_it.status_code == 302, set_it.get_data(as_text=True)
    assert auth.login("new@example.com", chosen).status_code == 302
    assert client.get(invite).status_code == 400  # the link works once


def test_a_roster_excel_saved_as_plain_csv_keeps_its_accents(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    # Excel on Windows writes plain "CSV" in Windows-1252 with semicolons in many locales.
    auth.login(org.admin.email)
    data = "email;name;team;role\r\nzoe@example.com;Zoé Façade;Opérations;engineer\r\n"
    url, page = import_page(client, app, data.encode("cp1252"))
    assert "Opérations" in page
    client.post(url + "/confirm", data={"csrf_token": csrf_token(client, url)})
    run_import_jobs(app)
    zoe = _db.session.scalar(select(User).where(User.email == "zoe@example.com"))
    assert zoe is not None and zoe.display_name == "Zoé Façade"


def test_a_file_no_encoding_reads_is_refused_with_what_to_do(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.admin.email)
    _, page = import_page(
        client, app, b"email,name,team,role\n\x81\x8d@example.com,X,Ops,engineer\n"
    )
    assert "1 problem: nothing will be imported." in page
    assert "not text in UTF-8, UTF-16 or Windows-1252" in page and "CSV UTF-8" in page


def test_a_roster_larger_than_other_uploads_may_be_is_taken(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.admin.email)
    rows = "".join(
        f"person{i:06d}@example.com,Person {i},Team {i % 50},engineer\n" for i in range(110_000)
    )
    data = ("email,name,team,role\n" + rows).encode()
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]  # 5 MB: every other upload's limit
    token = csrf_token(client, "/admin/users/import")
    boundary = "skillforge-test-boundary"
    body = (
        (  # built here, in memory: the test client would spool a body this big to a file
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="roster"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/admin/users/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 302, response.status_code


def test_other_peoples_imports_are_not_found_for_managers(
    client: FlaskClient, auth: AuthActions, org: Org, app: Flask
) -> None:
    auth.login(org.manager.email)
    token = csrf_token(client, "/staffing/import")
    response = client.post(
        "/staffing/import",
        data={
            "csrf_token": token,
            "kind": "projects",
            "file": (io.BytesIO(b"name,team,start_date\nX,Applied ML,2027-01-01\n"), "p.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    url = response.headers["Location"]
    run_import_jobs(app)
    assert "Every row is good." in client.get(url).get_data(as_text=True)
    auth.logout()
    auth.login(org.other_manager.email)
    assert client.get(url).status_code == 404


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
