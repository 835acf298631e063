"""In a real browser: the catalog, a workshop and a rendered notebook with typeset math."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import Org
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_engineer_opens_the_catalog_a_workshop_and_a_notebook(
    page: Page, org: Org, catalog: dict[str, int]
) -> None:
    log_in(page, org.engineer.email, PASSWORD)
    page.get_by_role("link", name="Workshops", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Workshops")
    prerequisite = page.get_by_test_id("catalog").get_by_role("listitem")
    expect(prerequisite.first).to_contain_text("not met")
    screenshot(page, "catalog")

    page.get_by_role("link", name="Tiny statistics").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiny statistics")
    expect(page.get_by_test_id("proves")).to_contain_text("sample variance")
    screenshot(page, "workshop")

    page.locator("h3").get_by_role("link", name="Means and variances").click()
    notebook = page.get_by_test_id("notebook")
    expect(notebook.get_by_text("YOUR CODE HERE").first).to_be_visible()
    expect(notebook.locator(".katex").first).to_be_visible()  # KaTeX typeset the TeX
    expect(notebook.locator(".highlight .kn").first).to_have_text("import")
    expect(page.get_by_role("link", name="Download .ipynb")).to_be_visible()
    screenshot(page, "notebook")
