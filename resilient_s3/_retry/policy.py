"""Retry policies: frozen values, shared safely between threads and clients.

A :class:`RetryPolicy` says, for each retryable :class:`~resilient_s3.ErrorKind`, how many
attempts to make and how long to wait between them (a :class:`Backoff`), plus a per-call
deadline, a per-client retry budget (:class:`BudgetPolicy`), the error tables, and the clock,
sleep and random functions (injected so tests never sleep for real).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .._checks import check_count, check_limit, check_policy, check_seconds
from .classify import DEFAULT_TABLES, ErrorKind, ErrorTables

__all__ = [
    "NON_IDEMPOTENT_OPERATIONS",
    "Backoff",
    "BudgetPolicy",
    "RetryEvent",
    "RetryPolicy",
]

#: Operations whose request must not be sent twice once it may have reached the server, so a
#: NETWORK_AFTER_SEND error on them is raised rather than retried. Every plain object and bucket
#: operation is idempotent (a repeat leaves the same state). The multipart steps are retried
#: too, on purpose: UploadPart/UploadPartCopy replace the same part number; a repeated
#: CreateMultipartUpload can only leave an orphaned, invisible incomplete upload (storage until
#: a lifecycle rule or an abort removes it); a repeated CompleteMultipartUpload either answers
#: the same result or NoSuchUpload, an error, never a silent loss. Add them here for strict
#: "never resend a POST" semantics. WriteGetObjectResponse delivers a one-shot answer.
NON_IDEMPOTENT_OPERATIONS: frozenset[str] = frozenset({"WriteGetObjectResponse"})


@dataclass(frozen=True)
class Backoff:
    """Attempt limit and full-jitter exponential backoff for one kind of error.

    The n-th consecutive failure of this kind (n = 1, 2, ...) sleeps
    ``random() * min(cap, base * 2 ** (n - 1))`` seconds before the next attempt.

    Attributes:
        max_attempts: attempts in all (the first included) while errors are of this kind;
            ``1`` means this kind is never retried.
        base: seconds; the scale of the first sleep. ``0`` retries without sleeping.
        cap: seconds; no single sleep is longer.
    """

    max_attempts: int
    base: float
    cap: float

    def __post_init__(self) -> None:
        check_count("max_attempts", self.max_attempts, minimum=1)
        check_seconds("base", self.base)
        check_seconds("cap", self.cap)

    def delay(self, failures: int, rand: float) -> float:
        """Full-jitter delay after ``failures`` consecutive failures, ``rand`` in [0, 1)."""
        return float(rand * min(self.cap, self.base * 2 ** (failures - 1)))


@dataclass(frozen=True)
class BudgetPolicy:
    """The per-client retry budget, a token bucket after botocore's retry quota.

    Every retry takes tokens (first attempts never do); a call that succeeds gives back what it
    took, or ``success_refund`` if it took nothing. With the defaults a client whose endpoint
    is dead makes at most 50 network retries (500 / 10) before it stops retrying and fails
    fast, and it earns the budget back one token per successful call.

    Attributes:
        capacity: tokens when full.
        retry_cost: tokens a THROTTLED or SERVER retry takes.
        network_cost: tokens a NETWORK_BEFORE_SEND or NETWORK_AFTER_SEND retry takes.
        success_refund: tokens a call that succeeded at its first attempt gives back.
    """

    capacity: int = 500
    retry_cost: int = 5
    network_cost: int = 10
    success_refund: int = 1

    def __post_init__(self) -> None:
        for name in ("capacity", "retry_cost", "network_cost", "success_refund"):
            check_count(name, getattr(self, name))

    def cost(self, kind: ErrorKind) -> int:
        """Tokens one retry after an error of ``kind`` takes (waiting for a fresh write is free)."""
        if kind is ErrorKind.NOT_FOUND:
            return 0
        if kind in (ErrorKind.NETWORK_BEFORE_SEND, ErrorKind.NETWORK_AFTER_SEND):
            return self.network_cost
        return self.retry_cost


@dataclass(frozen=True)
class RetryEvent:
    """What the ``on_retry`` hook and the log line receive before a retry sleeps."""

    operation: str
    bucket: str | None
    key: str | None
    attempt: int  # the attempt that failed, 1-based
    kind: ErrorKind
    delay: float  # seconds about to be slept
    error: BaseException


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries. A frozen value: share it, or derive one with ``dataclasses.replace``.

    Attributes:
        network_before_send: for errors where the request never reached the server.
        network_after_send: for errors after the request may have reached the server;
            applied only to operations not in ``non_idempotent_operations``.
        throttled: for SlowDown/503/429; a larger base, as the server asked for room.
        server: for 500/502/504, InternalError, RequestTimeout.
        not_found: for a 404 on a key this client has just written (read-your-writes) or is
            verifying; only then, and only within that key's window (see VerifyPolicy). A 404
            on any other key is never retried.
        deadline: seconds from the start of a call. A retry is made only if its sleep plus
            an attempt as long as the previous one ends before the deadline, so retries never
            carry a call past it, and each attempt's connect and read timeouts are capped by
            the time the call has left, so an attempt already running ends by the deadline too
            (a server that trickles bytes can hold it one more read timeout at most: each wait
            for a byte is bounded, not the sum). ``None`` (or ``inf``): no deadline (attempt
            limits still apply).
        max_retry_after: seconds; the largest ``Retry-After``/``x-amz-retry-after`` honoured.
            ``0`` ignores those headers.
        budget: the per-client retry budget; ``None`` means no budget (not recommended).
        tables: the error tables :func:`~resilient_s3.classify` reads.
        non_idempotent_operations: API operation names (e.g. ``"CompleteMultipartUpload"``)
            never retried after a NETWORK_AFTER_SEND error.
        body_spool_limit: bytes; a non-seekable request ``Body`` up to this size is read into
            memory so it can be resent; a larger one is refused before anything is sent.
            ``0`` refuses every non-seekable body.
        sleep, clock, random: injected ``time.sleep``, ``time.monotonic``, ``random.random``.
        on_retry: called with a :class:`RetryEvent` before each retry's sleep; ``None``: no hook.
    """

    network_before_send: Backoff = Backoff(max_attempts=6, base=0.05, cap=2.0)
    network_after_send: Backoff = Backoff(max_attempts=5, base=0.05, cap=2.0)
    throttled: Backoff = Backoff(max_attempts=8, base=1.0, cap=20.0)
    server: Backoff = Backoff(max_attempts=5, base=0.1, cap=5.0)
    not_found: Backoff = Backoff(max_attempts=50, base=0.05, cap=0.5)
    deadline: float | None = 60.0
    max_retry_after: float = 20.0
    budget: BudgetPolicy | None = BudgetPolicy()
    tables: ErrorTables = DEFAULT_TABLES
    non_idempotent_operations: frozenset[str] = NON_IDEMPOTENT_OPERATIONS
    body_spool_limit: int = 8 * 1024 * 1024
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)
    on_retry: Callable[[RetryEvent], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "deadline", check_limit("deadline", self.deadline))
        check_seconds("max_retry_after", self.max_retry_after)
        check_count("body_spool_limit", self.body_spool_limit)
        for kind in ("network_before_send", "network_after_send", "throttled", "server"):
            check_policy(kind, getattr(self, kind), Backoff)
        check_policy("not_found", self.not_found, Backoff)
        if self.budget is not None:
            check_policy("budget", self.budget, BudgetPolicy)
        check_policy("tables", self.tables, ErrorTables)

    def backoff_for(self, kind: ErrorKind) -> Backoff | None:
        """The :class:`Backoff` for ``kind``, or ``None`` if that kind is never retried
        (NOT_FOUND's applies only to fresh keys)."""
        return {
            ErrorKind.NETWORK_BEFORE_SEND: self.network_before_send,
            ErrorKind.NETWORK_AFTER_SEND: self.network_after_send,
            ErrorKind.THROTTLED: self.throttled,
            ErrorKind.SERVER: self.server,
            ErrorKind.NOT_FOUND: self.not_found,
        }.get(kind)

    @classmethod
    def no_retries(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt per call (still classifies and annotates)."""
        once = Backoff(max_attempts=1, base=0.0, cap=0.0)
        return cls(
            network_before_send=once,
            network_after_send=once,
            throttled=once,
            server=once,
            not_found=once,
        )
