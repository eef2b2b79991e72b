"""DeleteObjects whose per-key failures are retried, not silently returned.

S3 answers DeleteObjects with 200 and an ``Errors`` list for the keys it did not delete; boto3
raises nothing. Here the keys whose error code is transient (THROTTLED or SERVER, classified like
any error) are sent again in a new DeleteObjects, with the ``server`` backoff and attempt limit.
The answer keeps boto3's shape: ``Deleted`` gathers the keys deleted in every round (no such
key when none was, as in boto3's answer), and ``Errors`` holds only what is left (permanent
errors, or transient ones once the attempts ran out), each logged at WARNING. Code that checks
``response["Errors"]`` keeps working.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import tenacity

from .classify import ErrorKind, classify_code
from .policy import RetryPolicy
from .retrier import async_sleep

__all__ = ["adelete_objects", "delete_objects"]

logger = logging.getLogger("resilient_s3")
_TRANSIENT = frozenset({ErrorKind.THROTTLED, ErrorKind.SERVER})


def delete_objects(
    send: Callable[[dict[str, Any]], dict[str, Any]], params: dict[str, Any], policy: RetryPolicy
) -> dict[str, Any]:
    """Run DeleteObjects through ``send`` (one retried request), retrying transient per-key
    errors; return one answer for all rounds."""
    rounds = _Rounds(params, policy)
    last = tenacity.Retrying(**rounds.retrying(), sleep=policy.sleep)(
        lambda: rounds.record(send(rounds.params()))
    )
    return rounds.answer(last)


async def adelete_objects(
    send: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    params: dict[str, Any],
    policy: RetryPolicy,
) -> dict[str, Any]:
    """:func:`delete_objects`, awaited (the rounds' waits are ``asyncio`` sleeps)."""
    rounds = _Rounds(params, policy)

    async def one_round() -> dict[str, Any]:
        return rounds.record(await send(rounds.params()))

    retrying = tenacity.AsyncRetrying(**rounds.retrying(), sleep=async_sleep(policy.sleep))
    return rounds.answer(await retrying(one_round))


class _Rounds:
    """The rounds of one DeleteObjects: what is left to delete, what was deleted, what failed."""

    def __init__(self, params: dict[str, Any], policy: RetryPolicy) -> None:
        self._params = params
        self._policy = policy
        self.pending: list[dict[str, Any]] = list(params["Delete"]["Objects"])
        self.deleted: list[dict[str, Any]] = []
        self.permanent: list[dict[str, Any]] = []  # kept from every round
        self.transient: list[dict[str, Any]] = []  # the last round's: retried, or left at the end

    def params(self) -> dict[str, Any]:
        """The next round's request: the keys still pending."""
        return {**self._params, "Delete": {**self._params["Delete"], "Objects": self.pending}}

    def record(self, response: dict[str, Any]) -> dict[str, Any]:
        """Take a round's answer into account; returns it."""
        self.deleted.extend(response.get("Deleted", []))
        self.transient = []
        for error in response.get("Errors", []):
            transient = _transient(error, self._policy)
            (self.transient if transient else self.permanent).append(error)
        again = {_identity(e) for e in self.transient}
        self.pending = [o for o in self.pending if _identity(o) in again]
        return response

    def retrying(self) -> dict[str, Any]:
        """tenacity's arguments: another round while keys are pending, ``server`` backoff."""
        backoff, policy = self._policy.server, self._policy
        return {
            "retry": tenacity.retry_if_result(lambda _: bool(self.pending)),
            "stop": tenacity.stop_after_attempt(backoff.max_attempts),
            "wait": lambda state: backoff.delay(state.attempt_number, policy.random()),
            "retry_error_callback": lambda state: state.outcome.result() if state.outcome else None,
        }

    def answer(self, last: dict[str, Any]) -> dict[str, Any]:
        """One answer for every round, in boto3's shape (see the module docstring)."""
        answer = dict(last)
        answer.pop("Deleted", None)
        if self.deleted:  # boto3's answer has no "Deleted" key when nothing was deleted (or Quiet)
            answer["Deleted"] = self.deleted
        errors = self.permanent + self.transient
        if errors:
            answer["Errors"] = errors
            for error in errors:
                logger.warning(
                    "DeleteObjects bucket=%s key=%s not deleted: %s",
                    self._params.get("Bucket"),
                    error.get("Key"),
                    error.get("Code"),
                )
        else:
            answer.pop("Errors", None)
        return answer


def _identity(entry: dict[str, Any]) -> tuple[str, str | None]:
    return entry.get("Key", ""), entry.get("VersionId")


def _transient(error: dict[str, Any], policy: RetryPolicy) -> bool:
    return classify_code(str(error.get("Code", "")), 0, policy.tables) in _TRANSIENT
