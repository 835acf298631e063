"""Settings built once: read from the config by the factory, frozen, and changed by tests only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask

from tests.conftest import SUITE_LOGIN_LIMIT, app_config
from webapp import create_app
from webapp.db import db
from webapp.services.cache import LRU
from webapp.services.skills.estimates import EstimateSettings
from webapp.settings import (
    estimate_settings,
    from_config,
    plan_settings,
    practice_limit,
    settings_of,
)


def test_estimate_settings_come_from_config_keys() -> None:
    settings = estimate_settings({"ESTIMATE_HALF_LIFE_DAYS": 30, "REVERIFY_AFTER_DAYS": 90})
    assert settings == EstimateSettings(half_life_days=30.0, reverify_after_days=90)
    assert estimate_settings({}) == EstimateSettings()


def test_plan_settings_come_from_config_keys() -> None:
    settings = plan_settings(
        {"LEARNING_HOURS_PER_WEEK": 6, "UNFILLED_PENALTY_HOURS": 80, "PLAN_TIME_LIMIT_S": 5},
        today=date(2026, 1, 5),
    )
    assert (settings.hours_per_week, settings.unfilled_penalty_hours) == (6.0, 80.0)
    assert (settings.time_limit_s, settings.today) == (5.0, date(2026, 1, 5))


def test_the_practice_limit_is_read_from_the_config() -> None:
    assert practice_limit({"PRACTICE_RUNS_PER_HOUR": 3}).per_hour == 3
    assert practice_limit({}).per_hour == 10


def test_the_factory_builds_the_settings_from_the_whole_config_chain(app: Flask) -> None:
    built = settings_of(app)
    assert built == from_config(app.config)
    assert built.render_cache_path == Path(app.config["RENDER_CACHE_PATH"])
    assert built.login_rate_limit == SUITE_LOGIN_LIMIT
    assert (built.grader.pool_size, built.grader_lease) == (2, timedelta(seconds=900))


def test_changing_the_config_after_start_up_changes_no_setting(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MIN_AGGREGATE_GROUP", 99)
    assert settings_of(app).min_aggregate_group == 3


def test_a_test_overrides_a_setting_through_its_config_key(
    app: Flask, override_settings: Callable[..., None]
) -> None:
    override_settings(MIN_AGGREGATE_GROUP=99)
    assert settings_of(app).min_aggregate_group == 99


def test_a_plan_is_dated_the_day_it_is_asked_for(app: Flask) -> None:
    with time_machine.travel(datetime(2031, 2, 3, 23, 30, tzinfo=UTC), tick=False):
        assert settings_of(app).plan_for().today == date(2031, 2, 3)
    assert settings_of(app).plan.today is None


def test_the_cache_drops_the_least_recently_used_value_first() -> None:
    cache: LRU[str, int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # read: now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    cache.clear()
    assert cache.get("a") is None


def test_rendered_pages_are_kept_in_the_instance_folder_by_default(tmp_path: Path) -> None:
    config = app_config(f"sqlite:///{tmp_path / 'default.db'}")
    del config["RENDER_CACHE_PATH"]
    fresh = create_app(config)
    assert settings_of(fresh).render_cache_path == Path(fresh.instance_path) / "render-cache"
    with fresh.app_context():
        db.engine.dispose()
