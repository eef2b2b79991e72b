"""Shared test helpers: an injected clock/sleep/random so retry tests never sleep for real, and
the gate of the tests that need the native transport.

A test marked ``native``, or parametrized with ``plane="crt"``, needs awscrt (the ``[crt]``
extra) at a version the native transport can run on. Without it the test is skipped with the
reason, so the suite passes on the plain install; a module that imports the native transport's
awscrt modules skips itself whole before that import (``if NO_NATIVE: pytest.skip(...)``).
``RESILIENT_S3_REQUIRE_NATIVE=1`` (set by ``.ci/run`` where ``[crt]`` is installed) turns a
missing native transport into an error instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from resilient_s3._transports.crt import crt_unavailable

# The fixtures of resilient_s3.testing (opt-in, as for any user: docs/testing.md).
pytest_plugins = ["resilient_s3.testing.pytest_plugin"]

#: Why the tests that need the native transport are skipped here, or ``None``: it can run.
_WHY_NOT = crt_unavailable()
NO_NATIVE = None if _WHY_NOT is None else f"needs the native transport ([crt] extra): {_WHY_NOT}"
#: The batch's planes this install runs, for a test that goes through each in turn.
PLANES: tuple[Literal["botocore", "crt"], ...] = ("botocore",) if NO_NATIVE else ("botocore", "crt")


def pytest_configure(config: pytest.Config) -> None:
    reason = crt_unavailable()
    if reason is not None and os.environ.get("RESILIENT_S3_REQUIRE_NATIVE") == "1":
        raise pytest.UsageError(f"RESILIENT_S3_REQUIRE_NATIVE=1, but {reason}")


def needs_native(item: pytest.Item) -> bool:
    """Whether ``item`` needs the native transport: marked ``native``, or run with
    ``plane="crt"``."""
    callspec = getattr(item, "callspec", None)
    plane = callspec.params.get("plane") if callspec is not None else None
    return item.get_closest_marker("native") is not None or plane == "crt"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if NO_NATIVE is None:
        return
    skip = pytest.mark.skip(reason=NO_NATIVE)
    for item in items:
        if needs_native(item):
            item.add_marker(skip)


#: The front doors' transports each test of the fault suite runs on: both (the whole suite), or
#: those ``RESILIENT_S3_DOOR_TRANSPORTS`` names (comma-separated: .ci/matrix's jobs with awscrt
#: run the native one; botocore's runs in its job without awscrt, and in the whole suite).
DOOR_TRANSPORTS = tuple(
    plane
    for plane in PLANES
    if plane in os.environ.get("RESILIENT_S3_DOOR_TRANSPORTS", ",".join(PLANES)).split(",")
) or PLANES  # none of those here (an awscrt the native transport cannot run on): what there is


@pytest.fixture(params=DOOR_TRANSPORTS)
def door_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The transport the front doors' calls take in a test of the fault suite: ``"crt"``,
    every object operation the native transport serves, every GetObject included (the tests'
    objects are small: which GetObjects go native is tested in test_native_gets.py), or
    ``"botocore"``, every call."""
    from resilient_s3._transports.routing import Routing

    if request.param == "crt":
        every_get_native(monkeypatch)
    else:
        monkeypatch.setattr(Routing, "reason", lambda self: "the test keeps calls on botocore")
    return str(request.param)


def every_get_native(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every GetObject counts as small (a test's objects are): each goes native, unpinned (which
    GetObjects go native, and their pins, are tested in tests/test_native_gets.py)."""
    from resilient_s3._transports.sizes import KnownSizes

    def bound(self: KnownSizes, params: Any) -> str | None:
        return None if "PartNumber" in params else ""

    monkeypatch.setattr(KnownSizes, "bound", bound)


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
