"""The one conditional re-upload: a write sent again under the condition its verdict gives
(``judgment.py``), so that it never clobbers a newer write by someone else.

``If-None-Match: *`` (a lost write) makes the server refuse the write (412
``PreconditionFailed``) when an object exists at the key; ``If-Match: <ETag>`` (a version that
holds other bytes than were sent) when the key holds another version. Whether the object found
is ours (an earlier attempt landed after all) or another writer's is for the caller to judge. A
409 ``ConditionalRequestConflict`` is not that answer: the write met another write of the key in
flight, and AWS says to retry it (the write's own retries do, as a SERVER error; if they run
out, the error is raised, never read as "the key is taken"). A
server without conditional writes (501, ``NotImplemented``) is learnt once per client: the write
is sent plainly from then on, and that is logged once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from .._fields import error_code, http_status

__all__ = ["CONDITIONS", "ConditionalWrites", "KeyTaken"]

logger = logging.getLogger("resilient_s3")

T = TypeVar("T")
#: Statuses of a conditional write refused because an object exists at the key (a 409 is a
#: conflict with a write in flight: transient, see the module docstring).
_TAKEN_STATUSES = frozenset({412})
#: Write parameters that already carry a condition of the caller's (left as they are).
CONDITIONS = frozenset({"IfMatch", "IfNoneMatch"})


@dataclass(frozen=True)
class KeyTaken:
    """The conditional re-upload was refused: an object exists at the key (``error`` says so)."""

    error: ClientError


class ConditionalWrites:
    """What one client has learnt of its server's conditional writes (thread-safe)."""

    def __init__(self) -> None:
        self._supported = True
        self._lock = threading.Lock()

    @property
    def supported(self) -> bool:
        """Whether the server is still taken to support ``IfNoneMatch="*"``."""
        return self._supported

    def reupload(
        self,
        write: Callable[[Mapping[str, Any]], T],
        params: Mapping[str, Any],
        condition: Mapping[str, str] | None,
    ) -> T | KeyTaken:
        """``write(extra)`` again, ``extra`` being ``condition`` (``{"IfNoneMatch": "*"}``,
        ``{"IfMatch": etag}``) when one is given, the server supports conditional writes and
        ``params`` carry no condition of their own; else ``{}``.

        Returns the write's result, or :class:`KeyTaken` when the server refused it because the
        key holds an object the condition excludes; raises what else the write raised.
        """
        use = self._use(condition, params)
        try:
            return write(condition if use and condition else {})
        except ClientError as exc:
            refused = self._refused(use, exc)
            if refused is None:
                return write({})
            return refused

    async def areupload(
        self,
        write: Callable[[Mapping[str, Any]], Awaitable[T]],
        params: Mapping[str, Any],
        condition: Mapping[str, str] | None,
    ) -> T | KeyTaken:
        """:meth:`reupload`, awaited."""
        use = self._use(condition, params)
        try:
            return await write(condition if use and condition else {})
        except ClientError as exc:
            refused = self._refused(use, exc)
            if refused is None:
                return await write({})
            return refused

    def _use(self, condition: Mapping[str, str] | None, params: Mapping[str, Any]) -> bool:
        return bool(condition) and self._supported and not CONDITIONS & params.keys()

    def _refused(self, used: bool, exc: ClientError) -> KeyTaken | None:
        """A refused conditional write: :class:`KeyTaken`, or ``None`` when the server does not
        support the condition (learnt: send it plainly); re-raises anything else."""
        if used and http_status(exc) in _TAKEN_STATUSES:
            return KeyTaken(exc)
        if used and (http_status(exc) == 501 or error_code(exc) == "NotImplemented"):
            self._turn_off()
            return None
        raise exc

    def _turn_off(self) -> None:
        with self._lock:
            if not self._supported:
                return
            self._supported = False
        logger.warning(
            "the server does not support conditional writes (If-None-Match, If-Match): writes "
            "are re-uploaded unconditionally (docs/consistency.md)"
        )
