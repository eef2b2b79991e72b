"""Keys a client wrote moments ago, so a 404 on them can be told from a legitimate miss.

A bounded, thread-safe LRU of ``(bucket, key) -> clock time of the write``, shared by a client
and the clients derived from it with ``with_options`` (each applies its own window). Memory is
bounded by ``VerifyPolicy.recent_keys`` entries (about 200 bytes each); the oldest write is
forgotten first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

__all__ = ["RecentWrites"]


class RecentWrites:
    """Remember the time of the last ``capacity`` writes."""

    __slots__ = ("_capacity", "_clock", "_entries", "_lock")

    def __init__(self, capacity: int, clock: Callable[[], float]) -> None:
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def wrote(self, bucket: str, key: str) -> None:
        """Record that this client has just written ``bucket``/``key``."""
        if self._capacity <= 0:
            return
        now = self._clock()
        with self._lock:
            self._entries[(bucket, key)] = now
            self._entries.move_to_end((bucket, key))
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def forget(self, bucket: str, keys: Iterable[str]) -> None:
        """Drop keys this client deleted: a 404 on them is now the truth."""
        with self._lock:
            for key in keys:
                self._entries.pop((bucket, key), None)

    def fresh_until(self, bucket: str | None, key: str | None, window: float) -> float | None:
        """The clock time until which a 404 on this key is retried (its write time plus
        ``window``), or ``None`` if it was not written in the last ``window`` seconds."""
        if bucket is None or key is None or window <= 0 or not self._entries:
            return None
        with self._lock:
            written = self._entries.get((bucket, key))
        if written is None or written + window <= self._clock():
            return None
        return written + window

    def __len__(self) -> int:
        return len(self._entries)
