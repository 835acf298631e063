"""Settings built once: the config's values for services, typed and frozen, kept on the app."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from webapp.grading.autograde import GraderConfig
from webapp.grading.pool import WARM_UP
from webapp.grading.wellformed import NotebookLimits
from webapp.services.catalog.rendering import RenderLimits
from webapp.services.housekeeping import Retention
from webapp.services.learning.live_sessions import LiveSettings
from webapp.services.learning.practice import PracticeLimit
from webapp.services.planning.optimiser import PlanSettings
from webapp.services.skills.estimates import EstimateSettings

EXTENSION_KEY = "skillforge.settings"  # where the factory keeps them in ``app.extensions``


@dataclass(frozen=True)
class Settings:
    """What views, jobs and commands hand to services, each beside the config key it comes from
    (defaults and meanings in webapp/config.py)."""

    courses_path: Path  # COURSES_PATH
    render_cache_path: Path  # RENDER_CACHE_PATH
    estimates: EstimateSettings  # ESTIMATE_HALF_LIFE_DAYS, REVERIFY_AFTER_DAYS
    bus_factor_min: int  # BUS_FACTOR_MIN
    min_aggregate_group: int  # MIN_AGGREGATE_GROUP: the privacy threshold for team aggregates
    plan: PlanSettings  # undated; use plan_for()
    plan_what_if_s: float  # PLAN_WHAT_IF_TIME_LIMIT_S
    grader: GraderConfig  # GRADER_* (kernel, timeouts, memory, pool, warm-up, sandbox rule)
    grader_workers: int  # GRADER_WORKERS
    grader_lease: timedelta  # GRADER_LEASE_S
    grader_shutdown_s: float  # GRADER_SHUTDOWN_S
    practice: PracticeLimit  # PRACTICE_RUNS_PER_HOUR
    login_rate_limit: str  # LOGIN_RATE_LIMIT
    live: LiveSettings  # LIVE_* (kernel hosts, token, limits, culling)
    worked_max_bytes: int  # WORKED_OUTPUTS_MAX_BYTES
    notebook_limits: NotebookLimits  # NOTEBOOK_MAX_CELLS, _SOURCE_BYTES, _OUTPUT_BYTES, _DEPTH
    render: RenderLimits  # RENDER_MAX_BYTES, RENDER_TIME_LIMIT_S
    retention: Retention  # RETENTION_PRACTICE_DAYS, _SESSIONS_DAYS, _RENDER_DAYS, _IMPORTS_DAYS

    def plan_for(self, today: date | None = None) -> PlanSettings:
        """The plan settings dated ``today`` (default: today in UTC): a plan depends on the date,
        and so does the digest it is cached under."""
        return replace(self.plan, today=today or datetime.now(UTC).date())


class _HasExtensions(Protocol):
    @property
    def extensions(self) -> Mapping[str, Any]: ...


def settings_of(app: _HasExtensions) -> Settings:
    """The settings the factory built for ``app`` (pass ``current_app`` in a request, job or
    command); they are never re-read from ``app.config``."""
    return cast(Settings, app.extensions[EXTENSION_KEY])


def from_config(config: Mapping[str, Any]) -> Settings:
    """Read every setting from an app config (one that holds every key of webapp/config.py, with
    paths resolved by the factory). Raises KeyError or ValueError on a missing or bad value."""
    return Settings(
        courses_path=Path(config["COURSES_PATH"]),
        render_cache_path=Path(config["RENDER_CACHE_PATH"]),
        estimates=estimate_settings(config),
        bus_factor_min=int(config["BUS_FACTOR_MIN"]),
        min_aggregate_group=int(config["MIN_AGGREGATE_GROUP"]),
        plan=plan_settings(config),
        plan_what_if_s=float(config["PLAN_WHAT_IF_TIME_LIMIT_S"]),
        grader=grader_config(config),
        grader_workers=int(config["GRADER_WORKERS"]),
        grader_lease=timedelta(seconds=config["GRADER_LEASE_S"]),
        grader_shutdown_s=float(config["GRADER_SHUTDOWN_S"]),
        practice=practice_limit(config),
        login_rate_limit=str(config["LOGIN_RATE_LIMIT"]),
        live=live_settings(config),
        worked_max_bytes=int(config["WORKED_OUTPUTS_MAX_BYTES"]),
        notebook_limits=notebook_limits(config),
        render=RenderLimits(
            max_bytes=int(config["RENDER_MAX_BYTES"]),
            time_limit_s=float(config["RENDER_TIME_LIMIT_S"]),
        ),
        retention=retention(config),
    )


def retention(config: Mapping[str, Any]) -> Retention:
    """The RETENTION_* keys, in whole days (0: keep for ever); a negative number is refused."""
    days = {
        key: int(config[f"RETENTION_{key.upper()}"])
        for key in ("practice_days", "sessions_days", "render_days", "imports_days")
    }
    for key, value in days.items():
        if value < 0:
            raise ValueError(f"RETENTION_{key.upper()} must be 0 (keep) or more days, not {value}")
    return Retention(**days)


def notebook_limits(config: Mapping[str, Any]) -> NotebookLimits:
    """The NOTEBOOK_MAX_* keys: the bounds on every notebook that enters the app."""
    return NotebookLimits(
        max_cells=int(config["NOTEBOOK_MAX_CELLS"]),
        max_source_bytes=int(config["NOTEBOOK_MAX_SOURCE_BYTES"]),
        max_output_bytes=int(config["NOTEBOOK_MAX_OUTPUT_BYTES"]),
        max_depth=int(config["NOTEBOOK_MAX_DEPTH"]),
    )


def estimate_settings(config: Mapping[str, Any]) -> EstimateSettings:
    """``ESTIMATE_HALF_LIFE_DAYS`` and ``REVERIFY_AFTER_DAYS``, defaulting to the service's."""
    default = EstimateSettings()
    return EstimateSettings(
        half_life_days=float(config.get("ESTIMATE_HALF_LIFE_DAYS", default.half_life_days)),
        reverify_after_days=int(config.get("REVERIFY_AFTER_DAYS", default.reverify_after_days)),
    )


def plan_settings(config: Mapping[str, Any], *, today: date | None = None) -> PlanSettings:
    """LEARNING_HOURS_PER_WEEK, UNFILLED_PENALTY_HOURS, PLAN_TIME_LIMIT_S and PLAN_MIP_GAP,
    defaulting to the optimiser's; dated ``today`` when given."""
    d = PlanSettings()
    return PlanSettings(
        unfilled_penalty_hours=float(
            config.get("UNFILLED_PENALTY_HOURS", d.unfilled_penalty_hours)
        ),
        hours_per_week=float(config.get("LEARNING_HOURS_PER_WEEK", d.hours_per_week)),
        time_limit_s=float(config.get("PLAN_TIME_LIMIT_S", d.time_limit_s)),
        mip_gap=float(config.get("PLAN_MIP_GAP", d.mip_gap)),
        today=today,
    )


def practice_limit(config: Mapping[str, Any]) -> PracticeLimit:
    """``PRACTICE_RUNS_PER_HOUR``, defaulting to the service's."""
    default = PracticeLimit()
    return PracticeLimit(per_hour=int(config.get("PRACTICE_RUNS_PER_HOUR", default.per_hour)))


def grader_config(config: Mapping[str, Any]) -> GraderConfig:
    """The sandboxed grader's limits and warm-up from the GRADER_* keys."""
    return GraderConfig(
        kernel_python=config["GRADER_KERNEL_PYTHON"],
        cell_timeout=float(config["GRADER_CELL_TIMEOUT"]),
        notebook_timeout=float(config["GRADER_NOTEBOOK_TIMEOUT"]),
        memory_mb=int(config["GRADER_MEMORY_MB"]),
        pool_size=int(config["GRADER_POOL_SIZE"]),
        allow_unsandboxed=bool(config["GRADER_ALLOW_UNSANDBOXED"]),
        warm_up=config.get("GRADER_WARM_UP") or WARM_UP,
    )


def live_settings(config: Mapping[str, Any]) -> LiveSettings:
    """The LIVE_* keys; the hosts' token defaults to one derived from SECRET_KEY, so the app and
    the hosts ``skillforge`` starts agree without another secret to manage."""
    hosts = config.get("LIVE_KERNEL_HOSTS") or []
    if isinstance(hosts, str):
        hosts = [h for h in hosts.replace(",", " ").split() if h]
    token = (
        config.get("LIVE_KERNEL_TOKEN")
        or hmac.new(
            str(config.get("SECRET_KEY", "")).encode(), b"skillforge live kernels", hashlib.sha256
        ).hexdigest()
    )
    d = LiveSettings()
    return LiveSettings(
        hosts=tuple(str(h).rstrip("/") for h in hosts),
        token=str(token),
        per_engineer=int(config.get("LIVE_KERNELS_PER_ENGINEER", d.per_engineer)),
        per_host=int(config.get("LIVE_KERNELS_PER_HOST", d.per_host)),
        pool_size=int(config.get("LIVE_POOL_SIZE", d.pool_size)),
        idle_minutes=int(config.get("LIVE_IDLE_MINUTES", d.idle_minutes)),
        cell_max_s=float(config.get("LIVE_CELL_MAX_S", d.cell_max_s)),
        memory_mb=int(config.get("LIVE_MEMORY_MB", d.memory_mb)),
        warm_up=config.get("LIVE_WARM_UP"),
    )
