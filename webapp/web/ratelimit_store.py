"""A rate-limit store every process of one machine shares, for Flask-Limiter without Redis.

Flask-Limiter (through the ``limits`` library) counts requests in a storage backend; its
in-memory one is per process, so two gunicorn workers let twice the limit through. This backend
keeps the counters of the fixed-window strategy (the one configured) in a SQLite file of their
own (``instance/ratelimits.sqlite3`` by default), so every process of ``skillforge serve`` sees
the same counts without another server, and the counters never wait on the app's database lock.
The limiting itself stays the library's: this only stores its counters. With Redis configured,
Redis is used instead (shared by every machine).

URI: ``skillforge-sqlite:///absolute/path/to/file.sqlite3``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from limits.storage import Storage

SCHEME = "skillforge-sqlite"
PRUNE_EVERY = 1000  # increments between two removals of expired counters


class SharedSqliteStorage(Storage):
    """Fixed-window counters in one SQLite file, one connection per thread."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(unquote(urlsplit(uri).path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._increments = 0
        with self._connection() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS counters "
                "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "PRAGMA synchronous=NORMAL"
            )  # counters, not records: a crash may lose the last few
            self._local.conn = conn
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        conn = self._connection()
        (count,) = conn.execute(
            "INSERT INTO counters (key, count, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN counters.expires <= ? THEN excluded.count "
            "ELSE counters.count + excluded.count END, "
            "expires = CASE WHEN counters.expires <= ? THEN excluded.expires "
            "ELSE counters.expires END "
            "RETURNING count",
            (key, amount, now + expiry, now, now),
        ).fetchone()
        self._increments += 1
        if self._increments % PRUNE_EVERY == 0:
            conn.execute("DELETE FROM counters WHERE expires <= ?", (now,))
        return int(count)

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute("SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._connection()
            .execute("SELECT expires FROM counters WHERE key = ?", (key,))
            .fetchone()
        )
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        cursor = self._connection().execute("DELETE FROM counters")
        return int(cursor.rowcount)

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))


def uri_for(path: Path) -> str:
    return f"{SCHEME}://{path.resolve()}"
