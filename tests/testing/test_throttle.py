"""Tests of the THROTTLE fault: its values, its spec, the injector's token buckets on a fake clock,
and one run through the proxy in front of moto (real time, generous margins)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from resilient_s3.testing import Fault, FaultKind, FaultProxy, mixed_faults, parse_faults
from resilient_s3.testing._injector import FaultInjector
from resilient_s3.testing._operations import RequestTarget

from ..conftest import FakeTime

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

GET = RequestTarget("bkt", "k", "GetObject")
PUT = RequestTarget("bkt", "k", "PutObject")


def _throttle(per_second: float, **kwargs: Any) -> Fault:
    return Fault(FaultKind.THROTTLE, per_second=per_second, **kwargs)


def _kinds(
    injector: FaultInjector, time_: FakeTime, count: int, every: float, target: RequestTarget = GET
) -> list[FaultKind | None]:
    """``count`` requests, ``every`` seconds apart on the fake clock; the kind each one got."""
    kinds = []
    for _ in range(count):
        time_.advance(every)
        kinds.append(injector.decide("GET" if target is GET else "PUT", target).kind)
    return kinds


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "throttle needs per_second"),
        ({"per_second": 0.0}, "per_second must be a finite number > 0"),
        ({"per_second": -1.0}, "per_second must be"),
        ({"per_second": math.nan}, "per_second must be"),
        ({"per_second": math.inf}, "per_second must be"),
        ({"per_second": 10.0, "burst": 0.5}, "burst must be a finite number >= 1"),
        ({"per_second": 10.0, "burst": math.nan}, "burst must be"),
        ({"per_second": 10.0, "rate": 1.5}, "rate must be within"),
        ({"per_second": 10.0, "retry_after": 1.0}, "retry_after applies to slowdown only"),
    ],
)
def test_throttle_validation(kwargs: dict[str, Any], message: str) -> None:
    """per_second is required and positive, burst at least 1; the common checks apply too."""
    with pytest.raises(ValueError, match=message):
        Fault(FaultKind.THROTTLE, **kwargs)


@pytest.mark.parametrize("field", ["per_second", "burst"])
def test_throttle_settings_belong_to_throttle_only(field: str) -> None:
    """per_second and burst on another kind are refused."""
    with pytest.raises(ValueError, match=f"{field} applies to throttle only, not slowdown"):
        Fault(FaultKind.SLOWDOWN, **{field: 5.0})  # type: ignore[arg-type]


def test_bucket_size_defaults_to_a_quarter_second() -> None:
    """The default burst is a quarter of a second's worth of requests, at least one."""
    assert _throttle(40).bucket_size == 10
    assert _throttle(2).bucket_size == 1
    assert _throttle(2, burst=7).bucket_size == 7
    assert _throttle(40).burst is None  # replace(per_second=...) keeps following the rate


def test_parse_throttle() -> None:
    """``throttle=RATE:PER_SECOND``; the number is required."""
    assert parse_faults("throttle=1:40") == (_throttle(40),)
    assert parse_faults("THROTTLE=0.5:2.5, slowdown=0.1") == (
        _throttle(2.5, rate=0.5),
        Fault(FaultKind.SLOWDOWN, rate=0.1),
    )
    with pytest.raises(ValueError, match="expected throttle=RATE:PER_SECOND"):
        parse_faults("throttle=1")
    with pytest.raises(ValueError, match=r"'throttle=1:0'.*per_second must be"):
        parse_faults("throttle=1:0")


def test_below_or_at_the_rate_nothing_is_throttled(fake_time: FakeTime) -> None:
    """Requests at the rate, or slower, all pass; each one counts as passed."""
    injector = FaultInjector([_throttle(4, burst=1)], clock=fake_time.clock)
    assert _kinds(injector, fake_time, 100, 0.25) == [None] * 100  # exactly 4/s
    assert _kinds(injector, fake_time, 50, 0.3) == [None] * 50
    counters = injector.counters()
    assert (counters["throttle"], counters["throttle_passed"]) == (0, 150)


def test_above_the_rate_the_excess_is_throttled(fake_time: FakeTime) -> None:
    """At twice the rate, every other request is throttled: exactly ``per_second`` pass a second."""
    injector = FaultInjector([_throttle(4, burst=1)], clock=fake_time.clock)
    kinds = _kinds(injector, fake_time, 100, 0.125)  # 8/s for 12.5 s
    assert kinds == [None, FaultKind.THROTTLE] * 50
    counters = injector.counters()
    assert (counters["throttle"], counters["throttle_passed"]) == (50, 50)
    assert counters["requests"] == 100


def test_burst_then_rate_and_throttled_requests_take_no_token(fake_time: FakeTime) -> None:
    """A full bucket lets ``burst`` through at once; a throttled request leaves the next token."""
    injector = FaultInjector([_throttle(4, burst=3)], clock=fake_time.clock)
    fake_time.advance(10.0)  # a quiet spell: the bucket stays at 3, not 40
    assert _kinds(injector, fake_time, 5, 0.0) == [None] * 3 + [FaultKind.THROTTLE] * 2
    # a token every 0.25 s: 24 requests in 0.24 s find none and take none, so the next one passes
    assert _kinds(injector, fake_time, 24, 0.01) == [FaultKind.THROTTLE] * 24
    assert _kinds(injector, fake_time, 1, 0.01) == [None]


def test_throttle_filters_limit_and_rate(fake_time: FakeTime) -> None:
    """operations filter like any fault (other requests are not counted); limit caps throttles;
    rate 0 never throttles."""
    injector = FaultInjector(
        [_throttle(1, burst=1, operations=frozenset({"PutObject"}), limit=2)],
        clock=fake_time.clock,
    )
    assert _kinds(injector, fake_time, 10, 0.0) == [None] * 10  # GETs
    assert (
        _kinds(injector, fake_time, 5, 0.0, PUT) == [None] + [FaultKind.THROTTLE] * 2 + [None] * 2
    )
    counters = injector.counters()
    assert (counters["throttle"], counters["throttle_passed"]) == (2, 3)
    injector.set_faults([_throttle(1, burst=1, rate=0.0)])
    assert _kinds(injector, fake_time, 10, 0.0) == [None] * 10


def test_set_faults_refills_the_bucket(fake_time: FakeTime) -> None:
    """A new fault set starts with full buckets."""
    injector = FaultInjector([_throttle(1, burst=2)], clock=fake_time.clock)
    assert _kinds(injector, fake_time, 3, 0.0) == [None, None, FaultKind.THROTTLE]
    injector.set_faults(injector.faults)
    assert _kinds(injector, fake_time, 3, 0.0) == [None, None, FaultKind.THROTTLE]


def test_two_throttles_a_throttled_request_takes_from_neither(fake_time: FakeTime) -> None:
    """Each THROTTLE fault has its own bucket; one that is empty throttles the request, and the
    other bucket keeps its token."""
    injector = FaultInjector(
        [_throttle(1, burst=1, key_prefix="a/"), _throttle(1, burst=2)], clock=fake_time.clock
    )

    def kind(key: str) -> FaultKind | None:
        return injector.decide("GET", RequestTarget("bkt", key, "GetObject")).kind

    assert kind("a/1") is None  # both buckets: one token each
    assert kind("a/2") is FaultKind.THROTTLE  # "a/" is empty; the other keeps its last token
    assert kind("b/1") is None
    assert kind("b/2") is FaultKind.THROTTLE


def test_throttle_combines_with_latency_and_the_random_faults(fake_time: FakeTime) -> None:
    """Latency adds to a throttled request; a request that passes may get an exclusive fault."""
    injector = FaultInjector(
        [
            Fault(FaultKind.LATENCY, seconds=0.5),
            _throttle(1, burst=1),
            Fault(FaultKind.ACCESS_DENIED),
        ],
        clock=fake_time.clock,
    )
    passed, throttled = injector.decide("GET", GET), injector.decide("GET", GET)
    assert (passed.kind, passed.delay) == (FaultKind.ACCESS_DENIED, 0.5)
    assert (throttled.kind, throttled.delay) == (FaultKind.THROTTLE, 0.5)
    injector.cancel(throttled)  # a request the proxy could not read: uncounted, like any fault
    assert injector.counters()["throttle"] == 0


def test_a_throttle_that_never_fires_changes_no_random_decision(fake_time: FakeTime) -> None:
    """At rate 1 a throttle draws no number, so a seed gives the same random faults with it."""

    def run(extra: tuple[Fault, ...]) -> list[FaultKind | None]:
        injector = FaultInjector(mixed_faults(0.5) + extra, seed=3, clock=fake_time.clock)
        return [k for k in _kinds(injector, fake_time, 300, 0.001) if k is not FaultKind.THROTTLE]

    assert run(()) == run((_throttle(1e9),))


def test_proxy_throttles_above_the_rate_only(
    fault_proxy: FaultProxy, fault_proxy_client: S3Client, s3_bucket: str
) -> None:
    """Through the proxy, in real time: paced below the rate, nothing is throttled; as fast as
    possible, the excess is answered 503 SlowDown and at most the rate (plus the burst) passes."""
    fault_proxy.set_faults([_throttle(10, burst=2)])
    for _ in range(6):  # 5/s at most: half the rate
        fault_proxy_client.list_objects_v2(Bucket=s3_bucket)
        time.sleep(0.2)
    assert fault_proxy.counters["throttle"] == 0
    fault_proxy.set_faults([_throttle(10, burst=2)])  # a full bucket again
    fault_proxy.reset_counters()
    passed, codes = 0, set()
    started = time.monotonic()
    for _ in range(40):  # sequential requests to moto on loopback: far above 10/s
        try:
            fault_proxy_client.list_objects_v2(Bucket=s3_bucket)
            passed += 1
        except ClientError as exc:
            codes.add(
                (exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"])
            )
    elapsed = time.monotonic() - started
    counters = fault_proxy.counters
    assert codes == {("SlowDown", 503)}
    assert counters["throttle"] == 40 - passed > 0
    assert counters["throttle_passed"] == counters["forwarded"] == passed
    assert passed <= 2 + 10 * elapsed + 1
