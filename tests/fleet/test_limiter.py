"""SharedLimiter against a real redis-server: the shared bucket, the shared adaptive rate,
blocks of slots, and what happens when Redis goes away."""

from __future__ import annotations

import logging
import pickle
import threading
import time
import uuid
from typing import Any

import pytest

from resilient_s3 import SharedLimiter
from resilient_s3.batch import AdaptivePolicy
from resilient_s3.testing import RedisServer

from ..conftest import FakeTime
from .conftest import start_redis


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_grants_are_spaced_at_the_rate_after_a_burst(redis_server: RedisServer) -> None:
    """Slots are reserved in Redis: a tenth of a second's burst at once (5 at 50/s), then one
    every 1/rate. The sleep does not sleep; a grant's slot is when it was granted plus its
    wait, and the k-th slot lies (k - j)/rate after the j-th."""
    fake = FakeTime()
    limiter = SharedLimiter(redis_server.url, _name(), per_second=50, sleep=fake.sleep)
    limiter.acquire(0)  # connect and load the script before the clock starts
    slots: list[tuple[int, float]] = []
    for k in range(40):
        before = len(fake.sleeps)
        limiter.acquire()
        if len(fake.sleeps) > before:
            slots.append((k, time.monotonic() + fake.sleeps[-1]))
    assert limiter.round_trips == 41
    assert slots[0][0] >= 4  # the burst: the first five were not held back
    assert len(slots) >= 30
    first, at = slots[0]
    for k, slot in slots:
        assert slot - at == pytest.approx((k - first) / 50, abs=0.01), k


def test_holders_of_one_name_share_one_budget(redis_server: RedisServer) -> None:
    name, fake = _name(), FakeTime()
    first = SharedLimiter(redis_server.url, name, per_second=50, sleep=fake.sleep)
    second = SharedLimiter(redis_server.url, name, per_second=50, sleep=fake.sleep)
    other = SharedLimiter(redis_server.url, _name(), per_second=50, sleep=fake.sleep)
    for limiter in (first, second, other):
        limiter.acquire(0)  # connect and load the script before the clock starts
    started = time.monotonic()
    for _ in range(30):
        first.acquire()
        second.acquire()
    fake.sleeps.clear()
    second.acquire()
    slot = time.monotonic() - started + fake.sleeps[-1]
    other.acquire()
    # the 61st slot of the name: 60 / 50 s after the first, less the 0.08 s burst
    assert slot == pytest.approx(60 / 50 - 0.08, abs=0.02)
    assert len(fake.sleeps) == 1  # the other name's first grant does not wait


def test_a_slowdown_seen_by_one_holder_lowers_the_rate_of_all(redis_server: RedisServer) -> None:
    name = _name()
    policy = AdaptivePolicy(window=0.3, increase=1.0)
    noisy = SharedLimiter(redis_server.url, name, per_second=200, adaptive=policy)
    quiet = SharedLimiter(redis_server.url, name, per_second=200, adaptive=policy)
    quiet.acquire()
    assert quiet.rate == 200
    # the noisy holder's traffic: 40 requests in ~0.2 s, a third of the answers throttled
    for index in range(40):
        noisy.acquire()
        noisy.observe(throttled=index % 3 == 0)
        time.sleep(0.005)
    noisy.acquire(0)  # the last answers travel with the next grant
    quiet.acquire(0)
    assert quiet.rate is not None
    assert quiet.rate < 200 * 0.7  # lowered for the holder that saw no SlowDown too
    lowered = quiet.rate
    # successes raise it back: a step of the lowered rate per second (increase=1.0)
    deadline = time.monotonic() + 8
    while quiet.rate is not None and quiet.rate < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
        noisy.observe(throttled=False)
        noisy.acquire(0)
        quiet.acquire(0)
    assert quiet.rate == 200, f"the rate stayed at {quiet.rate} (lowered to {lowered})"


def test_blocks_cut_round_trips(redis_server: RedisServer) -> None:
    fake = FakeTime()
    limiter = SharedLimiter(
        redis_server.url, _name(), per_second=10_000, block=8, sleep=fake.sleep, clock=fake.clock
    )
    for _ in range(80):
        limiter.acquire()
    assert limiter.round_trips == 10


def test_redis_unreachable_from_the_start_paces_locally_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = RedisServer().start()
    url = closed.url
    closed.stop()
    fake = FakeTime()
    limiter = SharedLimiter(
        url, _name(), per_second=20, fallback_per_second=10, sleep=fake.sleep, clock=fake.clock
    )
    with caplog.at_level(logging.WARNING, logger="resilient_s3"):
        started = time.monotonic()
        for _ in range(21):
            assert limiter.acquire()
        elapsed = time.monotonic() - started
    assert not limiter.redis_reachable
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()
    assert limiter.fallback_grants == 21
    assert sum(fake.sleeps) == pytest.approx(2.0, abs=0.11)  # 20 more at 10/s after one
    assert elapsed < 5  # a refused connection is retried at most once a second: never hangs


def test_redis_stopped_mid_run_falls_back_without_hanging(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = SharedLimiter(own_redis.url, _name(), per_second=200, timeout=0.5)
    granted: list[float] = []
    stop = threading.Event()

    def requests() -> None:
        while not stop.is_set():
            before = time.monotonic()
            limiter.acquire()
            granted.append(time.monotonic() - before)

    threads = [threading.Thread(target=requests) for _ in range(4)]
    with caplog.at_level(logging.WARNING, logger="resilient_s3"):
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        shared_before = limiter.round_trips
        own_redis.stop()
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join(5)
    assert not any(thread.is_alive() for thread in threads)
    assert shared_before > 0
    assert limiter.fallback_grants > 0
    assert max(granted) < 1.5  # no request waited for a dead Redis longer than its timeout
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    # the fallback rate: the last shared rate over the holders seen (one)
    assert "200 requests/s" in warnings[0].getMessage()


def test_redis_back_where_it_was_brings_the_shared_rate_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = start_redis()
    port, url = first.port, first.url
    limiter = SharedLimiter(url, _name(), per_second=1000, retry_interval=0.2)
    limiter.acquire()
    first.stop()
    with caplog.at_level(logging.INFO, logger="resilient_s3"):
        limiter.acquire()
        assert not limiter.redis_reachable
        again = RedisServer(port=port).start()
        try:
            time.sleep(0.3)
            limiter.acquire()
            assert limiter.redis_reachable
        finally:
            again.stop()
    assert limiter.round_trips == 2
    assert limiter.fallback_grants == 1
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_cancelled_wait_returns_false(redis_server: RedisServer) -> None:
    limiter = SharedLimiter(redis_server.url, _name(), per_second=1)
    cancelled = threading.Event()
    assert limiter.acquire(cancelled=cancelled)  # the burst slot
    threading.Timer(0.1, cancelled.set).start()
    started = time.monotonic()
    assert not limiter.acquire(cancelled=cancelled)
    assert time.monotonic() - started < 0.6


def test_repr_and_logs_never_show_the_password() -> None:
    limiter = SharedLimiter("redis://:s3cr3t@127.0.0.1:1/0", "n", per_second=5)
    assert "s3cr3t" not in repr(limiter)
    assert "127.0.0.1:1" in repr(limiter)


def test_pickles_as_its_settings_and_is_one_per_process(redis_server: RedisServer) -> None:
    limiter = SharedLimiter(redis_server.url, _name(), per_second=7, block=2)
    first = pickle.loads(pickle.dumps(limiter))
    second = pickle.loads(pickle.dumps(limiter))
    assert first is second
    assert (first.url, first.name, first.per_second, first.block) == (
        limiter.url,
        limiter.name,
        7.0,
        2,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"per_second": 0},
        {"per_second": 1, "block": 0},
        {"per_second": 1, "adaptive": "yes"},
        {"per_second": 1, "bytes_per_second": -1},
    ],
)
def test_bad_settings_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        SharedLimiter("redis://127.0.0.1:1/0", "n", **kwargs)  # type: ignore[arg-type]


def test_a_client_rate_limit_paces_every_request_of_its_batches(
    redis_server: RedisServer, s3_server: Any, s3_bucket: str
) -> None:
    """client(rate_limit=...) hooks botocore's requests: its batches run on the botocore plane
    (the CRT's requests would not pass the hook), and every request took a token."""
    import resilient_s3

    limiter = SharedLimiter(redis_server.url, _name(), per_second=10_000)
    s3 = resilient_s3.client("s3", rate_limit=limiter, **s3_server.client_kwargs())
    assert s3.rate_limit is limiter
    report = s3.batch.put(s3_bucket, {f"k{i}": b"x" for i in range(20)})
    assert report.ok
    assert report.stats.plane == "botocore"
    assert limiter.grants >= report.stats.requests >= 21  # 20 puts and a list page
