"""A flow written once, run blocking or awaited (sans-I/O, as h11 and hyper-h2 are written).

A flow is a generator that yields *steps* (what to send, what to read) and gets each step's
result back, or its exception thrown in at the ``yield``; it returns its outcome. The blocking
door runs it with :func:`run`, the asyncio door with :func:`arun`: the decisions are made once,
only the I/O differs. Verify-after-put is written this way (``_verify/verifier.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["Flow", "arun", "run"]

T = TypeVar("T")
S = TypeVar("S")
#: A flow: yields steps of type ``S``, is sent their results, returns a ``T``.
Flow = Generator[S, Any, T]


def run(flow: Flow[S, T], do: Callable[[S], Any]) -> T:
    """Run ``flow``, doing each step with ``do(step)`` (blocking)."""
    try:
        step = next(flow)
        while True:
            try:
                result = do(step)
            except Exception as exc:  # noqa: BLE001 - thrown into the flow at its yield: it decides
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as done:
        outcome: T = done.value
        return outcome


async def arun(flow: Flow[S, T], do: Callable[[S], Awaitable[Any]]) -> T:
    """Run ``flow``, doing each step with ``await do(step)``."""
    try:
        step = next(flow)
        while True:
            try:
                result = await do(step)
            except Exception as exc:  # noqa: BLE001 - thrown into the flow at its yield: it decides
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as done:
        outcome: T = done.value
        return outcome
