"""In a real browser: an engineer self-assesses; a manager opens the matrix and the trends chart."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import Org
from tests.factories import PASSWORD, SkillKit
from webapp.db import db as _db

pytestmark = pytest.mark.browser


def test_engineer_records_a_self_assessment(page: Page, org: Org, skill_kit: SkillKit) -> None:
    skill_kit.skill("bias", name="Bias")
    _db.session.commit()
    log_in(page, org.engineer.email, PASSWORD)
    page.get_by_role("link", name="My skills").click()
    page.get_by_label("Skill", exact=True).select_option(label="Ml · Bias")
    page.get_by_label("4", exact=False).first.check()
    page.get_by_role("button", name="Record assessment").click()
    table = page.get_by_test_id("my-skills")
    expect(table).to_contain_text("Bias")
    expect(table).to_contain_text("Self-assessment")
    screenshot(page, "skills-mine")


def test_manager_sees_heatmap_and_trends_chart(
    page: Page, org: Org, skill_kit: SkillKit, override_settings: Callable[..., None]
) -> None:
    override_settings(MIN_AGGREGATE_GROUP=2)
    bias = skill_kit.skill("bias", name="Bias")
    skill_kit.evidence(org.engineer, bias, 3, "workshop")
    skill_kit.evidence(org.teammate, bias, 2, "self")
    _db.session.commit()
    log_in(page, org.manager.email, PASSWORD)
    page.get_by_role("link", name="Team skills").click()
    page.get_by_role("link", name="Skill matrix").click()
    matrix = page.get_by_test_id("skill-matrix")
    expect(matrix.locator("td.is-verified")).to_have_count(1)
    expect(matrix.locator("td.is-claimed")).to_have_count(1)
    screenshot(page, "skills-matrix")
    page.get_by_role("link", name="Trends").first.click()
    expect(page.locator("#trend-chart")).to_have_attribute("data-ready", "true")
    screenshot(page, "skills-trends")
