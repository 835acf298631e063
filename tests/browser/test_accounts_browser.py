"""In a real browser: each role logs in to its own home page; errors and logout behave."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import Org
from tests.factories import PASSWORD
from webapp.auth.views import GENERIC_LOGIN_ERROR

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("who", "heading"),
    [("engineer", "My progress"), ("manager", "My teams"), ("admin", "Organisation")],
)
def test_each_role_logs_in_to_its_home_page(page: Page, org: Org, who: str, heading: str) -> None:
    user = getattr(org, who)
    log_in(page, user.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_test_id("whoami")).to_contain_text(user.display_name)
    screenshot(page, f"home-{who}")


def test_manager_sees_their_team_and_opens_it(page: Page, org: Org) -> None:
    log_in(page, org.manager.email, PASSWORD)
    page.get_by_role("link", name=org.team.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(org.team.name)
    expect(page.get_by_role("cell", name=org.engineer.display_name)).to_be_visible()
    expect(page.get_by_role("link", name=org.other_team.name)).to_have_count(0)
    screenshot(page, "team")


def test_wrong_password_shows_the_generic_error(page: Page, org: Org) -> None:
    log_in(page, org.engineer.email, "not-my-password")
    expect(page.get_by_role("alert")).to_have_text(GENERIC_LOGIN_ERROR)
    screenshot(page, "login-error")


def test_logout_returns_to_login_and_protects_pages(page: Page, org: Org) -> None:
    log_in(page, org.admin.email, PASSWORD)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Skillforge")
    page.goto("/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Skillforge")
    screenshot(page, "login")
