"""The admin's grading page says whether submitted code runs sandboxed here."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.conftest import AuthActions, Org


def test_grading_page_shows_the_sandbox_and_queue(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    page = client.get("/admin/grading").get_data(as_text=True)
    assert "Submitted code runs sandboxed here." in page
    assert "bwrap-root" in page and "SqliteStorage" in page


def test_grading_page_warns_loudly_when_unsandboxed_grading_is_allowed(
    client: FlaskClient, auth: AuthActions, org: Org, override_settings: Callable[..., None]
) -> None:
    auth.login(org.admin.email)
    override_settings(GRADER_KERNEL_PYTHON="/nonexistent/python", GRADER_ALLOW_UNSANDBOXED=True)
    page = client.get("/admin/grading").get_data(as_text=True)
    assert "UNSANDBOXED" in page
