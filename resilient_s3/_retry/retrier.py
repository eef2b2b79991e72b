"""Run one call under a :class:`RetryPolicy`, blocking (:meth:`Retrier.call`) or awaited
(:meth:`Retrier.acall`): tenacity drives, this module wires and reports.

One ``tenacity.Retrying`` per client is built once and shared by every thread (tenacity keeps
its per-call state thread-local); the per-call facts live in a :class:`CallState` passed as
the wrapped function's argument, which the strategies read.

The awaited half has the same policy, strategies, deadline, budget, stats, log lines and
``on_retry`` events, on ``tenacity.AsyncRetrying`` so a retry's sleep holds no thread. In both
halves the first attempt runs before tenacity is entered: tenacity's machinery costs more than
a native request (~0.3 ms a call for the async one, which inspects every strategy for
coroutines on each call; ~0.05 ms for the blocking one). A first attempt that fails is handed
to tenacity as its own first outcome (re-raised, not sent again), so the strategies see
exactly the sequence they would have seen. With the policy's default
``sleep`` (``time.sleep``) the awaited sleep is ``asyncio.sleep``; an injected sleep is called
as it is (tests inject ones that record and return at once), then the loop is yielded to.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import tenacity

from .._errors import annotate, describe
from .._fields import error_label
from .._stats import Stats
from .budget import RetryBudget
from .classify import ErrorKind, classify, raised_before_send
from .policy import RetryEvent, RetryPolicy
from .strategies import CallState, refusal, strategies
from .timeouts import attempt_time_left

__all__ = ["Retrier", "async_sleep"]

logger = logging.getLogger("resilient_s3")
T = TypeVar("T")


class Retrier:
    """Calls a function until it succeeds or the policy says stop; re-raises the last error."""

    def __init__(self, policy: RetryPolicy, stats: Stats, budget: RetryBudget) -> None:
        self.policy = policy
        self.stats = stats
        self.budget = budget
        self._retrying = tenacity.Retrying(
            **strategies(policy, budget, stats),
            sleep=policy.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        self._async_retrying: tenacity.AsyncRetrying | None = None

    def call(
        self,
        operation: str,
        bucket: str | None,
        key: str | None,
        fn: Callable[[], T],
        rewind: Callable[[], None] | None = None,
        counted: bool = True,
        fresh_until: float | None = None,
    ) -> T:
        """Call ``fn`` with retries. ``rewind`` runs before every attempt after the first.

        ``counted=False`` keeps the call out of ``calls``/``attempts`` (used for body reads).
        ``fresh_until`` (a ``policy.clock()`` time) makes a 404 retryable until then.
        """
        state = CallState(operation, bucket, key, self.policy.clock(), fresh_until=fresh_until)
        if counted:
            self.stats.add("calls")

        def attempt(state: CallState) -> T:
            if state.kinds and rewind is not None:
                rewind()
            if counted:
                self.stats.add("attempts")
            began = self.policy.clock()
            deadline = self.policy.deadline
            left = None if deadline is None else deadline - (began - state.started)
            try:
                with attempt_time_left(left):
                    return fn()
            except Exception as exc:  # classified for the strategies, then re-raised as is
                self._attempt_failed(state, exc, began)
                raise

        try:
            result = attempt(state)  # most calls succeed at once: no tenacity for them
        except Exception as error:  # noqa: BLE001 - classified by attempt(); tenacity decides
            first: Exception | None = error

            def again(state: CallState) -> T:
                nonlocal first
                if first is not None:  # the first attempt's outcome, as tenacity's first attempt
                    replay, first = first, None
                    raise replay
                return attempt(state)

            try:
                result = self._retrying(again, state)
            except Exception as exc:
                self._failed(exc, state)
                raise
        if counted or state.tokens:
            self.budget.refund(state.tokens)
        return result

    async def acall(
        self,
        operation: str,
        bucket: str | None,
        key: str | None,
        fn: Callable[[], Awaitable[T]],
        fresh_until: float | None = None,
        *,
        rewind: Callable[[], None] | None = None,
        counted: bool = True,
    ) -> T:
        """Await ``fn()`` with retries; see the module docstring. ``rewind``, ``counted`` and
        ``fresh_until`` as in :meth:`call` (a transport that builds each attempt's request
        anew, body included, needs no ``rewind``); each attempt's timeouts in a worker thread
        are capped by the deadline as in :meth:`call`."""
        state = CallState(operation, bucket, key, self.policy.clock(), fresh_until=fresh_until)
        if counted:
            self.stats.add("calls")

        async def attempt(state: CallState) -> T:
            if state.kinds and rewind is not None:
                rewind()
            if counted:
                self.stats.add("attempts")
            began = self.policy.clock()
            deadline = self.policy.deadline
            left = None if deadline is None else deadline - (began - state.started)
            try:
                with attempt_time_left(left):  # a context variable: worker threads get a copy
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
                result = await self._async()(again, state)
            except Exception as exc:
                self._failed(exc, state)
                raise
        if counted or state.tokens:
            self.budget.refund(state.tokens)
        return result

    def _async(self) -> tenacity.AsyncRetrying:
        """The awaited half's tenacity loop, built on first use."""
        if self._async_retrying is None:
            self._async_retrying = tenacity.AsyncRetrying(
                **strategies(self.policy, self.budget, self.stats),
                sleep=async_sleep(self.policy.sleep),
                before_sleep=self._before_sleep,
                reraise=True,
            )
        return self._async_retrying

    def _attempt_failed(self, state: CallState, error: Exception, began: float) -> None:
        """Record a failed attempt for the strategies: its duration, kind, whether it was sent."""
        state.last_attempt = self.policy.clock() - began
        state.kinds.append(classify(error, self.policy.tables))
        state.unsent += raised_before_send(error)

    def _before_sleep(self, retry_state: tenacity.RetryCallState) -> None:
        state: CallState = retry_state.args[0]
        kind = state.kinds[-1]
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        delay = retry_state.upcoming_sleep
        event = None
        if error is not None:
            event = RetryEvent(
                state.operation, state.bucket, state.key, len(state.kinds), kind, delay, error
            )
            self.stats.retry(event)
        logger.info(
            "retrying %s bucket=%s key=%s attempt=%d kind=%s delay=%.3fs error=%s",
            state.operation,
            state.bucket,
            state.key,
            len(state.kinds),
            kind.value,
            delay,
            _error_name(error),
        )
        if self.policy.on_retry is not None and event is not None:
            self.policy.on_retry(event)

    def _failed(self, exc: Exception, state: CallState) -> None:
        """Annotate the error that ends a call, and count and log it if retries gave up."""
        if not state.kinds:
            return  # raised before any attempt (e.g. by tenacity itself): leave it untouched
        kind = state.kinds[-1]
        target = describe(state.bucket, state.key)
        refused = None if state.stopped_by else refusal(self.policy, state)
        reason = f"gave up: {state.stopped_by}" if state.stopped_by else f"not retried: {refused}"
        annotate(exc, state.operation, target, state.kinds, reason, len(state.kinds) - state.unsent)
        if kind not in _TRANSIENT:  # an answer (404, 403...), not a give-up
            logger.debug("%s %s failed: %s (%s)", state.operation, target, _error_name(exc), reason)
            return
        self.stats.add("give_ups")
        logger.warning(
            "giving up %s bucket=%s key=%s attempts=%d kind=%s error=%s: %s",
            state.operation,
            state.bucket,
            state.key,
            len(state.kinds),
            kind.value,
            _error_name(exc),
            reason,
        )


_TRANSIENT = frozenset(
    {
        ErrorKind.NETWORK_BEFORE_SEND,
        ErrorKind.NETWORK_AFTER_SEND,
        ErrorKind.THROTTLED,
        ErrorKind.SERVER,
    }
)


def _error_name(error: BaseException | None) -> str:
    """Class and S3 error code only: messages can hold URLs, and URLs can hold signatures."""
    return "-" if error is None else error_label(error)


def async_sleep(sleep: Callable[[float], None]) -> Callable[[float], Awaitable[None]]:
    """The awaited form of a policy's ``sleep``: ``asyncio.sleep`` for ``time.sleep``; an
    injected one called as it is (tests record and return at once), then the loop yielded to."""
    if sleep is time.sleep:
        return asyncio.sleep

    async def injected(seconds: float) -> None:
        sleep(seconds)
        await asyncio.sleep(0)

    return injected
