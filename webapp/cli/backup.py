"""``backup`` and ``restore`` (the whole organisation to a portable archive and back), and
``housekeeping`` (pruning what is kept only for a while)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from alembic.migration import MigrationContext
from flask.cli import with_appcontext
from flask_migrate import upgrade

from webapp import jobs
from webapp.cli.common import fail
from webapp.db import db
from webapp.services import backup as archive
from webapp.services.words import count


def current_revision() -> str:
    """The database's Alembic revision; fails when the database was never set up."""
    with db.engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        fail("The database has no Skillforge schema yet: there is nothing to back up.")
    return str(revision)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@with_appcontext
def backup_command(file: Path | None) -> None:
    """Write a consistent backup of the whole organisation to FILE (default: a dated
    skillforge-backup-….zip here) while the app keeps running."""
    path = file or Path(archive.file_name(datetime.now(UTC)))
    revision = current_revision()
    total = sum(archive.count_rows(db.engine).values())
    with click.progressbar(length=total, label=f"Backing up {count(total, 'row')}") as bar:
        manifest = archive.write_file(db.engine, path, revision=revision, progress=bar.update)
    click.echo(
        f"Backed up {count(manifest.rows, 'row')} of {count(len(manifest.tables), 'table')} "
        f"(schema {manifest.revision}) to {path}."
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Load a backup FILE into this app's database, which must be empty (SQLite or
    PostgreSQL, whichever made the backup)."""
    try:
        manifest = archive.read_manifest(file)
        with click.progressbar(
            length=manifest.rows, label=f"Restoring {count(manifest.rows, 'row')}"
        ) as bar:
            archive.restore(
                db.engine,
                file,
                migrate=lambda revision: upgrade(revision=revision or "head"),
                progress=bar.update,
            )
    except archive.BackupError as exc:
        fail(str(exc))
    click.echo(
        f"Restored {count(manifest.rows, 'row')} from a backup made on {manifest.created_at} "
        f"({manifest.database}). People sign in again; start the grading workers so queued "
        "submissions are graded."
    )


@click.command("housekeeping")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
@with_appcontext
def housekeeping_command(dry_run: bool) -> None:
    """Remove what the RETENTION_* settings no longer keep: old practice runs, ended sign-in
    sessions, quiet login throttles and unused rendered notebooks (a grading worker does it
    daily; run it on app servers whose render cache no worker shares)."""
    pruned = jobs.run_housekeeping(dry_run=dry_run)
    text = pruned.describe()
    click.echo(text.replace("Removed", "Would remove", 1) if dry_run else text)
