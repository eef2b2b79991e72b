"""The one conditional re-upload: a lost write sent again with ``IfNoneMatch="*"``.

``If-None-Match: *`` makes the server refuse the write (412 ``PreconditionFailed``) when an
object exists at the key, so a re-upload never clobbers a newer write by someone else. Whether
that object is ours (an earlier attempt landed after all) or another writer's is for the caller
to judge. A 409 ``ConditionalRequestConflict`` is not that answer: the write met another write
of the key in flight, and AWS says to retry it (the write's own retries do, as a SERVER error;
if they run out, the error is raised, never read as "the key is taken"). A
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
        conditional: bool = True,
    ) -> T | KeyTaken:
        """``write(extra)`` again, ``extra`` being ``{"IfNoneMatch": "*"}`` when ``conditional``,
        the server supports it and ``params`` carry no condition of their own.

        Returns the write's result, or :class:`KeyTaken` when the server refused it because an
        object exists at the key; raises what else the write raised.
        """
        use = self._use(conditional, params)
        try:
            return write({"IfNoneMatch": "*"} if use else {})
        except ClientError as exc:
            refused = self._refused(use, exc)
            if refused is None:
                return write({})
            return refused

    async def areupload(
        self,
        write: Callable[[Mapping[str, Any]], Awaitable[T]],
        params: Mapping[str, Any],
        conditional: bool = True,
    ) -> T | KeyTaken:
        """:meth:`reupload`, awaited."""
        use = self._use(conditional, params)
        try:
            return await write({"IfNoneMatch": "*"} if use else {})
        except ClientError as exc:
            refused = self._refused(use, exc)
            if refused is None:
                return await write({})
            return refused

    def _use(self, conditional: bool, params: Mapping[str, Any]) -> bool:
        return conditional and self._supported and not CONDITIONS & params.keys()

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
            "the server does not support conditional writes (If-None-Match): lost writes are "
            "re-uploaded unconditionally (docs/consistency.md)"
        )
