"""Unit tests of fault values, spec parsing, request classification and the injector (no server)."""

from __future__ import annotations

import math

import pytest

import resilient_s3.testing as testing
from resilient_s3.testing import OPERATION_NAMES, Fault, FaultKind, mixed_faults, parse_faults
from resilient_s3.testing._injector import FaultInjector, counter_keys
from resilient_s3.testing._operations import RequestTarget, classify_request


def test_public_names_are_exported() -> None:
    """``__all__`` lists exactly the public names of the package."""
    # "@py_builtins" and the like appear when pytest rewrites the package as part of its plugin.
    public = {name for name in vars(testing) if not name.startswith(("_", "@"))}
    modules = {"pytest_plugin"}  # submodules appear as attributes once imported
    assert set(testing.__all__) == public - modules


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 1.5}, "rate must be within"),
        ({"rate": -0.1}, "rate must be within"),
        ({"rate": math.nan}, "rate must be within"),
        ({"limit": -1}, "limit must be >= 0"),
        ({"methods": "GET"}, "not the string"),
        ({"methods": frozenset()}, "non-empty set"),
        ({"operations": frozenset({"PutObjekt"})}, "unknown operation names"),
        ({"seconds": 1.0}, "seconds applies to latency only"),
        ({"window": 0.0}, "window must be"),
        ({"retry_after": 1.0}, "retry_after applies to slowdown only"),
    ],
)
def test_fault_validation(kwargs: dict[str, object], message: str) -> None:
    """Out-of-range or misplaced settings raise a ValueError that says what is wrong."""
    with pytest.raises(ValueError, match=message):
        Fault(FaultKind.INTERNAL_ERROR, **kwargs)  # type: ignore[arg-type]


def test_fault_validation_kind_specific() -> None:
    """Kind names are checked, negative delays and Retry-After values rejected."""
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seconds must be"):
        Fault(FaultKind.LATENCY, seconds=-1.0)
    with pytest.raises(ValueError, match="retry_after must be"):
        Fault(FaultKind.SLOWDOWN, retry_after=-2.0)


def test_fault_normalises_kind_and_methods() -> None:
    """A kind given as its string and methods in any case are normalised."""
    fault = Fault("slowdown", methods=frozenset({"get", "Put"}))  # type: ignore[arg-type]
    assert fault.kind is FaultKind.SLOWDOWN
    assert fault.methods == frozenset({"GET", "PUT"})


def test_fault_applies_to_natural_operations_and_filters() -> None:
    """Each kind's own operations, then methods, operations and key_prefix filters apply."""
    lost = Fault(FaultKind.LOST_WRITE)
    assert lost.applies_to("PUT", "k", "PutObject")
    assert not lost.applies_to("PUT", "k", "UploadPart")
    assert not Fault(FaultKind.TRUNCATE_BODY).applies_to("HEAD", "k", "HeadObject")
    assert Fault(FaultKind.STALE_READ).applies_to("HEAD", "k", "HeadObject")
    scoped = Fault(FaultKind.SLOWDOWN, methods=frozenset({"GET"}), key_prefix="a/")
    assert scoped.applies_to("get", "a/1", "GetObject")
    assert not scoped.applies_to("GET", "b/1", "GetObject")
    assert not scoped.applies_to("PUT", "a/1", "PutObject")
    assert not Fault(FaultKind.SLOWDOWN, key_prefix="a").applies_to("GET", "", "ListObjectsV2")
    ops = Fault(FaultKind.RESET_BEFORE, operations=frozenset({"CreateBucket"}))
    assert ops.applies_to("PUT", "", "CreateBucket")
    assert not ops.applies_to("PUT", "k", "PutObject")


def test_parse_faults() -> None:
    """The documented spec format gives the documented faults."""
    faults = parse_faults(" reset_before=0.02, SLOWDOWN=0.03 ,latency=0.1:0.05,")
    assert faults == (
        Fault(FaultKind.RESET_BEFORE, rate=0.02),
        Fault(FaultKind.SLOWDOWN, rate=0.03),
        Fault(FaultKind.LATENCY, rate=0.1, seconds=0.05),
    )
    assert parse_faults("") == ()
    assert parse_faults("stale_read=1:0.5") == (Fault(FaultKind.STALE_READ, window=0.5),)
    assert parse_faults("slowdown=0.5:2") == (Fault(FaultKind.SLOWDOWN, rate=0.5, retry_after=2),)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("slowdown", "expected KIND=RATE"),
        ("explode=0.1", "unknown kind"),
        ("slowdown=lots", "could not convert"),
        ("slowdown=2", "rate must be within"),
        ("latency=0.1", "expected latency=RATE:SECONDS"),
        ("latency=0.1:-1", "seconds must be"),
        ("reset_before=0.1:3", "takes no ':VALUE'"),
    ],
)
def test_parse_faults_errors(spec: str, message: str) -> None:
    """A malformed item raises a ValueError naming the item."""
    with pytest.raises(ValueError, match=message) as info:
        parse_faults(f"internal_error=0.1,{spec}")
    assert repr(spec) in str(info.value)


def test_mixed_faults() -> None:
    """The mix adds up to the total, holds the five transient kinds and no verification faults."""
    faults = mixed_faults(0.2)
    assert math.isclose(sum(f.rate for f in faults), 0.2)
    assert {f.kind for f in faults} == {
        FaultKind.RESET_BEFORE,
        FaultKind.RESET_AFTER,
        FaultKind.SLOWDOWN,
        FaultKind.INTERNAL_ERROR,
        FaultKind.TRUNCATE_BODY,
    }
    assert all(f.rate == 0 for f in mixed_faults(0.0))
    with pytest.raises(ValueError, match="total_rate"):
        mixed_faults(1.5)


@pytest.mark.parametrize(
    ("method", "target", "copy", "expected"),
    [
        ("GET", "/", False, ("", "", "ListBuckets")),
        ("PUT", "/bkt", False, ("bkt", "", "CreateBucket")),
        ("HEAD", "/bkt", False, ("bkt", "", "HeadBucket")),
        ("DELETE", "/bkt", False, ("bkt", "", "DeleteBucket")),
        ("GET", "/bkt?list-type=2&prefix=a", False, ("bkt", "", "ListObjectsV2")),
        ("GET", "/bkt?prefix=a", False, ("bkt", "", "ListObjects")),
        ("GET", "/bkt?versions", False, ("bkt", "", "ListObjectVersions")),
        ("GET", "/bkt?uploads", False, ("bkt", "", "ListMultipartUploads")),
        ("GET", "/bkt?location", False, ("bkt", "", "Other")),
        ("POST", "/bkt?delete", False, ("bkt", "", "DeleteObjects")),
        ("PUT", "/bkt?tagging", False, ("bkt", "", "Other")),
        ("PUT", "/bkt/a%20b/c", False, ("bkt", "a b/c", "PutObject")),
        ("PUT", "/bkt/k", True, ("bkt", "k", "CopyObject")),
        ("PUT", "/bkt/k?partNumber=1&uploadId=u", False, ("bkt", "k", "UploadPart")),
        ("PUT", "/bkt/k?partNumber=1&uploadId=u", True, ("bkt", "k", "UploadPartCopy")),
        ("PUT", "/bkt/k?tagging", False, ("bkt", "k", "Other")),
        ("GET", "/bkt/k", False, ("bkt", "k", "GetObject")),
        ("GET", "/bkt/k?versionId=1&response-content-type=x", False, ("bkt", "k", "GetObject")),
        ("GET", "/bkt/k?uploadId=u", False, ("bkt", "k", "ListParts")),
        ("GET", "/bkt/k?acl", False, ("bkt", "k", "Other")),
        ("HEAD", "/bkt/k", False, ("bkt", "k", "HeadObject")),
        ("DELETE", "/bkt/k", False, ("bkt", "k", "DeleteObject")),
        ("DELETE", "/bkt/k?uploadId=u", False, ("bkt", "k", "AbortMultipartUpload")),
        ("POST", "/bkt/k?uploads", False, ("bkt", "k", "CreateMultipartUpload")),
        ("POST", "/bkt/k?uploadId=u", False, ("bkt", "k", "CompleteMultipartUpload")),
        ("POST", "/bkt/k?restore", False, ("bkt", "k", "Other")),
    ],
)
def test_classify_request(
    method: str, target: str, copy: bool, expected: tuple[str, str, str]
) -> None:
    """Method, path and query-parameter names map to the documented operation names."""
    result = classify_request(method, target, copy)
    assert (result.bucket, result.key, result.operation) == expected
    assert result.operation in OPERATION_NAMES


def _decisions(seed: int, count: int) -> list[str]:
    """The fault kinds a fresh injector picks for ``count`` identical GetObject requests."""
    injector = FaultInjector(mixed_faults(0.5), seed=seed)
    target = RequestTarget("bkt", "k", "GetObject")
    return [str(injector.decide("GET", target).kind) for _ in range(count)]


def test_injector_seed_reproduces_decisions() -> None:
    """The same seed and request order give the same faults; another seed gives others."""
    assert _decisions(7, 200) == _decisions(7, 200)
    assert _decisions(7, 200) != _decisions(8, 200)


def test_injector_rates_limits_and_counters() -> None:
    """Rates are exact shares of one draw; limits cap injections; counters count each of them."""
    injector = FaultInjector(
        [Fault(FaultKind.SLOWDOWN, rate=0.3), Fault(FaultKind.INTERNAL_ERROR, rate=0.2, limit=50)],
        seed=1,
    )
    target = RequestTarget("bkt", "k", "PutObject")
    kinds = [injector.decide("PUT", target).kind for _ in range(10_000)]
    counters = injector.counters()
    assert set(counters) == set(counter_keys())
    assert counters["requests"] == counters["op:PutObject"] == 10_000
    assert counters["internal_error"] == kinds.count(FaultKind.INTERNAL_ERROR) == 50
    assert counters["slowdown"] == kinds.count(FaultKind.SLOWDOWN)
    assert 2700 < counters["slowdown"] < 3300
    injector.reset_counters()
    assert set(injector.counters().values()) == {0}


def test_injector_latency_combines() -> None:
    """LATENCY faults add their delays and combine with one exclusive fault."""
    injector = FaultInjector(
        [
            Fault(FaultKind.LATENCY, seconds=0.25),
            Fault(FaultKind.LATENCY, seconds=0.5),
            Fault(FaultKind.ACCESS_DENIED),
        ]
    )
    decision = injector.decide("GET", RequestTarget("bkt", "", "ListObjectsV2"))
    assert decision.delay == 0.75
    assert decision.kind is FaultKind.ACCESS_DENIED
    assert injector.counters()["latency"] == 2


def test_injector_stale_read_window() -> None:
    """A key counts as fresh for STALE_READ only after a successful write, within the window."""
    now = [100.0]
    injector = FaultInjector([Fault(FaultKind.STALE_READ, window=2.0)], clock=lambda: now[0])
    get = RequestTarget("bkt", "k", "GetObject")
    assert injector.decide("GET", get).kind is None
    injector.record_write(RequestTarget("bkt", "k", "PutObject"), 500)
    assert injector.decide("GET", get).kind is None
    injector.record_write(RequestTarget("bkt", "k", "PutObject"), 200)
    assert injector.decide("GET", get).kind is FaultKind.STALE_READ
    assert injector.decide("HEAD", RequestTarget("bkt", "k", "HeadObject")).kind is not None
    assert injector.decide("GET", RequestTarget("bkt", "other", "GetObject")).kind is None
    now[0] += 2.0
    assert injector.decide("GET", get).kind is None


def test_injector_set_faults_restarts_limits_and_cancel() -> None:
    """set_faults restarts limits; cancel uncounts an injection of the current fault set only."""
    injector = FaultInjector([Fault(FaultKind.TRUNCATE_BODY, limit=1)])
    get = RequestTarget("bkt", "k", "GetObject")
    first = injector.decide("GET", get)
    assert first.kind is FaultKind.TRUNCATE_BODY
    assert injector.decide("GET", get).kind is None
    injector.cancel(first)
    assert injector.counters()["truncate_body"] == 0
    assert injector.decide("GET", get).kind is FaultKind.TRUNCATE_BODY
    injector.set_faults(injector.faults)
    stale = injector.decide("GET", get)
    injector.set_faults(injector.faults)
    injector.cancel(stale)  # from an older fault set: ignored
    assert injector.counters()["truncate_body"] == 2
    with pytest.raises(TypeError):
        injector.set_faults(["slowdown"])  # type: ignore[list-item]
