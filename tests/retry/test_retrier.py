"""The retry engine with injected clock, sleep and random: no real sleeping, no server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from botocore import exceptions as bce

from resilient_s3 import Backoff, BudgetPolicy, ErrorKind, RetryEvent, RetryPolicy
from resilient_s3._retry.budget import RetryBudget
from resilient_s3._retry.retrier import Retrier
from resilient_s3._stats import Stats

from ..conftest import FakeTime
from .test_classify import client_error


def notes(exc: BaseException) -> list[str]:
    return list(getattr(exc, "__notes__", []))


def make(fake_time: FakeTime, **overrides: Any) -> Retrier:
    policy = RetryPolicy(
        sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 1.0, **overrides
    )
    return Retrier(policy, Stats(), RetryBudget(policy.budget))


def failing(errors: Iterable[BaseException], result: str = "ok") -> Callable[[], str]:
    """A function that raises each error in turn, then returns ``result``; counts its calls."""
    pending = list(errors)

    def fn() -> str:
        fn.calls += 1  # type: ignore[attr-defined]
        if pending:
            raise pending.pop(0)
        return result

    fn.calls = 0  # type: ignore[attr-defined]
    return fn


def test_success_after_retries_of_mixed_kinds(fake_time: FakeTime) -> None:
    retrier = make(fake_time)
    fn = failing(
        [
            client_error("SlowDown", 503),
            bce.ConnectionClosedError(endpoint_url="u"),
            client_error("InternalError", 500),
        ]
    )
    assert retrier.call("PutObject", "b", "k", fn) == "ok"
    assert fn.calls == 4  # type: ignore[attr-defined]
    # full jitter with random()=1: throttled base 1.0, network 0.05, server 0.1
    assert fake_time.sleeps == [1.0, 0.05, 0.1]
    stats = retrier.stats.snapshot()
    assert stats.attempts == 4
    assert dict(stats.retries) == {"throttled": 1, "network_after_send": 1, "server": 1}


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDenied", 403),
        client_error("NoSuchBucket", 404),
        bce.ParamValidationError(report="bad"),
        client_error("NoSuchKey", 404),
    ],
)
def test_permanent_and_not_found_are_tried_once_without_delay(
    fake_time: FakeTime, error: BaseException
) -> None:
    retrier = make(fake_time)
    fn = failing([error, error])
    with pytest.raises(type(error)) as caught:
        retrier.call("GetObject", "b", "k", fn)
    assert caught.value is error
    assert fn.calls == 1  # type: ignore[attr-defined]
    assert fake_time.sleeps == []
    # botocore's parameter validation fails before any request: that attempt is not counted
    sent = 0 if isinstance(error, bce.ParamValidationError) else 1
    assert error.resilient_s3_attempts == sent  # type: ignore[attr-defined]
    assert retrier.stats.snapshot().give_ups == 0


def test_give_up_raises_the_same_exception_annotated(fake_time: FakeTime) -> None:
    retrier = make(fake_time, server=Backoff(max_attempts=3, base=0.1, cap=1.0))
    errors = [client_error("InternalError", 500) for _ in range(5)]
    fn = failing(errors)
    with pytest.raises(bce.ClientError) as caught:
        retrier.call("PutObject", "bkt", "a/key", fn)
    assert caught.value is errors[2]
    assert fn.calls == 3  # type: ignore[attr-defined]
    assert caught.value.resilient_s3_attempts == 3  # type: ignore[attr-defined]
    assert caught.value.resilient_s3_kinds == (ErrorKind.SERVER,) * 3  # type: ignore[attr-defined]
    note = notes(caught.value)[-1]
    assert "PutObject s3://bkt/a/key failed after 3 attempts" in note
    assert "attempt limit for server errors (3)" in note
    assert retrier.stats.snapshot().give_ups == 1


def test_backoff_grows_exponentially_and_is_capped(fake_time: FakeTime) -> None:
    retrier = make(fake_time, throttled=Backoff(max_attempts=7, base=1.0, cap=5.0), deadline=None)
    fn = failing([client_error("SlowDown", 503)] * 6)
    retrier.call("PutObject", "b", "k", fn)
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_full_jitter_uses_the_injected_random(fake_time: FakeTime) -> None:
    draws = iter([0.5, 0.25])
    retrier = make(fake_time)
    retrier = Retrier(
        RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: next(draws)),
        Stats(),
        RetryBudget(BudgetPolicy()),
    )
    retrier.call("PutObject", "b", "k", failing([client_error("SlowDown", 503)] * 2))
    assert fake_time.sleeps == [0.5 * 1.0, 0.25 * 2.0]


def test_deadline_is_never_overrun(fake_time: FakeTime) -> None:
    """Each attempt takes 3 s; the call must stop before any sleep would cross 10 s."""
    retrier = make(fake_time, deadline=10.0, throttled=Backoff(max_attempts=100, base=1.0, cap=2.0))
    started = fake_time.now

    def slow_throttled() -> str:
        fake_time.advance(3.0)
        raise client_error("SlowDown", 503)

    with pytest.raises(bce.ClientError) as caught:
        retrier.call("PutObject", "b", "k", slow_throttled)
    assert fake_time.now - started < 10.0
    assert "deadline of 10s reached" in notes(caught.value)[-1]
    # 3 s + sleep 1 + 3 s = 7 s; sleep 2 + another 3 s attempt would end at 12 s: stopped
    assert fake_time.sleeps == [1.0]


def test_budget_exhaustion_stops_retries_and_is_counted(fake_time: FakeTime) -> None:
    retrier = make(fake_time, budget=BudgetPolicy(capacity=25, network_cost=10))
    refused = bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    fn = failing([refused] * 10)
    with pytest.raises(bce.EndpointConnectionError) as caught:
        retrier.call("GetObject", "b", "k", fn)
    assert fn.calls == 3  # type: ignore[attr-defined]  # two retries took 20 of 25 tokens
    stats = retrier.stats.snapshot()
    assert stats.budget_exhausted == 1
    assert "retry budget is exhausted" in notes(caught.value)[-1]
    # the next call's first attempt does not wait on the budget, its retries are refused
    fn2 = failing([refused] * 10)
    with pytest.raises(bce.EndpointConnectionError):
        retrier.call("GetObject", "b", "k", fn2)
    assert fn2.calls == 1  # type: ignore[attr-defined]


def test_successful_calls_refill_the_budget(fake_time: FakeTime) -> None:
    budget = RetryBudget(BudgetPolicy(capacity=20, network_cost=10, success_refund=1))
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 0.0)
    retrier = Retrier(policy, Stats(), budget)
    refused = bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    with pytest.raises(bce.EndpointConnectionError):
        retrier.call("GetObject", "b", "k", failing([refused] * 10))
    assert budget.available == 0
    for _ in range(10):
        retrier.call("GetObject", "b", "k", failing([]))
    assert budget.available == 10
    retrier.call("GetObject", "b", "k", failing([refused]))  # took 10, gave them back
    assert budget.available == 10


def test_after_send_errors_are_not_retried_for_non_idempotent_operations(
    fake_time: FakeTime,
) -> None:
    retrier = make(fake_time, non_idempotent_operations=frozenset({"CompleteMultipartUpload"}))
    closed = bce.ConnectionClosedError(endpoint_url="u")
    fn = failing([closed, closed])
    with pytest.raises(bce.ConnectionClosedError) as caught:
        retrier.call("CompleteMultipartUpload", "b", "k", fn)
    assert fn.calls == 1  # type: ignore[attr-defined]
    assert "not safe to resend" in notes(caught.value)[-1]
    # a before-send error on the same operation is still retried: the server never saw it
    fn = failing([bce.EndpointConnectionError(endpoint_url="u")])
    assert retrier.call("CompleteMultipartUpload", "b", "k", fn) == "ok"


def test_retry_after_is_honoured_and_capped(fake_time: FakeTime) -> None:
    retrier = make(fake_time, max_retry_after=3.0)
    asked = client_error("SlowDown", 503)
    asked.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] = "2"
    too_long = client_error("SlowDown", 503)
    too_long.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-retry-after"] = "60000"
    retrier = Retrier(
        RetryPolicy(
            sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 0.0, max_retry_after=3.0
        ),
        Stats(),
        RetryBudget(BudgetPolicy()),
    )
    retrier.call("PutObject", "b", "k", failing([asked, too_long]))
    assert fake_time.sleeps == [2.0, 3.0]


def test_on_retry_hook_and_rewind(fake_time: FakeTime) -> None:
    events: list[RetryEvent] = []
    rewinds: list[int] = []
    retrier = make(fake_time, on_retry=events.append)
    fn = failing([client_error("InternalError", 500), client_error("SlowDown", 503)])
    retrier.call("PutObject", "b", "k", fn, rewind=lambda: rewinds.append(1))
    assert [(e.operation, e.bucket, e.key, e.attempt, e.kind) for e in events] == [
        ("PutObject", "b", "k", 1, ErrorKind.SERVER),
        ("PutObject", "b", "k", 2, ErrorKind.THROTTLED),
    ]
    assert [e.delay for e in events] == fake_time.sleeps
    assert len(rewinds) == 2  # before each attempt after the first


def test_keyboard_interrupt_is_never_retried(fake_time: FakeTime) -> None:
    retrier = make(fake_time)
    fn = failing([KeyboardInterrupt()])
    with pytest.raises(KeyboardInterrupt):
        retrier.call("PutObject", "b", "k", fn)
    assert fn.calls == 1  # type: ignore[attr-defined]


def test_log_lines_name_the_object_and_hold_no_secrets(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="resilient_s3")
    retrier = make(fake_time, server=Backoff(max_attempts=2, base=0.1, cap=1.0))
    secret = client_error("InternalError", 500)
    secret.response["Error"]["Message"] = "X-Amz-Signature=deadbeef AWSAccessKeyId=AKIASECRET"
    with pytest.raises(bce.ClientError):
        retrier.call("PutObject", "bkt", "k1", failing([secret, secret]))
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        "retrying PutObject bucket=bkt key=k1 attempt=1 kind=server delay=0.100s" in line
        for line in lines
    )
    assert any("giving up PutObject bucket=bkt key=k1 attempts=2" in line for line in lines)
    assert not any("deadbeef" in line or "AKIASECRET" in line for line in lines)
