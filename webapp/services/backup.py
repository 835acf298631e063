"""Backup and restore of the whole organisation as one portable archive.

A backup is a ZIP file: ``manifest.json`` (the format, the schema's Alembic revision, when and
from which kind of database it was made, and each table's row count) and one JSON Lines file a
table (``tables/<name>.jsonl``, a row a line, in primary-key order). It is read from one
consistent snapshot while the app runs: SQLite's online backup API copies the database first;
PostgreSQL reads everything in one REPEATABLE READ, READ ONLY transaction. JSON is data, never
code, so restoring an archive cannot run anything it holds.

A restore loads an archive into an empty database of either kind: the schema is migrated to the
archive's revision, every row is inserted (in dependency order, in one transaction, so a failed
restore leaves nothing behind), PostgreSQL's id sequences are moved past the restored ids, and
the schema is then migrated to this version's head. What only makes sense on the running system
is left out: sign-in sessions and login throttles (people sign in again), live kernels and the
grading workers' heartbeats.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    create_engine,
    func,
    inspect,
    select,
)
from sqlalchemy import text as sql

from webapp.db import db

FORMAT = "skillforge-backup"
FORMAT_VERSION = 1
LEFT_OUT = frozenset(
    {"alembic_version", "user_sessions", "login_throttles", "live_kernels", "grading_workers"}
)
CHUNK = 1000  # rows a statement inserts

Progress = Callable[[int], None]  # called with how many rows were just written or read


class BackupError(ValueError):
    """An archive that cannot be restored here, or a database it cannot go into; the message
    says what to do."""


@dataclass(frozen=True)
class Manifest:
    revision: str
    created_at: str
    database: str
    tables: dict[str, int]  # table -> rows

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def tables_to_keep() -> list[Table]:
    """The tables a backup holds, parents before children."""
    return [t for t in db.metadata.sorted_tables if t.name not in LEFT_OUT]


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in tables_to_keep()
        }


# --- backup -------------------------------------------------------------------------------------


def backup(
    engine: Engine, out: IO[bytes], *, revision: str, progress: Progress = lambda n: None
) -> Manifest:
    """Write the archive of everything ``engine``'s database holds to ``out``."""
    with _snapshot(engine) as conn:
        counts: dict[str, int] = {}
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in tables_to_keep():
                counts[table.name] = _write_table(conn, table, archive, progress)
            manifest = Manifest(
                revision=revision,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                database=engine.dialect.name,
                tables=counts,
            )
            archive.writestr(
                "manifest.json",
                json.dumps(
                    {
                        "format": FORMAT,
                        "format_version": FORMAT_VERSION,
                        "revision": manifest.revision,
                        "created_at": manifest.created_at,
                        "database": manifest.database,
                        "tables": manifest.tables,
                    },
                    indent=2,
                ),
            )
    return manifest


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one moment of the database while others keep writing."""
    if engine.dialect.name == "sqlite":
        source = engine.url.database
        if not source or source == ":memory:":
            raise BackupError("An in-memory SQLite database cannot be backed up.")
        with tempfile.TemporaryDirectory(prefix="skillforge-backup-") as tmp:
            copy = Path(tmp) / "snapshot.sqlite3"
            with sqlite3.connect(source) as live, sqlite3.connect(copy) as target:
                live.backup(target)  # SQLite's online backup: consistent, writers keep going
            live.close()
            target.close()
            snapshot = create_engine(f"sqlite:///{copy}")
            try:
                with snapshot.connect() as conn:
                    yield conn
            finally:
                snapshot.dispose()
        return
    with (
        engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as conn,
        conn.begin(),
    ):
        yield conn


def _write_table(
    conn: Connection, table: Table, archive: zipfile.ZipFile, progress: Progress
) -> int:
    written = 0
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(
        select(table).order_by(*order)
    )
    with archive.open(f"tables/{table.name}.jsonl", "w", force_zip64=True) as member:
        for rows in result.partitions(CHUNK):
            lines = [
                json.dumps({k: _encode(v) for k, v in row._mapping.items()}, allow_nan=True)
                for row in rows
            ]
            member.write(("\n".join(lines) + "\n").encode())
            written += len(rows)
            progress(len(rows))
    return written


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- restore ------------------------------------------------------------------------------------


def read_manifest(path: Path) -> Manifest:
    """The archive's manifest; raises BackupError when it is not a Skillforge backup."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("manifest.json"))
    except (OSError, zipfile.BadZipFile, KeyError, json.JSONDecodeError):
        raise BackupError(
            f"{path} is not a Skillforge backup (a ZIP file with a manifest.json): "
            "choose a file `skillforge backup` wrote."
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Skillforge backup.")
    if data.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is a backup in format {data.get('format_version')!r}; this version of "
            f"Skillforge reads format {FORMAT_VERSION}."
        )
    tables = data.get("tables")
    if not isinstance(tables, dict) or not all(isinstance(v, int) for v in tables.values()):
        raise BackupError(f"{path} has a damaged manifest (its table counts).")
    return Manifest(
        str(data.get("revision")), str(data.get("created_at")), str(data.get("database")), tables
    )


def check_empty(engine: Engine) -> None:
    """Raises BackupError unless no Skillforge table of ``engine``'s database holds a row."""
    names = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        full = [
            name
            for name in sorted(names - {"alembic_version"})
            if conn.scalar(sql(f'SELECT 1 FROM "{name}" LIMIT 1')) is not None  # noqa: S608
        ]
    if full:
        raise BackupError(
            f"The database is not empty ({', '.join(full[:5])}{' …' if len(full) > 5 else ''} "
            "hold rows): restore into a new, empty database (docs/deployment.md says how)."
        )


def restore(
    engine: Engine,
    path: Path,
    *,
    migrate: Callable[[str | None], None],
    progress: Progress = lambda n: None,
) -> Manifest:
    """Load the archive at ``path`` into ``engine``'s empty database.

    ``migrate(revision)`` brings the schema to that Alembic revision (None: this version's
    head); it is called with the archive's revision before the rows go in and with None after.
    Raises BackupError, leaving the database without any of the archive's rows."""
    manifest = read_manifest(path)
    check_empty(engine)
    try:
        migrate(manifest.revision)
    except Exception as exc:
        raise BackupError(
            f"The backup's schema (revision {manifest.revision}) cannot be set up here: {exc}. "
            "Restore it with the Skillforge version that made it, or a later one."
        ) from exc
    targets = _tables_at_revision(engine)
    with zipfile.ZipFile(path) as archive, engine.begin() as conn:
        for table in tables_to_keep():
            if table.name not in manifest.tables:
                continue
            target = targets.get(table.name)
            if target is None:
                raise BackupError(f"The backup holds a table this schema lacks: {table.name}.")
            loaded = _load_table(conn, target, archive, progress)
            if loaded != manifest.tables[table.name]:
                raise BackupError(
                    f"The backup is damaged: {table.name} holds {loaded} rows, its manifest "
                    f"says {manifest.tables[table.name]}. Nothing was restored."
                )
        if engine.dialect.name == "postgresql":
            _move_sequences(conn, targets.values())
    migrate(None)
    return manifest


def _tables_at_revision(engine: Engine) -> dict[str, Table]:
    """The tables as the migrated schema has them, with this version's column types where the
    column is the same (so timestamps, JSON and booleans load as the app stores them)."""
    reflected = MetaData()
    reflected.reflect(engine)
    ours = {t.name: t for t in tables_to_keep()}
    tables: dict[str, Table] = {}
    for name, table in reflected.tables.items():
        if name not in ours:
            continue
        known = ours[name].columns
        columns = [
            Column(c.name, known[c.name].type if c.name in known else c.type, key=c.name)
            for c in table.columns
        ]
        tables[name] = Table(name, MetaData(), *columns)
    return tables


def _load_table(
    conn: Connection, table: Table, archive: zipfile.ZipFile, progress: Progress
) -> int:
    decoders = {c.name: _decoder(c) for c in table.columns}
    loaded = 0
    try:
        member = archive.open(f"tables/{table.name}.jsonl")
    except KeyError:
        raise BackupError(f"The backup is damaged: it lacks tables/{table.name}.jsonl.") from None
    with member:
        chunk: list[dict[str, Any]] = []
        for number, line in enumerate(member, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                chunk.append({k: decoders[k](v) for k, v in row.items() if k in decoders})
            except (ValueError, TypeError, KeyError) as exc:
                raise BackupError(
                    f"The backup is damaged: line {number} of {table.name} cannot be read "
                    f"({exc}). Nothing was restored."
                ) from None
            if len(chunk) >= CHUNK:
                conn.execute(table.insert(), chunk)
                loaded += len(chunk)
                progress(len(chunk))
                chunk = []
        if chunk:
            conn.execute(table.insert(), chunk)
            loaded += len(chunk)
            progress(len(chunk))
    return loaded


def _decoder(column: Column[Any]) -> Callable[[Any], Any]:
    base = getattr(column.type, "impl_instance", column.type)  # a TypeDecorator's own type
    try:
        kind = base.python_type
    except NotImplementedError:
        kind = object

    def decode(value: Any) -> Any:
        if value is None:
            return None
        if kind is datetime:
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if kind is date:
            return date.fromisoformat(value)
        if kind is bytes:
            return base64.b64decode(value)
        if kind is Decimal:
            return Decimal(value)
        return value

    return decode


def _move_sequences(conn: Connection, tables: Any) -> None:
    """PostgreSQL hands out ids from sequences: start them after the restored rows' ids."""
    for table in tables:
        if "id" not in table.columns:
            continue
        sequence = conn.scalar(sql("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        if sequence:
            highest = f'SELECT COALESCE(max(id), 0) + 1 FROM "{table.name}"'  # noqa: S608
            conn.execute(sql(f"SELECT setval(:s, ({highest}), false)"), {"s": sequence})


def file_name(now: datetime) -> str:
    return f"skillforge-backup-{now:%Y%m%d-%H%M%S}.zip"


def write_file(
    engine: Engine, path: Path, *, revision: str, progress: Progress = lambda n: None
) -> Manifest:
    """Back up into ``path`` atomically: a failed backup never leaves a half-written file."""
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as out:
            manifest = backup(engine, out, revision=revision, progress=progress)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest
