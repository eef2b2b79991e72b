"""The facade's retries, awaited: the same :class:`~resilient_s3.RetryPolicy`, strategies,
deadline, budget, stats, log lines and ``on_retry`` events as :class:`Retrier`, on
``tenacity.AsyncRetrying`` so a retry's sleep does not hold a thread.

The first attempt runs before tenacity is entered: tenacity's async machinery costs ~0.3 ms a
call here (it inspects every strategy for coroutines on each call), more than the CRT request.
A first attempt that fails is handed to tenacity as its own first outcome (re-raised, not sent
again), so the strategies see exactly the sequence they would have seen.

The policy's ``sleep`` is ``time.sleep`` unless a test injected another; with the default, the
sleep is ``asyncio.sleep``; an injected sleep is called as it is (tests inject ones that record
and return at once), then the loop is yielded to.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import tenacity

from ...._retry.budget import RetryBudget
from ...._retry.policy import RetryPolicy
from ...._retry.retrier import Retrier
from ...._retry.strategies import CallState, strategies
from ...._stats import Stats

__all__ = ["AsyncRetrier"]

T = TypeVar("T")


class AsyncRetrier(Retrier):
    """:class:`Retrier` with an awaitable :meth:`acall`."""

    def __init__(self, policy: RetryPolicy, stats: Stats, budget: RetryBudget) -> None:
        super().__init__(policy, stats, budget)
        self._async = tenacity.AsyncRetrying(
            **strategies(policy, budget, stats),
            sleep=_async_sleep(policy.sleep),
            before_sleep=self._before_sleep,
            reraise=True,
        )

    async def acall(
        self,
        operation: str,
        bucket: str | None,
        key: str | None,
        fn: Callable[[], Awaitable[T]],
        fresh_until: float | None = None,
    ) -> T:
        """Await ``fn()`` with retries (each attempt builds its request, body included, anew)."""
        state = CallState(operation, bucket, key, self.policy.clock(), fresh_until=fresh_until)
        self.stats.add("calls")

        async def attempt(state: CallState) -> T:
            self.stats.add("attempts")
            began = self.policy.clock()
            try:
                return await fn()
            except Exception as exc:  # classified for the strategies, then re-raised as is
                self._attempt_failed(state, exc, began)
                raise

        try:
            result: T = await attempt(state)  # most calls succeed at once: no tenacity for them
        except Exception as error:  # noqa: BLE001 - classified by attempt(); tenacity decides
            first: Exception | None = error

            async def again(state: CallState) -> T:
                nonlocal first
                if first is not None:  # the first attempt's outcome, as tenacity's first attempt
                    replay, first = first, None
                    raise replay
                return await attempt(state)

            try:
                result = await self._async(again, state)
            except Exception as exc:
                self._failed(exc, state)
                raise
        self.budget.refund(state.tokens)
        return result


def _async_sleep(sleep: Callable[[float], None]) -> Callable[[float], Awaitable[None]]:
    if sleep is time.sleep:
        return asyncio.sleep

    async def injected(seconds: float) -> None:
        sleep(seconds)
        await asyncio.sleep(0)

    return injected
