"""``client(rate_limit=SharedLimiter(...))``: every HTTP request of the client takes a token.

Two botocore handlers on the client's events, as the batch's own hooks
(``batch/_pacing/worker_hooks.py``) and botocore's adaptive retry mode use: ``before-send.s3``
blocks until the limiter grants the request (first attempts, the facade's retries, verification
reads, list pages, multipart steps alike: each is one HTTP request), and ``response-received.s3``
tells the limiter whether the answer was throttled. They act in every thread that uses the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient

from .._retry.classify import ErrorKind, ErrorTables, classify_code

if TYPE_CHECKING:
    from .limiter import SharedLimiter

__all__ = ["install_rate_limit", "is_throttled", "request_bytes"]


def install_rate_limit(client: BaseClient, limiter: SharedLimiter, tables: ErrorTables) -> None:
    """Register the two handlers on ``client`` (once: fixed ``unique_id``)."""

    def before_send(request: Any = None, **_: Any) -> None:
        limiter.acquire(1, request_bytes(request) if limiter.bytes_per_second else 0)

    def answered(
        response_dict: dict[str, Any] | None = None,
        parsed_response: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        if response_dict is not None:  # None: no answer at all (a network error)
            limiter.observe(is_throttled(response_dict, parsed_response, tables))

    events = client.meta.events
    events.register("before-send.s3", before_send, unique_id="resilient-s3-rate-limit")
    events.register("response-received.s3", answered, unique_id="resilient-s3-rate-answer")


def request_bytes(request: Any) -> int:
    """The request's ``Content-Length`` (``0`` when it has none)."""
    length = request.headers.get("Content-Length") if request is not None else None
    return int(length) if length and str(length).isdigit() else 0


def is_throttled(
    response_dict: dict[str, Any], parsed_response: dict[str, Any] | None, tables: ErrorTables
) -> bool:
    """Whether an answer is THROTTLED (SlowDown, 503, 429...)."""
    status = int(response_dict.get("status_code", 0))
    code = str((parsed_response or {}).get("Error", {}).get("Code", ""))
    return status >= 400 and classify_code(code, status, tables) is ErrorKind.THROTTLED
