"""Fixtures for the grading tests: one warm sandboxed grader shared by the whole session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from webapp.grading.autograde import Grader, GraderConfig
from webapp.grading.pool import LEAN_WARM_UP

CELL_TIMEOUT = 3  # the nbgrader reference was produced with the same per-cell limit
ENV_SECRET = ("SKILLFORGE_GRADER_TEST_SECRET", "hunter2-env")


@pytest.fixture(scope="session")
def grader_config() -> GraderConfig:
    run_root = f"/dev/shm/sfg-test-{os.getpid()}"
    return GraderConfig(
        cell_timeout=CELL_TIMEOUT,
        notebook_timeout=60,
        pool_size=2,
        run_root=run_root,
        warm_up=LEAN_WARM_UP,
    )


@pytest.fixture(scope="session")
def grader(grader_config: GraderConfig) -> Iterator[Grader]:
    # A secret in the grader's own environment, set before any kernel starts: none may see it.
    os.environ[ENV_SECRET[0]] = ENV_SECRET[1]
    with Grader(grader_config) as grader:
        yield grader
    os.environ.pop(ENV_SECRET[0], None)
    shutil.rmtree(grader_config.run_root or "", ignore_errors=True)
