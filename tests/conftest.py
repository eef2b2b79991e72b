"""Shared test helpers: an injected clock/sleep/random so retry tests never sleep for real."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

# The fixtures of resilient_s3.testing (opt-in, as for any user: docs/testing.md).
pytest_plugins = ["resilient_s3.testing.pytest_plugin"]


@dataclass
class FakeTime:
    """A monotonic clock that only moves when something sleeps (or a test advances it)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def quick_policy(fake_time: FakeTime) -> Any:
    """A RetryPolicy that never sleeps for real (zero jitter on a fake clock)."""
    from resilient_s3 import RetryPolicy

    return RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 0.0)


@pytest.fixture
def rs3(fault_proxy: Any, quick_policy: Any) -> Iterator[Any]:
    """A resilient_s3 client through ``fault_proxy`` with ``quick_policy``."""
    import resilient_s3

    with resilient_s3.client("s3", retry=quick_policy, **fault_proxy.client_kwargs()) as s3:
        yield s3
