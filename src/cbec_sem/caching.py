"""Small caches of work done once per model (issue 15): parsed texts, variable roles,
compiled parameter tables.

Each is a bounded dict (the oldest entry goes first) whose values are never written to, and a
key that cannot be hashed (an unhashable group label or statement value) simply bypasses it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """``key → value``, at most ``size`` entries, the oldest dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict = {}

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value cached for ``key``, else ``make()`` (cached; an exception it raises is
        not).  A key that cannot be hashed is not cached."""
        try:
            value = self._entries.get(key)
        except TypeError:
            return make()
        if value is None:
            value = make()
            if len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = value
        return value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
