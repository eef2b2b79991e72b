"""The adaptive rate: AIMD on an injected clock, then against a proxy that throttles above a
rate."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

import resilient_s3
from resilient_s3._adaptive import AdaptiveRate
from resilient_s3.batch import AdaptivePolicy, BatchClient
from resilient_s3.testing import Fault, FaultKind, FaultProxy

from ..conftest import FakeTime


def _traffic(rate: AdaptiveRate, time: FakeTime, seconds: float, per_second: int,
             throttled_every: int = 0) -> None:  # fmt: skip
    """Send ``per_second`` requests per second for ``seconds``; every n-th answer throttled."""
    for n in range(1, int(seconds * per_second) + 1):
        time.advance(1 / per_second)
        rate.sent()
        rate.answered(throttled_every > 0 and n % throttled_every == 0)


def test_no_throttling_no_limit(fake_time: FakeTime) -> None:
    rate = AdaptiveRate(clock=fake_time.clock)
    _traffic(rate, fake_time, 3, 100)
    assert rate.rate is None


def test_isolated_throttles_below_the_threshold_are_ignored(fake_time: FakeTime) -> None:
    rate = AdaptiveRate(clock=fake_time.clock)
    _traffic(rate, fake_time, 5, 100, throttled_every=25)  # 4 %: a transient fault mix
    assert rate.rate is None
    assert rate.decreases == 0


def test_frequent_throttling_decreases_multiplicatively_once_per_window(
    fake_time: FakeTime,
) -> None:
    rate = AdaptiveRate(clock=fake_time.clock)
    _traffic(rate, fake_time, 1.0, 100)
    for _ in range(20):  # a burst of throttles within a few ms: one decrease
        fake_time.advance(0.001)
        rate.sent()
        rate.answered(True)
    assert rate.decreases == 1
    # 0.7 x the rate the server accepted: ~45 answers not throttled in the 0.5 s window
    assert rate.rate == pytest.approx(0.7 * 45 / 0.5, rel=0.1)


def test_additive_increase_then_release(fake_time: FakeTime) -> None:
    policy = AdaptivePolicy(decrease=0.5, increase=0.1)
    rate = AdaptiveRate(policy, clock=fake_time.clock)
    _traffic(rate, fake_time, 1.0, 100)
    fake_time.advance(0.001)
    rate.answered(True)  # one throttle is never enough
    assert rate.rate is None
    _traffic(rate, fake_time, 0.5, 100, throttled_every=2)  # 50 %: decrease
    assert rate.rate is not None
    after_cut = rate.rate
    fake_time.advance(1.0)
    rate.answered(False)  # one second later: + 0.1 x the rate sent before (100/s)
    assert rate.rate == pytest.approx(after_cut + 0.1 * 100, rel=0.05)
    for _ in range(10):
        fake_time.advance(1.0)
        rate.answered(False)
    assert rate.rate is None  # back to the rate sent before the cut: not limiting


def test_never_below_min_rate(fake_time: FakeTime) -> None:
    rate = AdaptiveRate(AdaptivePolicy(min_rate=5.0), clock=fake_time.clock)
    for _ in range(20):
        fake_time.advance(1.0)
        for _ in range(10):
            rate.sent()
            rate.answered(True)
    assert rate.rate == 5.0


@pytest.mark.parametrize(
    "kwargs",
    [{"decrease": 1.0}, {"decrease": 0.0}, {"increase": 0}, {"threshold": 2}, {"window": 0}],
)
def test_policy_values_are_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        AdaptivePolicy(**kwargs)


@pytest.fixture
def throttling_proxy(s3_server: Any) -> Iterator[FaultProxy]:
    """A proxy that answers SlowDown to requests above 40 a second."""
    throttle = Fault(FaultKind.THROTTLE, per_second=40)
    with FaultProxy(s3_server.endpoint_url, faults=[throttle], seed=0) as proxy:
        yield proxy


def test_adaptive_rate_slows_down_to_what_the_server_accepts(
    throttling_proxy: FaultProxy, quick_policy: Any, s3_bucket: str
) -> None:
    proxy = throttling_proxy
    keys = [f"missing/{i}" for i in range(200)]  # HeadObject, 404: one request per try

    policy = dataclasses.replace(quick_policy, budget=None)  # 404s would spend a budget

    def fresh() -> BatchClient:  # a client each: the adaptive rate is per client
        return resilient_s3.client("s3", retry=policy, **proxy.client_kwargs()).batch

    fixed = fresh().head(s3_bucket, keys, concurrency=16, adaptive=False)
    fixed_throttled = proxy.counters["throttle"]
    proxy.reset_counters()
    adaptive = fresh().head(s3_bucket, keys, concurrency=16)

    # without adaptation, retries without backoff hammer the server: most answers throttled,
    # and many calls give up after 8 attempts
    assert fixed.stats.throttled == fixed_throttled
    assert fixed_throttled > 400
    assert fixed.failures_by_kind().get("throttled", 0) > 20
    # with it, the client settles near 40/s: few throttles, and none gives up
    assert adaptive.stats.throttled == proxy.counters["throttle"]
    assert adaptive.stats.throttled < fixed_throttled / 3
    assert adaptive.failures_by_kind() == {"not_found": 200}
    assert adaptive.stats.items_per_second < 40 * 1.5
