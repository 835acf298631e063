"""What every command group shares: failing with a message, syncing the catalog."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from webapp import jobs
from webapp.db import db
from webapp.services.catalog import sync
from webapp.settings import settings_of


def fail(message: str) -> None:
    raise click.ClickException(message)


def sync_courses(path: Path | None = None, *, archive_all: bool = False) -> sync.SyncResult:
    """Sync courses/ (taxonomy, workshops, notebooks) and commit; fails listing every problem.
    A folder without workshops archives every live one only with ``archive_all``."""
    root = path or settings_of(current_app).courses_path
    result = sync.sync_catalog(
        db.session,
        root,
        actor=None,
        limits=settings_of(current_app).notebook_limits,
        archive_all=archive_all,
    )
    db.session.commit()  # the catalog, or on failure only the log of the attempt
    if result.counts.worked_queued:
        jobs.make_worked_examples()  # a grading worker makes the outputs of worked examples
    if not result.ok:
        lines = "\n".join(f"  {p}" for p in result.problems)
        fail(f"{result.summary} Fix these and run `flask courses sync` again:\n{lines}")
    return result
