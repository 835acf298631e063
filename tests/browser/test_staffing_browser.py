"""In a real browser: a manager goes from the team matrix to a project's gaps to the plan, and
downloads the plan as CSV."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import Org
from tests.factories import PASSWORD
from tests.staffing_factories import (
    give_level,
    make_levels,
    make_project,
    make_skill,
    make_workshop,
)
from webapp.db import db as _db
from webapp.services.planning import plan

pytestmark = pytest.mark.browser


def test_manager_walks_from_matrix_to_gaps_to_plan_and_downloads_csv(page: Page, org: Org) -> None:
    plan.CACHE.clear()
    make_levels()
    skill = make_skill("interpretability", "Model interpretability")
    make_workshop("interpretability-in-practice", skill, 3, hours=6)
    give_level(org.engineer, skill, 2)
    make_project(org.team, needs=((skill, 3, 1),), people=(org.engineer,))
    _db.session.commit()

    log_in(page, org.manager.email, PASSWORD)
    page.goto(f"/teams/{org.team.id}/matrix")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Skill matrix")
    page.get_by_role("link", name="Staffing").click()
    page.get_by_role("link", name="Churn model").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Churn model")
    gaps = page.get_by_test_id("gaps")
    expect(gaps).to_contain_text("1 missing")
    expect(gaps).to_contain_text("Eve Engineer (2)")
    screenshot(page, "staffing-project-gaps")

    page.get_by_role("link", name="Training plan for Applied ML").click()
    page.get_by_role("button", name="Compute the plan").click()
    lines = page.get_by_test_id("plan-lines")
    expect(lines).to_contain_text(
        "Eve Engineer reaches Competent in Model interpretability for Churn model"
    )
    expect(page.get_by_test_id("plan-status")).to_contain_text("Optimal")
    screenshot(page, "staffing-plan")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the plan as CSV").click()
    path = download.value.path()
    text = path.read_text(encoding="utf-8-sig")
    assert download.value.suggested_filename == f"plan-team-{org.team.id}.csv"
    assert text.splitlines()[0].startswith("engineer,project,skill,level")
    assert "Interpretability In Practice" in text
