"""tenacity strategies that read the per-call state: which kind failed, how often, since when.

tenacity supplies the loop, the operators and the sleeping; these small callables supply what
tenacity's stock ones cannot: a per-kind attempt limit, full jitter from an injected random, a
deadline on an injected clock, and the retry budget. The retry predicate, the wait and the stop
rules are pure; :class:`stop_unless_budget_pays` asks the rules first and only then takes the
retry's tokens from the budget (the one side effect, in a step of its own).
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Any

import tenacity
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from .._fields import http_headers
from .._stats import Stats
from .budget import RetryBudget
from .classify import ErrorKind
from .policy import RetryPolicy

__all__ = [
    "CallState",
    "refusal",
    "retry_after_seconds",
    "retry_if_retryable",
    "stop_at_kind_limit",
    "stop_before_deadline",
    "stop_unless_budget_pays",
    "stop_when_fresh_window_ends",
    "strategies",
    "wait_full_jitter_by_kind",
]


@dataclass
class CallState:
    """What one call has been through; the first positional argument tenacity passes on."""

    operation: str
    bucket: str | None
    key: str | None
    started: float
    kinds: list[ErrorKind] = field(default_factory=list)
    last_attempt: float = 0.0  # seconds the latest attempt took
    tokens: int = 0  # budget tokens this call took
    stopped_by: str = ""  # why retries stopped, when a stop rule fired
    fresh_until: float | None = None  # clock time until which a 404 is retried (fresh key)
    unsent: int = 0  # attempts that failed before sending anything (not counted as attempts)


def _state(retry_state: tenacity.RetryCallState) -> CallState:
    state: CallState = retry_state.args[0]
    return state


def refusal(policy: RetryPolicy, state: CallState) -> str | None:
    """Why the last error of a call must not be retried, or ``None`` if it may be. Pure."""
    kind = state.kinds[-1]
    if kind is ErrorKind.NOT_FOUND and state.fresh_until is None:
        return "not_found errors are retried only for keys this client has just written"
    if policy.backoff_for(kind) is None:
        return f"{kind.value} errors are not retried"
    if kind is ErrorKind.NETWORK_AFTER_SEND and state.operation in policy.non_idempotent_operations:
        return (
            f"{state.operation} is not safe to resend after the request may have reached the server"
        )
    return None


class retry_if_retryable(retry_base):
    """Retry when :func:`refusal` finds no reason not to."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        outcome = retry_state.outcome
        if outcome is None or not outcome.failed:
            return False
        if not isinstance(outcome.exception(), Exception):
            return False  # KeyboardInterrupt, SystemExit: never retried
        return refusal(self._policy, _state(retry_state)) is None


def retry_after_seconds(exc: BaseException, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait (``x-amz-retry-after`` in ms, ``Retry-After``)."""
    headers = http_headers(exc)
    millis = headers.get("x-amz-retry-after")
    value = headers.get("retry-after")
    try:
        if millis is not None:
            return max(0.0, float(millis) / 1000.0)
        if value is None:
            return None
        if value.strip().isdigit():
            return float(value)
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (ValueError, TypeError, OverflowError):
        return None  # a malformed header is ignored, as urllib3 does
    return max(0.0, when - (time.time() if now is None else now))


class wait_full_jitter_by_kind(wait_base):
    """Full jitter per kind (``Backoff.delay``), raised to a capped Retry-After."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        state = _state(retry_state)
        kind = state.kinds[-1]
        backoff = self._policy.backoff_for(kind)
        if backoff is None:
            return 0.0
        delay = backoff.delay(state.kinds.count(kind), self._policy.random())
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if error is not None and self._policy.max_retry_after > 0:
            asked = retry_after_seconds(error)
            if asked is not None:
                delay = max(delay, min(asked, self._policy.max_retry_after))
        return delay


class stop_at_kind_limit(stop_base):
    """Stop once errors of the last kind have used that kind's ``max_attempts``."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        state = _state(retry_state)
        kind = state.kinds[-1]
        backoff = self._policy.backoff_for(kind)
        limit = backoff.max_attempts if backoff else 1
        if state.kinds.count(kind) < limit:
            return False
        state.stopped_by = f"attempt limit for {kind.value} errors ({limit})"
        return True


class stop_before_deadline(stop_base):
    """Stop unless the next sleep plus another attempt as long as the last one fits before the
    call's deadline: a call does not start a retry it cannot finish in time."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        deadline = self._policy.deadline
        if deadline is None:
            return False
        state = _state(retry_state)
        elapsed = self._policy.clock() - state.started
        if elapsed + retry_state.upcoming_sleep + state.last_attempt < deadline:
            return False
        state.stopped_by = f"deadline of {deadline:g}s reached"
        return True


class stop_when_fresh_window_ends(stop_base):
    """For a 404 on a fresh key: stop when the next sleep would end past the key's window."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        state = _state(retry_state)
        if state.kinds[-1] is not ErrorKind.NOT_FOUND or state.fresh_until is None:
            return False
        if self._policy.clock() + retry_state.upcoming_sleep < state.fresh_until:
            return False
        state.stopped_by = "still not found when the key's freshness window ended"
        return True


def strategies(policy: RetryPolicy, budget: RetryBudget, stats: Stats) -> dict[str, Any]:
    """tenacity's ``retry``, ``wait`` and ``stop`` for ``policy``: the same for the sync
    ``Retrying`` and the ``AsyncRetrying`` of the CRT plane."""
    rules = (
        stop_at_kind_limit(policy)
        | stop_before_deadline(policy)
        | stop_when_fresh_window_ends(policy)
    )
    return {
        "retry": retry_if_retryable(policy),
        "wait": wait_full_jitter_by_kind(policy),
        "stop": stop_unless_budget_pays(rules, budget, stats),
    }


class stop_unless_budget_pays(stop_base):
    """The stop decision in two explicit steps, as botocore's ``RetryHandler``: first the
    side-effect-free ``rules`` (limits, deadline, freshness window); only when they allow the
    retry are its tokens taken from the client's budget. Stops when the budget has too few."""

    def __init__(self, rules: stop_base, budget: RetryBudget, stats: Stats) -> None:
        self._rules = rules
        self._budget = budget
        self._stats = stats

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        if self._rules(retry_state):
            return True
        state = _state(retry_state)
        taken = self._budget.acquire(state.kinds[-1])
        if taken is not None:
            state.tokens += taken
            return False
        self._stats.add("budget_exhausted")
        state.stopped_by = "the client's retry budget is exhausted"
        return True
