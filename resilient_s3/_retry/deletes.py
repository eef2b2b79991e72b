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
from collections.abc import Callable
from typing import Any

import tenacity

from .classify import ErrorKind, classify_code
from .policy import RetryPolicy

__all__ = ["delete_objects"]

logger = logging.getLogger("resilient_s3")
_TRANSIENT = frozenset({ErrorKind.THROTTLED, ErrorKind.SERVER})


def delete_objects(
    send: Callable[[dict[str, Any]], dict[str, Any]], params: dict[str, Any], policy: RetryPolicy
) -> dict[str, Any]:
    """Run DeleteObjects through ``send`` (one retried request), retrying transient per-key
    errors; return one answer for all rounds."""
    pending: list[dict[str, Any]] = list(params["Delete"]["Objects"])
    deleted: list[dict[str, Any]] = []
    permanent: list[dict[str, Any]] = []  # kept from every round
    transient: list[dict[str, Any]] = []  # the last round's: retried, or left at the end

    def one_round() -> dict[str, Any]:
        nonlocal pending, transient
        response = send({**params, "Delete": {**params["Delete"], "Objects": pending}})
        deleted.extend(response.get("Deleted", []))
        transient = []
        for error in response.get("Errors", []):
            (transient if _transient(error, policy) else permanent).append(error)
        again = {_identity(e) for e in transient}
        pending = [o for o in pending if _identity(o) in again]
        return response

    backoff = policy.server
    last = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda _: bool(pending)),
        stop=tenacity.stop_after_attempt(backoff.max_attempts),
        wait=lambda state: backoff.delay(state.attempt_number, policy.random()),
        sleep=policy.sleep,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )(one_round)
    answer = dict(last)
    answer.pop("Deleted", None)
    if deleted:  # boto3's answer has no "Deleted" key when nothing was deleted (or Quiet)
        answer["Deleted"] = deleted
    errors = permanent + transient
    if errors:
        answer["Errors"] = errors
        for error in errors:
            logger.warning(
                "DeleteObjects bucket=%s key=%s not deleted: %s",
                params.get("Bucket"),
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
