"""Option checks and the verify argument (pure)."""

from __future__ import annotations

from typing import Any

import pytest

import resilient_s3
from resilient_s3 import VerifyPolicy
from resilient_s3.batch import AdaptivePolicy
from resilient_s3.batch._options import Options, resolve_verify


def test_defaults() -> None:
    options = Options.of({})
    assert options.concurrency == 32
    assert options.rate_limit is None
    assert options.bytes_per_second is None
    assert options.adaptive == AdaptivePolicy()
    assert options.progress is False
    assert options.cancel_grace == 5.0


def test_values_are_kept() -> None:
    policy = AdaptivePolicy(decrease=0.5)
    options = Options.of(
        {"concurrency": 4, "rate_limit": 10, "bytes_per_second": 1e6, "adaptive": policy,
         "keep_results": True, "fail_fast": True, "cancel_grace": 0}
    )  # fmt: skip
    assert (options.concurrency, options.rate_limit, options.bytes_per_second) == (4, 10.0, 1e6)
    assert options.adaptive is policy
    assert options.keep_results
    assert options.fail_fast
    assert options.cancel_grace == 0.0
    assert Options.of({"adaptive": False}).adaptive is None


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"concurrency": 0}, ValueError),
        ({"concurrency": -3}, ValueError),
        ({"concurrency": 2.5}, ValueError),
        ({"concurrency": True}, ValueError),
        ({"rate_limit": 0}, ValueError),
        ({"rate_limit": -1.0}, ValueError),
        ({"rate_limit": "10"}, TypeError),
        ({"rate_limit": float("nan")}, ValueError),
        ({"bytes_per_second": -5}, ValueError),
        ({"cancel_grace": -1}, ValueError),
        ({"adaptive": "yes"}, TypeError),
        ({"progress": 1}, TypeError),
        ({"concurency": 3}, TypeError),
    ],
)
def test_bad_options(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Options.of(options)


def test_resolve_verify() -> None:
    client = VerifyPolicy(max_reuploads=5)
    assert resolve_verify("list", client) == ("list", client)
    assert resolve_verify(True, client) == ("list", client)
    assert resolve_verify("object", client) == ("object", client)
    assert resolve_verify("list", VerifyPolicy(mode="off")) == ("list", VerifyPolicy())
    for off in ("off", False, None):
        assert resolve_verify(off, client)[0] == "off"
    custom = VerifyPolicy(mode="read")
    assert resolve_verify(custom, client) == ("object", custom)
    assert resolve_verify(VerifyPolicy(mode="off"), client)[0] == "off"
    with pytest.raises(ValueError, match="verify_writes must be"):
        resolve_verify("always", client)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "error", "named"),
    [
        ({"keep_results": "no"}, TypeError, "keep_results"),  # was taken as True
        ({"fail_fast": 1}, TypeError, "fail_fast"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),  # was accepted without executor=
        ({"chunk_size": "10"}, ValueError, "chunk_size"),
    ],
)
def test_flags_and_chunk_size_are_checked(
    options: dict[str, Any], error: type[Exception], named: str
) -> None:
    with pytest.raises(error, match=named):
        Options.of(options)


@pytest.mark.parametrize(
    ("threshold", "part_size", "error", "named"),
    [
        (64 * 1024 * 1024, "5MB", TypeError, "part_size"),  # was TypeError about '<'
        ("64MB", 16 * 1024 * 1024, TypeError, "multipart_threshold"),
        (64 * 1024 * 1024, 1024, ValueError, "part_size"),
        (True, 16 * 1024 * 1024, TypeError, "multipart_threshold"),
    ],
)
def test_multipart_sizes_are_checked_naming_the_option(
    threshold: Any, part_size: Any, error: type[Exception], named: str
) -> None:
    s3 = resilient_s3.client(
        "s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
        aws_access_key_id="k", aws_secret_access_key="s",
    )  # fmt: skip
    with pytest.raises(error, match=named):
        s3.batch.put("bucket", {"k": b"x"}, multipart_threshold=threshold, part_size=part_size)
