"""The one in-process cache helper: a bounded, thread-safe least-recently-used map (cachetools)."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``size`` values; a new one pushes out the least recently read or written.

    Per process: every web worker and grading worker keeps its own copy, so cache only what is
    cheap to rebuild and what its key fully names (a content hash, a data digest). Anything other
    processes must see belongs in the database instead.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: LRUCache[K, V] = LRUCache(maxsize=size)
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe by themselves

    def get(self, key: K) -> V | None:
        """The value kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` (replacing any), and return it."""
        with self._lock:
            self._items[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
