"""What :class:`~resilient_s3.testing.FaultProxy` injects, how often and where.

A :class:`Fault` is an immutable value; the proxy holds a tuple of them (:mod:`._spec` reads them
from a command line's spec strings), and :func:`mixed_faults` gives a realistic mix of transient
network and service faults. Most kinds hit a request at random, with their ``rate``;
THROTTLE alone has state over time (a token bucket per fault, kept by the injector).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ._operations import OPERATION_NAMES

__all__ = ["EXCLUSIVE_ORDER", "INDEPENDENT", "Fault", "FaultKind", "mixed_faults"]


class FaultKind(str, Enum):
    """The kinds of fault the proxy injects; the value names a kind in specs and counters."""

    #: Read the whole request, then reset the client connection (RST) without forwarding it.
    RESET_BEFORE = "reset_before"
    #: Forward the request (a write IS applied), read the answer, then reset the client connection.
    RESET_AFTER = "reset_after"
    #: Answer ``503 SlowDown`` (S3 XML error); ``Retry-After`` only if ``Fault.retry_after`` is set.
    SLOWDOWN = "slowdown"
    #: Answer ``500 InternalError``.
    INTERNAL_ERROR = "internal_error"
    #: Answer ``403 AccessDenied``: a permanent error, which a client must not retry.
    ACCESS_DENIED = "access_denied"
    #: PutObject only: read the body, answer 200 with ETag ``"<md5 of body>"``, store nothing.
    LOST_WRITE = "lost_write"
    #: GetObject/HeadObject of a key PUT through this proxy less than ``Fault.window`` seconds ago:
    #: answer ``404 NoSuchKey`` (HEAD: 404 without a body).
    STALE_READ = "stale_read"
    #: GetObject: forward, relay status and headers (full Content-Length), then only part of the
    #: body (half, at least one byte short), then close the connection.
    TRUNCATE_BODY = "truncate_body"
    #: Sleep ``Fault.seconds`` before handling the request; combines with any one other fault.
    LATENCY = "latency"
    #: PutObject/UploadPart with a checksum header (or sent aws-chunked): forward the body framed
    #: aws-chunked, as boto3 sends it over https, as plain data, so the server stores the framing
    #: (1,067 bytes for 1,024). Like a server that ignores ``Content-Encoding: aws-chunked``.
    CHUNKED_FRAMING = "chunked_framing"
    #: PutObject: forward the body with its middle byte flipped and no checksum headers; the
    #: server stores other bytes (same length) and answers their ETag.
    CORRUPT_WRITE = "corrupt_write"
    #: DeleteObjects: forward (every key is deleted), then report the first half of the deleted
    #: keys as ``InternalError`` entries in the answer's ``Errors``.
    DELETE_ERRORS = "delete_errors"
    #: Answer ``503 SlowDown`` to requests beyond ``Fault.per_second`` a second: a token bucket of
    #: ``Fault.burst`` tokens, full at first; a throttled request takes no token. Checked before
    #: the random draw of the exclusive kinds; a request that passes may still get one of them.
    THROTTLE = "throttle"
    #: GetObject: forward, relay status and headers as they are, and the body with one bit of its
    #: middle byte flipped (a body corrupted in transit: only a checksum can tell).
    BIT_FLIP = "bit_flip"
    #: GetObject: forward, relay the body with bytes appended and ``Content-Length`` raised to
    #: match (``Content-Range`` left as the server sent it): a body longer than the object.
    EXTRA_BYTES = "extra_bytes"
    #: GetObject: forward, relay status and headers at once, then the body at
    #: ``Fault.bytes_per_second`` (16 pieces a second): a download that keeps flowing, slowly.
    SLOW_BODY = "slow_body"
    #: GetObject/HeadObject carrying ``If-Match``: forward it without that header, as a server or a
    #: cache that ignores the condition does. Not exclusive (like LATENCY, its own draw); the
    #: forwarded request's SigV4 signature no longer matches: use an upstream that does not check
    #: signatures (moto, LocalStack).
    IGNORE_IF_MATCH = "ignore_if_match"


#: The order in which the exclusive kinds (all but LATENCY and THROTTLE) share out one random draw
#: per request: faults the server never sees first, then those that need the server's answer.
EXCLUSIVE_ORDER: tuple[FaultKind, ...] = (
    FaultKind.RESET_BEFORE,
    FaultKind.ACCESS_DENIED,
    FaultKind.SLOWDOWN,
    FaultKind.INTERNAL_ERROR,
    FaultKind.STALE_READ,
    FaultKind.LOST_WRITE,
    FaultKind.CHUNKED_FRAMING,
    FaultKind.CORRUPT_WRITE,
    FaultKind.DELETE_ERRORS,
    FaultKind.RESET_AFTER,
    FaultKind.TRUNCATE_BODY,
    FaultKind.BIT_FLIP,
    FaultKind.EXTRA_BYTES,
    FaultKind.SLOW_BODY,
)
#: The kinds that draw their own number for each request they apply to, besides any other fault.
INDEPENDENT: frozenset[FaultKind] = frozenset({FaultKind.LATENCY, FaultKind.IGNORE_IF_MATCH})


#: The operations a kind can apply to at all; a kind not listed applies to every request.
_NATURAL_OPERATIONS: dict[FaultKind, frozenset[str]] = {
    FaultKind.LOST_WRITE: frozenset({"PutObject"}),
    FaultKind.STALE_READ: frozenset({"GetObject", "HeadObject"}),
    FaultKind.TRUNCATE_BODY: frozenset({"GetObject"}),
    FaultKind.CHUNKED_FRAMING: frozenset({"PutObject", "UploadPart"}),
    FaultKind.CORRUPT_WRITE: frozenset({"PutObject"}),
    FaultKind.DELETE_ERRORS: frozenset({"DeleteObjects"}),
    FaultKind.BIT_FLIP: frozenset({"GetObject"}),
    FaultKind.EXTRA_BYTES: frozenset({"GetObject"}),
    FaultKind.SLOW_BODY: frozenset({"GetObject"}),
    FaultKind.IGNORE_IF_MATCH: frozenset({"GetObject", "HeadObject"}),
}

#: The share of each kind in :func:`mixed_faults`: throttling is the most common transient failure
#: of a busy S3 endpoint, then connections reset before an answer; 5xx, resets after the server
#: acted and truncated downloads are rarer but are the ones that need careful handling.
_MIX: tuple[tuple[FaultKind, float], ...] = (
    (FaultKind.SLOWDOWN, 0.30),
    (FaultKind.RESET_BEFORE, 0.25),
    (FaultKind.INTERNAL_ERROR, 0.15),
    (FaultKind.RESET_AFTER, 0.15),
    (FaultKind.TRUNCATE_BODY, 0.15),
)


@dataclass(frozen=True)
class Fault:
    """One fault to inject, with its probability and the requests it applies to.

    Attributes:
        kind: What to do (a :class:`FaultKind`; its string value is accepted too).
        rate: Probability, in ``[0, 1]``, that the fault hits one eligible request (THROTTLE: one
            request that finds no token; a request spared passes without one).
        limit: Inject at most this many times (``None``: no limit; ``0``: never). Counted per fault
            set: :meth:`FaultProxy.set_faults` starts the counts again.
        after: Let the first ``after`` requests the fault would hit pass untouched (counted per
            fault set, as ``limit`` is): ``after=1`` spares a download's first part.
        methods: Only requests with one of these HTTP methods (case-insensitive). ``None``: no
            restriction beyond the kind's own (PUT for LOST_WRITE and CHUNKED_FRAMING, GET/HEAD for
            STALE_READ, GET for TRUNCATE_BODY, any method for the others).
        key_prefix: Only requests whose decoded object key starts with this; bucket-level requests
            have the key ``""`` and so match only the empty prefix (the default).
        operations: Only requests whose derived operation name is in this set (see
            :data:`~resilient_s3.testing.OPERATION_NAMES`). ``None``: no restriction.
        seconds: LATENCY only: how long to sleep, ``>= 0``.
        window: STALE_READ only: for how many seconds after a PUT through the proxy a key counts
            as fresh (``> 0``).
        retry_after: SLOWDOWN only: if set (``>= 0``), the value of a ``Retry-After`` header.
        per_second: THROTTLE only, and required there: the requests a second it lets through
            (``> 0``), the rate at which its token bucket fills.
        burst: THROTTLE only: the bucket's size, how many requests may pass at once after a quiet
            spell (``>= 1``). ``None``: a quarter of a second's worth, at least 1.
        bytes_per_second: SLOW_BODY only, and required there: how fast the body flows (``> 0``).

    Raises:
        ValueError: If a value is out of range, a set is given as a plain string, an operation name
            is unknown, or a kind-specific setting is given for another kind.
    """

    kind: FaultKind
    rate: float = 1.0
    limit: int | None = None
    after: int = 0
    methods: frozenset[str] | None = None
    key_prefix: str = ""
    operations: frozenset[str] | None = None
    seconds: float = 0.0
    window: float = 5.0
    retry_after: float | None = None
    per_second: float | None = None
    burst: float | None = None
    bytes_per_second: float | None = None

    def __post_init__(self) -> None:
        """Validate every field and normalise ``kind`` and ``methods``."""
        try:
            object.__setattr__(self, "kind", FaultKind(self.kind))
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault kind {self.kind!r} (known: {known})") from None
        if not 0.0 <= self.rate <= 1.0:  # also rejects NaN
            raise ValueError(f"{self.kind.value}: rate must be within [0, 1], got {self.rate!r}")
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"{self.kind.value}: limit must be >= 0 or None, got {self.limit!r}")
        if self.after < 0:
            raise ValueError(f"{self.kind.value}: after must be >= 0, got {self.after!r}")
        if self.methods is not None:
            object.__setattr__(self, "methods", _name_set("methods", self.methods, upper=True))
        if self.operations is not None:
            operations = _name_set("operations", self.operations, upper=False)
            unknown = sorted(operations - OPERATION_NAMES)
            if unknown:
                raise ValueError(
                    f"unknown operation names {unknown}; known: {sorted(OPERATION_NAMES)}"
                )
            object.__setattr__(self, "operations", operations)
        if not math.isfinite(self.seconds) or self.seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {self.seconds!r}")
        if self.seconds and self.kind is not FaultKind.LATENCY:
            raise ValueError(f"seconds applies to latency only, not {self.kind.value}")
        if not math.isfinite(self.window) or self.window <= 0:
            raise ValueError(f"window must be a finite number > 0, got {self.window!r}")
        if self.retry_after is not None:
            if self.kind is not FaultKind.SLOWDOWN:
                raise ValueError(f"retry_after applies to slowdown only, not {self.kind.value}")
            if not math.isfinite(self.retry_after) or self.retry_after < 0:
                raise ValueError(
                    f"retry_after must be a finite number >= 0, got {self.retry_after!r}"
                )
        self._check_throttle()
        slow = self.kind is FaultKind.SLOW_BODY
        if self.bytes_per_second is not None and not slow:
            raise ValueError(f"bytes_per_second applies to slow_body only, not {self.kind.value}")
        if slow and not (
            self.bytes_per_second is not None
            and math.isfinite(self.bytes_per_second)
            and self.bytes_per_second > 0
        ):
            raise ValueError(f"slow_body needs bytes_per_second > 0, got {self.bytes_per_second!r}")

    def _check_throttle(self) -> None:
        """Validate ``per_second`` and ``burst``: required / allowed for THROTTLE only."""
        throttle = self.kind is FaultKind.THROTTLE
        for field in ("per_second", "burst"):
            if getattr(self, field) is not None and not throttle:
                raise ValueError(f"{field} applies to throttle only, not {self.kind.value}")
        if throttle and self.per_second is None:
            raise ValueError("throttle needs per_second, the requests a second it lets through")
        if self.per_second is not None and not (
            math.isfinite(self.per_second) and self.per_second > 0
        ):
            raise ValueError(f"per_second must be a finite number > 0, got {self.per_second!r}")
        if self.burst is not None and not (math.isfinite(self.burst) and self.burst >= 1):
            raise ValueError(f"burst must be a finite number >= 1, got {self.burst!r}")

    @property
    def bucket_size(self) -> float:
        """THROTTLE: :attr:`burst`, or by default a quarter of :attr:`per_second`, at least 1."""
        if self.burst is not None:
            return self.burst
        return max(1.0, (self.per_second or 0.0) / 4)

    def applies_to(self, method: str, key: str, operation: str) -> bool:
        """Whether this fault may hit a request, by its kind, filters and target (rate aside).

        STALE_READ also needs the key to be fresh, which only the proxy knows: not checked here.
        """
        natural = _NATURAL_OPERATIONS.get(self.kind)
        return (
            (natural is None or operation in natural)
            and (self.methods is None or method.upper() in self.methods)
            and (self.operations is None or operation in self.operations)
            and key.startswith(self.key_prefix)
        )


def _name_set(field: str, value: Iterable[str], *, upper: bool) -> frozenset[str]:
    """Turn ``value`` into a frozenset of non-empty strings, refusing a bare string."""
    if isinstance(value, str):
        raise ValueError(f"{field} must be a set of names, not the string {value!r}")
    names = frozenset(name.upper() if upper else name for name in value)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{field} must be a non-empty set of non-empty strings, got {value!r}")
    return names


def mixed_faults(total_rate: float) -> tuple[Fault, ...]:
    """A realistic mix of transient network and service faults whose rates add up to ``total_rate``.

    The shares are: slowdown 30 %, reset_before 25 %, internal_error 15 %, reset_after 15 %,
    truncate_body 15 % (truncate_body applies to GetObject only, so other requests see a little less
    than ``total_rate``). Because the proxy draws once per request and shares that draw among the
    faults, ``total_rate`` is the exact probability that an eligible request gets one of them.

    LOST_WRITE and STALE_READ are deliberately left out (they test verification, not retries): add
    them yourself, e.g. ``mixed_faults(0.1) + (Fault(FaultKind.LOST_WRITE, rate=0.01),)``.

    Raises:
        ValueError: If ``total_rate`` is not within ``[0, 1]``.
    """
    if not 0.0 <= total_rate <= 1.0:
        raise ValueError(f"total_rate must be within [0, 1], got {total_rate!r}")
    return tuple(Fault(kind, rate=total_rate * share) for kind, share in _MIX)
