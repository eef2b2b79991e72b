"""The per-client retry budget: a thread-safe token bucket (state, deliberately not a checker)."""

from __future__ import annotations

import threading

from .classify import ErrorKind
from .policy import BudgetPolicy

__all__ = ["RetryBudget"]


class RetryBudget:
    """Tokens a client may spend on retries; see :class:`~resilient_s3.BudgetPolicy`.

    ``None`` as the policy makes an unlimited budget.
    """

    __slots__ = ("_available", "_lock", "_policy")

    def __init__(self, policy: BudgetPolicy | None) -> None:
        self._policy = policy
        self._available = policy.capacity if policy else 0
        self._lock = threading.Lock()

    @property
    def available(self) -> int | None:
        """Tokens left, or ``None`` when the budget is unlimited."""
        return self._available if self._policy else None

    def acquire(self, kind: ErrorKind) -> int | None:
        """Take the cost of one retry after ``kind``: the tokens taken, or ``None`` if too few."""
        if self._policy is None:
            return 0
        cost = self._policy.cost(kind)
        with self._lock:
            if cost > self._available:
                return None
            self._available -= cost
            return cost

    def refund(self, taken: int) -> None:
        """Give back ``taken`` tokens after a call succeeded (``success_refund`` if none)."""
        if self._policy is None:
            return
        amount = taken or self._policy.success_refund
        if self._available >= self._policy.capacity:
            return  # full: the common case takes no lock
        with self._lock:
            self._available = min(self._policy.capacity, self._available + amount)
