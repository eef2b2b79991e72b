"""RetryPolicy, Backoff and BudgetPolicy are validated frozen values."""

from __future__ import annotations

import dataclasses

import pytest

from resilient_s3 import Backoff, BudgetPolicy, ErrorKind, RetryPolicy
from resilient_s3._retry.budget import RetryBudget


def test_policy_is_frozen_and_derivable() -> None:
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.deadline = 1.0  # type: ignore[misc]
    shorter = dataclasses.replace(policy, deadline=5.0)
    assert shorter.deadline == 5.0
    assert policy.deadline == 60.0


def test_throttling_has_the_larger_base() -> None:
    policy = RetryPolicy()
    assert policy.throttled.base > policy.server.base > policy.network_after_send.base


def test_backoff_for_each_kind() -> None:
    policy = RetryPolicy()
    assert policy.backoff_for(ErrorKind.THROTTLED) is policy.throttled
    assert policy.backoff_for(ErrorKind.NETWORK_BEFORE_SEND) is policy.network_before_send
    assert policy.backoff_for(ErrorKind.PERMANENT) is None
    assert policy.backoff_for(ErrorKind.NOT_FOUND) is policy.not_found  # fresh keys only


def test_no_retries_makes_one_attempt_per_kind() -> None:
    policy = RetryPolicy.no_retries()
    for kind in ErrorKind:
        backoff = policy.backoff_for(kind)
        assert backoff is None or backoff.max_attempts == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: Backoff(max_attempts=0, base=1, cap=1),
        lambda: Backoff(max_attempts=1, base=-1, cap=1),
        lambda: RetryPolicy(deadline=0),
        lambda: RetryPolicy(body_spool_limit=-1),
        lambda: BudgetPolicy(capacity=-1),
    ],
)
def test_bad_values_are_refused(make: object) -> None:
    with pytest.raises(ValueError, match="must be"):
        make()  # type: ignore[operator]


def test_budget_costs_and_refunds() -> None:
    budget = RetryBudget(BudgetPolicy(capacity=30, retry_cost=5, network_cost=10))
    assert budget.acquire(ErrorKind.THROTTLED) == 5
    assert budget.acquire(ErrorKind.NETWORK_AFTER_SEND) == 10
    assert budget.acquire(ErrorKind.NETWORK_BEFORE_SEND) == 10
    assert budget.acquire(ErrorKind.NETWORK_BEFORE_SEND) is None
    assert budget.available == 5
    budget.refund(20)
    assert budget.available == 25
    budget.refund(100)
    assert budget.available == 30  # never above capacity


def test_no_budget_is_unlimited() -> None:
    budget = RetryBudget(None)
    assert budget.available is None
    assert all(budget.acquire(ErrorKind.SERVER) == 0 for _ in range(1000))
