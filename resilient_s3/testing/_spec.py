"""Fault spec strings, the compact form a command line takes: ``"slowdown=0.03,latency=0.1:0.05"``.

Each item is one :class:`~resilient_s3.testing.Fault`; the kinds that take a second number say
which setting it is.
"""

from __future__ import annotations

from ._faults import Fault, FaultKind

__all__ = ["parse_faults"]

#: In a spec string, what the number after ``RATE:`` sets, per kind that takes one.
_SPEC_PARAMETER: dict[FaultKind, str] = {
    FaultKind.LATENCY: "seconds",
    FaultKind.STALE_READ: "window",
    FaultKind.SLOWDOWN: "retry_after",
    FaultKind.THROTTLE: "per_second",
    FaultKind.SLOW_BODY: "bytes_per_second",
}
#: The kinds whose spec item must have that number, and its name in messages.
_REQUIRED_PARAMETER: dict[FaultKind, str] = {
    FaultKind.LATENCY: "SECONDS",
    FaultKind.THROTTLE: "PER_SECOND",
    FaultKind.SLOW_BODY: "BYTES_PER_SECOND",
}


def parse_faults(spec: str) -> tuple[Fault, ...]:
    """Parse a compact fault spec such as ``"reset_before=0.02,slowdown=0.03,latency=0.1:0.05"``.

    The spec is a comma-separated list of ``KIND=RATE`` items, where ``KIND`` is a
    :class:`FaultKind` value (case-insensitive) and ``RATE`` a probability in ``[0, 1]``. Five
    kinds take a second number, ``KIND=RATE:VALUE``:

    * ``latency=RATE:SECONDS`` (required): the delay;
    * ``throttle=RATE:PER_SECOND`` (required): the requests a second let through (default burst);
    * ``slow_body=RATE:BYTES_PER_SECOND`` (required): how fast a download's body flows;
    * ``stale_read=RATE:WINDOW`` (optional, default 5): the freshness window in seconds;
    * ``slowdown=RATE:RETRY_AFTER`` (optional): adds a ``Retry-After`` header.

    Whitespace around items and an empty spec are allowed; the other :class:`Fault` settings keep
    their defaults. The same kind may appear more than once.

    Raises:
        ValueError: On a malformed item, with the item in the message.
    """
    faults: list[Fault] = []
    for raw in spec.split(","):
        item = raw.strip()
        if item:
            faults.append(_parse_item(item))
    return tuple(faults)


def _parse_item(item: str) -> Fault:
    """Parse one ``KIND=RATE[:VALUE]`` item of a spec string."""
    name, sep, value = item.partition("=")
    if not sep:
        raise ValueError(f"fault spec item {item!r}: expected KIND=RATE")
    try:
        kind = FaultKind(name.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"fault spec item {item!r}: unknown kind (known: {known})") from None
    rate_text, sep, extra_text = value.partition(":")
    parameter = _SPEC_PARAMETER.get(kind)
    if sep and parameter is None:
        raise ValueError(f"fault spec item {item!r}: {kind.value} takes no ':VALUE'")
    if kind in _REQUIRED_PARAMETER and not sep:
        expected = f"{kind.value}=RATE:{_REQUIRED_PARAMETER[kind]}"
        raise ValueError(f"fault spec item {item!r}: expected {expected}")
    try:
        rate = float(rate_text)
        if not sep:
            return Fault(kind, rate=rate)
        extra = float(extra_text)
        if kind is FaultKind.LATENCY:
            return Fault(kind, rate=rate, seconds=extra)
        if kind is FaultKind.STALE_READ:
            return Fault(kind, rate=rate, window=extra)
        if kind is FaultKind.THROTTLE:
            return Fault(kind, rate=rate, per_second=extra)
        if kind is FaultKind.SLOW_BODY:
            return Fault(kind, rate=rate, bytes_per_second=extra)
        return Fault(kind, rate=rate, retry_after=extra)
    except ValueError as exc:
        raise ValueError(f"fault spec item {item!r}: {exc}") from None
