"""RecentWrites: bounded, expiring, forgetting deleted keys."""

from __future__ import annotations

from resilient_s3._verify.recent import RecentWrites

from ..conftest import FakeTime


def test_fresh_within_the_window_only(fake_time: FakeTime) -> None:
    recent = RecentWrites(100, fake_time.clock)
    recent.wrote("b", "k")
    assert recent.fresh_until("b", "k", 10.0) == fake_time.now + 10.0
    assert recent.fresh_until("b", "other", 10.0) is None
    assert recent.fresh_until("b", "k", 0.0) is None  # read-your-writes off
    fake_time.advance(10.0)
    assert recent.fresh_until("b", "k", 10.0) is None


def test_bounded_oldest_forgotten_first(fake_time: FakeTime) -> None:
    recent = RecentWrites(3, fake_time.clock)
    for key in "abcd":
        recent.wrote("b", key)
    assert len(recent) == 3
    assert recent.fresh_until("b", "a", 10.0) is None
    assert recent.fresh_until("b", "d", 10.0) is not None
    recent.wrote("b", "b")  # written again: now the newest
    recent.wrote("b", "e")
    assert recent.fresh_until("b", "b", 10.0) is not None
    assert recent.fresh_until("b", "c", 10.0) is None


def test_forget_and_zero_capacity(fake_time: FakeTime) -> None:
    recent = RecentWrites(10, fake_time.clock)
    recent.wrote("b", "k")
    recent.forget("b", ["k", "never-written"])
    assert recent.fresh_until("b", "k", 10.0) is None
    none = RecentWrites(0, fake_time.clock)
    none.wrote("b", "k")
    assert len(none) == 0
