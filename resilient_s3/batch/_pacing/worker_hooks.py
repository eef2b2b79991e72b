"""Per-request hooks: every HTTP request of a batch's worker threads is paced and counted.

Two botocore event handlers are registered once on a client (``before-send.s3`` and
``response-received.s3``, each with a fixed ``unique_id``, so registering again is a no-op).
They act only in the worker threads of a running batch, which carry a :class:`RequestContext`
in a thread-local; in any other thread they return at once, so the client's other users are
unaffected (one thread-local lookup per request).

This is where ``rate_limit`` counts *every* request (first attempts, the facade's retries, the
verifier's read-backs, list pages, multipart steps), where a cancelled batch refuses to send
another request, and where THROTTLED answers reach the adaptive rate, as botocore's own adaptive
mode hooks the same two events.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.client import BaseClient

from ..._fields import error_code
from .context import RequestContext

__all__ = ["current_context", "install_hooks", "set_context"]

_local = threading.local()


def set_context(context: RequestContext | None) -> None:
    """Make ``context`` the calling thread's (a worker pool's initializer)."""
    _local.context = context


def current_context() -> RequestContext | None:
    """The calling thread's batch context, or ``None`` outside a batch's workers."""
    context: RequestContext | None = getattr(_local, "context", None)
    return context


def install_hooks(client: BaseClient) -> None:
    """Register the two handlers on ``client`` (idempotent)."""
    events = client.meta.events
    events.register("before-send.s3", _before_send, unique_id="resilient-s3-batch-send")
    events.register(
        "response-received.s3", _response_received, unique_id="resilient-s3-batch-answer"
    )


def _before_send(request: Any, event_name: str = "", **_: Any) -> None:
    context = current_context()
    if context is not None:
        length = request.headers.get("Content-Length") if request is not None else None
        nbytes = int(length) if length and str(length).isdigit() else 0
        context.before_request(event_name.rpartition(".")[2], nbytes)


def _response_received(
    response_dict: dict[str, Any] | None = None,
    parsed_response: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    context = current_context()
    if context is None or response_dict is None:
        return  # not a batch worker, or no answer at all (a network error)
    code = error_code(parsed_response)
    context.answered(int(response_dict.get("status_code", 0)), code)
