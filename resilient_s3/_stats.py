"""Counters of what a client did, and the frozen snapshot ``s3.stats`` returns."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._classify import ErrorKind

__all__ = ["Stats", "StatsSnapshot"]


@dataclass(frozen=True)
class StatsSnapshot:
    """What a client had done when the snapshot was taken. Holds no secrets.

    Attributes:
        calls: operation calls made through the client (paginator pages and transfer
            sub-requests included).
        attempts: HTTP attempts those calls made.
        retries: retries by :class:`~resilient_s3.ErrorKind` value.
        give_ups: calls that failed with a retryable error after retries stopped (attempt
            limit, deadline, budget, or an operation not safe to resend).
        budget_exhausted: retries refused because the retry budget was empty.
        resumes: GetObject bodies resumed after the connection failed mid-body.
    """

    calls: int = 0
    attempts: int = 0
    retries: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    give_ups: int = 0
    budget_exhausted: int = 0
    resumes: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A plain ``dict`` (JSON-ready) of the counters."""
        return {
            "calls": self.calls,
            "attempts": self.attempts,
            "retries": dict(self.retries),
            "give_ups": self.give_ups,
            "budget_exhausted": self.budget_exhausted,
            "resumes": self.resumes,
        }

    def __getitem__(self, name: str) -> Any:
        return self.as_dict()[name]


class Stats:
    """Thread-safe counters; :meth:`snapshot` freezes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._retries: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``name`` (a :class:`StatsSnapshot` field)."""
        with self._lock:
            self._counts[name] += n

    def retry(self, kind: ErrorKind) -> None:
        """Count one retry after an error of ``kind``."""
        with self._lock:
            self._retries[kind.value] += 1

    def snapshot(self) -> StatsSnapshot:
        """The counters as they are now."""
        with self._lock:
            counts = dict(self._counts)
            retries = MappingProxyType(dict(self._retries))
        return StatsSnapshot(retries=retries, **counts)
