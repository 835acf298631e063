"""In a real browser at a laptop's width: each role's navigation is one line, the admin's pages
sit under an Admin menu and everyone's account pages under their name, all reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.conftest import Org
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_each_roles_navigation_is_one_line_and_reaches_its_pages(page: Page, org: Org) -> None:
    for who in (org.admin, org.manager, org.engineer):
        log_in(page, who.email, PASSWORD)
        brand = page.get_by_role("link", name="Skillforge", exact=True).bounding_box()
        bar = page.locator("nav.navbar").bounding_box()
        assert brand and bar and bar["height"] < 2 * brand["height"] + 16, (who.role, bar)
        if who.role == "admin":
            page.get_by_role("button", name="Admin", exact=True).click()
            page.get_by_role("link", name="Audit log").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
        else:
            expect(page.get_by_role("button", name="Admin", exact=True)).to_have_count(0)
        page.wait_for_load_state("load")  # the menus' script has run (a busy CI machine is slow)
        page.get_by_test_id("whoami").focus()
        page.keyboard.press("Enter")  # the account menu opens from the keyboard
        page.get_by_role("link", name="Sessions").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Where you are signed in")
        page.get_by_role("button", name="Log out").click()
