"""The proxy's shared state: which fault hits which request, and the exact counters.

One :class:`FaultInjector` serves every handler thread of a proxy. All its state (the random
generator, the fault set and how often each fault was used, the THROTTLE token buckets, the
counters, the recently written keys) is guarded by one lock, so a given seed and a sequential order
of requests always give the same decisions (with THROTTLE faults: at the same clock readings).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ._faults import EXCLUSIVE_ORDER, INDEPENDENT, Fault, FaultKind
from ._operations import OPERATION_NAMES, RequestTarget
from ._throttle import TokenBucket

__all__ = ["Decision", "FaultInjector", "SeenRequest", "counter_keys"]

#: Operations after whose success a key counts as freshly written (for STALE_READ).
_WRITE_OPERATIONS = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})
#: How many fresh keys to remember before pruning the expired ones.
_PRUNE_AT = 4096
#: Headers never recorded: they carry credentials or signatures.
_SECRET_HEADERS = frozenset({"authorization", "x-amz-security-token", "x-amz-signature"})


def counter_keys() -> tuple[str, ...]:
    """Every key of :attr:`FaultProxy.counters`, in a stable order."""
    return (
        "requests",
        "forwarded",
        "forwarded_bytes",
        "upstream_errors",
        *(kind.value for kind in FaultKind),
        "throttle_passed",
        *(f"op:{name}" for name in sorted(OPERATION_NAMES)),
    )


@dataclass(frozen=True)
class Decision:
    """What to do with one request.

    Attributes:
        delay: Seconds to sleep first (the sum of the LATENCY faults that hit; usually 0).
        fault: The one exclusive fault to inject, or ``None`` to forward normally.
        ignore_if_match: An IGNORE_IF_MATCH fault hit: forward without ``If-Match``.
        generation: The fault-set generation the decision was taken in (see
        :meth:`FaultInjector.cancel`).
    """

    delay: float = 0.0
    fault: Fault | None = None
    generation: int = 0
    ignore_if_match: bool = False

    @property
    def kind(self) -> FaultKind | None:
        """The kind of :attr:`fault`, or ``None``."""
        return None if self.fault is None else self.fault.kind


@dataclass(frozen=True)
class SeenRequest:
    """One request the proxy received while recording (:meth:`FaultProxy.record_requests`).

    Attributes:
        method, bucket, key, operation: as classified (see :class:`RequestTarget`).
        headers: the recorded headers the request carried (lower-case names).
        fault: the value of the :class:`FaultKind` injected into it, or ``None``.
    """

    method: str
    bucket: str
    key: str
    operation: str
    headers: Mapping[str, str] = field(default_factory=dict)
    fault: str | None = None


class FaultInjector:
    """Decides, under one lock, which fault hits each request, and counts everything exactly.

    Args:
        faults: The initial fault set.
        seed: Seed of the one :class:`random.Random`; ``None`` seeds it from the OS.
        clock: Monotonic clock in seconds, used for STALE_READ windows and THROTTLE token buckets
            (injectable for tests).
    """

    def __init__(
        self,
        faults: Iterable[Fault] = (),
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._clock = clock
        self._counters: dict[str, int] = dict.fromkeys(counter_keys(), 0)
        self._written: dict[tuple[str, str], float] = {}
        self._generation = 0
        self._faults: tuple[Fault, ...] = ()
        self._independent: tuple[int, ...] = ()
        self._exclusive: tuple[int, ...] = ()
        self._throttles: dict[int, TokenBucket] = {}
        self._used: list[int] = []
        self._spared: list[int] = []
        self._recording: frozenset[str] | None = None
        self._seen: list[SeenRequest] = []
        self.set_faults(faults)

    @property
    def faults(self) -> tuple[Fault, ...]:
        """The current fault set, in the order it was given."""
        with self._lock:
            return self._faults

    def set_faults(self, faults: Iterable[Fault]) -> None:
        """Replace the fault set; each fault's ``limit`` counts from zero again, and each THROTTLE
        fault's token bucket starts full."""
        new = tuple(faults)
        for fault in new:
            if not isinstance(fault, Fault):
                raise TypeError(f"expected Fault instances, got {fault!r}")
        rank = {kind: i for i, kind in enumerate(EXCLUSIVE_ORDER)}
        exclusive = [i for i, f in enumerate(new) if f.kind in rank]
        exclusive.sort(key=lambda i: rank[new[i].kind])  # stable: list order within a kind
        with self._lock:
            now = self._clock()
            self._generation += 1
            self._faults = new
            self._independent = tuple(i for i, f in enumerate(new) if f.kind in INDEPENDENT)
            self._exclusive = tuple(exclusive)
            self._throttles = {
                i: TokenBucket(f.per_second or 0.0, f.bucket_size, now)
                for i, f in enumerate(new)
                if f.kind is FaultKind.THROTTLE
            }
            self._used = [0] * len(new)
            self._spared = [0] * len(new)

    def counters(self) -> dict[str, int]:
        """A snapshot of the counters (see :func:`counter_keys`)."""
        with self._lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        """Set every counter to zero (fault limits are not affected)."""
        with self._lock:
            self._counters = dict.fromkeys(self._counters, 0)

    def decide(self, method: str, target: RequestTarget, conditional: bool = False) -> Decision:
        """Count one request and decide what to inject into it; ``conditional``: the request
        carries ``If-Match`` (only such a request can get IGNORE_IF_MATCH).

        Each LATENCY and IGNORE_IF_MATCH fault that applies draws its own number. Then each
        THROTTLE fault that applies looks in its token bucket: if one finds no token (and, with a
        ``rate`` below 1, its own draw hits; and its ``limit`` allows), the request is throttled,
        taking no token from any bucket; else it takes a token from every bucket that has one and
        goes on. Then, if any exclusive fault applies, one more number ``u`` is drawn and the
        applicable exclusive faults, in :data:`EXCLUSIVE_ORDER` (list order within a kind), each
        own the next ``rate``-wide slice of ``[0, 1)``: the fault whose slice holds ``u`` hits,
        unless its ``limit`` is used up (then nothing hits).
        """
        with self._lock:
            self._counters["requests"] += 1
            self._counters[f"op:{target.operation}"] += 1
            delay, ignoring = 0.0, False
            for i in self._independent:
                fault = self._faults[i]
                latency = fault.kind is FaultKind.LATENCY
                if (
                    (latency or conditional)
                    and fault.applies_to(method, target.key, target.operation)
                    and self._draw(i)
                ):
                    delay += fault.seconds
                    ignoring = ignoring or not latency
            throttled = self._throttle(method, target)
            if throttled is not None:
                return Decision(delay, throttled, self._generation, ignoring)
            candidates = [i for i in self._exclusive if self._applies(i, method, target)]
            chosen: Fault | None = None
            if candidates:
                u, low = self._rng.random(), 0.0
                for i in candidates:
                    high = low + self._faults[i].rate
                    if low <= u < high:
                        if self._take(i):
                            chosen = self._faults[i]
                        break
                    low = high
            return Decision(delay, chosen, self._generation, ignoring)

    def record(self, headers: Iterable[str]) -> None:
        """Record every request from now on, with those of ``headers`` it carries (a fresh
        record: the earlier one is dropped). Credential headers cannot be recorded."""
        names = frozenset(name.lower() for name in headers)
        secret = sorted(names & _SECRET_HEADERS)
        if secret:
            raise ValueError(f"headers {secret} carry credentials and are never recorded")
        with self._lock:
            self._recording, self._seen = names, []

    def seen(self) -> tuple[SeenRequest, ...]:
        """The requests recorded so far, in the order they were received."""
        with self._lock:
            return tuple(self._seen)

    def note(
        self,
        method: str,
        target: RequestTarget,
        headers: Iterable[tuple[str, str]],
        decision: Decision,
    ) -> None:
        """Record one request, if recording (see :meth:`record`)."""
        names = self._recording
        if names is None:
            return
        kept = {name.lower(): value for name, value in headers if name.lower() in names}
        kind = decision.kind
        seen = SeenRequest(
            method, target.bucket, target.key, target.operation, kept,
            kind.value if kind is not None else None,
        )  # fmt: skip
        with self._lock:
            self._seen.append(seen)

    def cancel(self, decision: Decision) -> None:
        """Uncount a fault that could not be injected after all (an empty body to truncate)."""
        with self._lock:
            fault = decision.fault
            if fault is None or decision.generation != self._generation:
                return
            self._counters[fault.kind.value] -= 1
            for i, candidate in enumerate(self._faults):
                if candidate is fault and self._used[i] > 0:
                    self._used[i] -= 1
                    break

    def count(self, key: str, amount: int = 1) -> None:
        """Add ``amount`` to a counter (``"forwarded"``, ``"forwarded_bytes"`` or
        ``"upstream_errors"``)."""
        with self._lock:
            self._counters[key] += amount

    def record_write(self, target: RequestTarget, status: int) -> None:
        """Remember that ``target``'s key was just written, if this was a successful write."""
        if target.operation not in _WRITE_OPERATIONS or not 200 <= status < 300:
            return
        with self._lock:
            now = self._clock()
            if len(self._written) >= _PRUNE_AT:
                horizon = max([f.window for f in self._faults] + [0.0])
                self._written = {k: t for k, t in self._written.items() if now - t <= horizon}
            self._written[(target.bucket, target.key)] = now

    def _applies(self, index: int, method: str, target: RequestTarget) -> bool:
        """Whether exclusive fault ``index`` may hit this request (lock held)."""
        fault = self._faults[index]
        if not fault.applies_to(method, target.key, target.operation):
            return False
        if fault.kind is FaultKind.STALE_READ:
            written = self._written.get((target.bucket, target.key))
            return written is not None and self._clock() - written < fault.window
        return True

    def _throttle(self, method: str, target: RequestTarget) -> Fault | None:
        """The THROTTLE fault that throttles this request, or ``None`` once the request has taken
        a token from each applicable bucket that has one (lock held)."""
        applicable = [
            i
            for i in self._throttles
            if self._faults[i].applies_to(method, target.key, target.operation)
        ]
        if not applicable:
            return None
        now = self._clock()
        for i in applicable:
            if self._throttles[i].has_token(now):
                continue
            # At rate 1 no number is drawn: a throttle that never fires changes no other decision.
            if self._take(i) if self._faults[i].rate >= 1.0 else self._draw(i):
                return self._faults[i]
        for i in applicable:
            self._throttles[i].take()
        self._counters["throttle_passed"] += 1
        return None

    def _draw(self, index: int) -> bool:
        """Draw for an independent (LATENCY, IGNORE_IF_MATCH) fault and take it if it hits
        (lock held)."""
        return self._rng.random() < self._faults[index].rate and self._take(index)

    def _take(self, index: int) -> bool:
        """Use one injection of fault ``index`` if its limit allows, counting it (lock held)."""
        fault = self._faults[index]
        if self._spared[index] < fault.after:
            self._spared[index] += 1
            return False
        if fault.limit is not None and self._used[index] >= fault.limit:
            return False
        self._used[index] += 1
        self._counters[fault.kind.value] += 1
        return True
