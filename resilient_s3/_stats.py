"""Counters of what a client did, and the frozen snapshot ``s3.stats`` returns.

Every count is also passed to the client's :class:`Reporter`, if it has one (its telemetry:
metrics that match these counters one for one, marks on the current call's span).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._retry.policy import RetryEvent

__all__ = ["Reporter", "Stats", "StatsSnapshot"]


class Reporter(Protocol):
    """Where a :class:`Stats` passes on what it counts (resilient_s3/_telemetry)."""

    def count(self, name: str, n: int) -> None:
        """The counter ``name`` moved by ``n``."""

    def seconds(self, seconds: float) -> None:
        """``verify_seconds`` grew by ``seconds``."""

    def retried(self, event: RetryEvent) -> None:
        """A retry is about to sleep."""


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
        verified: writes read back and found as written.
        verified_by_listing: of those, writes confirmed by a shared ListObjectsV2 page
            (``VerifyPolicy.coalesce``) instead of their own HeadObject.
        reuploads: lost writes (acknowledged, then not found) uploaded again.
        conflicts: verifications that found another object (VerificationError raised).
        unverified: writes acknowledged but not verified because the server refused every
            read-back (403, 400, 405, 501: ``VerifyPolicy.unreadable``), returned or raised.
        verify_seconds: total time spent verifying writes (read-backs and re-uploads).
        paths: the front doors' sends by the transport that served them (``"crt"``: awscrt's
            native client; ``"botocore"``): each call, read-back, re-upload and resumed read
            counts once, whatever its retries (docs/asyncio.md); batches are not counted.
    """

    calls: int = 0
    attempts: int = 0
    retries: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    give_ups: int = 0
    budget_exhausted: int = 0
    resumes: int = 0
    verified: int = 0
    verified_by_listing: int = 0
    reuploads: int = 0
    conflicts: int = 0
    unverified: int = 0
    verify_seconds: float = 0.0
    paths: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def as_dict(self) -> dict[str, Any]:
        """A plain ``dict`` (JSON-ready) of the counters."""
        return {
            "calls": self.calls,
            "attempts": self.attempts,
            "retries": dict(self.retries),
            "give_ups": self.give_ups,
            "budget_exhausted": self.budget_exhausted,
            "resumes": self.resumes,
            "verified": self.verified,
            "verified_by_listing": self.verified_by_listing,
            "reuploads": self.reuploads,
            "conflicts": self.conflicts,
            "unverified": self.unverified,
            "verify_seconds": round(self.verify_seconds, 6),
            "paths": dict(self.paths),
        }

    def __getitem__(self, name: str) -> Any:
        return self.as_dict()[name]


class Stats:
    """Thread-safe counters; :meth:`snapshot` freezes them. Each count is passed on to
    ``reporter`` (outside the lock)."""

    def __init__(self, reporter: Reporter | None = None) -> None:
        self.reporter = reporter
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._seconds = 0.0
        self._retries: Counter[str] = Counter()
        self._paths: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``name`` (a :class:`StatsSnapshot` field)."""
        with self._lock:
            self._counts[name] += n
        if self.reporter is not None:
            self.reporter.count(name, n)

    def add_seconds(self, seconds: float) -> None:
        """Add to ``verify_seconds``."""
        with self._lock:
            self._seconds += seconds
        if self.reporter is not None:
            self.reporter.seconds(seconds)

    def retry(self, event: RetryEvent) -> None:
        """Count one retry after an error of ``event.kind``."""
        with self._lock:
            self._retries[event.kind.value] += 1
        if self.reporter is not None:
            self.reporter.retried(event)

    def path(self, name: str) -> None:
        """Count one front-door request sent by the transport ``name``."""
        with self._lock:
            self._paths[name] += 1

    def snapshot(self) -> StatsSnapshot:
        """The counters as they are now."""
        with self._lock:
            counts = dict(self._counts)
            retries = MappingProxyType(dict(self._retries))
            paths = MappingProxyType(dict(self._paths))
            seconds = self._seconds
        return StatsSnapshot(retries=retries, verify_seconds=seconds, paths=paths, **counts)
