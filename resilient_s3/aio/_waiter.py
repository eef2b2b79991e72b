"""A waiter of the asyncio door: botocore's waiter configuration, polled with awaited calls.

``await s3.get_waiter("object_exists").wait(Bucket=..., Key=...)`` polls as botocore's
``Waiter.wait`` does (its acceptors, ``Delay`` and ``MaxAttempts``, ``WaiterConfig`` overrides,
``WaiterError`` with the last answer), each poll a retried call of the door and each pause an
``asyncio`` sleep. Only the waiter's public ``name`` and ``config`` are read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botocore.exceptions import ClientError, WaiterError
from botocore.waiter import is_valid_waiter_error

__all__ = ["AsyncWaiter"]

logger = logging.getLogger("resilient_s3")


class AsyncWaiter:
    """Polls ``call(**params)`` (an awaited operation of the door) until ``waiter``'s
    acceptors say success or failure, or its attempts run out."""

    def __init__(self, waiter: Any, call: Callable[..., Awaitable[Any]]) -> None:
        self.name: str = waiter.name
        self.config: Any = waiter.config
        self._call = call

    async def wait(self, **kwargs: Any) -> None:
        """Wait as botocore's ``Waiter.wait(**kwargs)`` does, awaited."""
        acceptors = list(self.config.acceptors)
        options = kwargs.pop("WaiterConfig", {})
        delay = options.get("Delay", self.config.delay)
        max_attempts = options.get("MaxAttempts", self.config.max_attempts)
        matched = None
        attempts = 0
        while True:
            response = await self._poll(kwargs)
            attempts += 1
            state = "waiting"
            for acceptor in acceptors:
                if acceptor.matcher_func(response):
                    matched, state = acceptor, acceptor.state
                    break
            else:
                if is_valid_waiter_error(response):
                    error = response["Error"]
                    raise WaiterError(
                        name=self.name,
                        reason=f"An error occurred ({error.get('Code', 'Unknown')}): "
                        f"{error.get('Message', 'Unknown')}",
                        last_response=response,
                    )
            if state == "success":
                logger.debug("waiter %s matched its success state", self.name)
                return
            if state == "failure":
                reason = f"Waiter encountered a terminal failure state: {matched.explanation}"  # type: ignore[union-attr]
                raise WaiterError(name=self.name, reason=reason, last_response=response)
            if attempts >= max_attempts:
                reason = "Max attempts exceeded"
                if matched is not None:
                    reason += f". Previously accepted state: {matched.explanation}"
                raise WaiterError(name=self.name, reason=reason, last_response=response)
            await asyncio.sleep(delay)

    async def _poll(self, params: dict[str, Any]) -> Any:
        """One poll; an error answer is the answer (as botocore's waiters see it)."""
        try:
            return await self._call(**params)
        except ClientError as error:
            return error.response
