"""Shared test helpers: an injected clock/sleep/random so retry tests never sleep for real."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


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
