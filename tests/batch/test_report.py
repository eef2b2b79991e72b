"""Reports, failures and BatchError (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from resilient_s3 import ErrorKind, ResilientS3Error, VerificationError
from resilient_s3.batch import BatchError, BatchReport, BatchStats, ItemFailure
from resilient_s3.batch._report.report import KEPT_TRACEBACKS


def _client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    error = ClientError(response, "PutObject")
    error.resilient_s3_attempts = 3  # type: ignore[attr-defined]
    return error


def test_item_failure_classifies_and_reads_the_attempts() -> None:
    failure = ItemFailure.of("put", "b", "k", _client_error("SlowDown", 503))
    assert (failure.kind, failure.attempts, failure.bucket) == (ErrorKind.THROTTLED, 3, "b")
    assert str(failure) == "s3://b/k: throttled: ClientError(SlowDown)"
    local = ItemFailure.of("put", "b", "k", FileNotFoundError("no such file"))
    assert (local.kind, local.attempts) == (ErrorKind.PERMANENT, 0)
    lost = VerificationError("b", "k", "lost", {}, None, "gone")
    assert ItemFailure.of("put", "b", "k", lost).kind is ErrorKind.PERMANENT


def test_ok_summary_and_raise_for_failures() -> None:
    stats = BatchStats(items=3, succeeded=2, failed=1, seconds=2.0, bytes=10)
    assert stats.items_per_second == 1.5
    assert stats.bytes_per_second == 5.0
    assert stats.as_dict()["items"] == 3
    clean = BatchReport("put", 2, (), stats)
    assert clean.ok
    clean.raise_for_failures()
    error = _client_error("AccessDenied", 403)
    failed = BatchReport("put", 2, (ItemFailure.of("put", "b", "k", error),), stats)
    assert not failed.ok
    assert failed.failures_by_kind() == {"permanent": 1}
    with pytest.raises(BatchError) as raised:
        failed.raise_for_failures()
    assert isinstance(raised.value, ResilientS3Error)
    assert raised.value.__cause__ is error
    assert raised.value.failures == failed.failed
    assert str(raised.value) == (
        "put: 2 succeeded, 1 failed (permanent: 1); first: s3://b/k: permanent: "
        "ClientError(AccessDenied)"
    )


def test_a_stopped_batch_is_not_ok() -> None:
    report = BatchReport("get", 5, (), BatchStats(), stopped="cancelled", incomplete=("a",))
    assert not report.ok
    assert report.summary() == "get: 5 succeeded, 0 failed; stopped early (cancelled), 1 incomplete"
    with pytest.raises(BatchError):
        report.raise_for_failures()


def test_kept_tracebacks_are_bounded() -> None:
    assert KEPT_TRACEBACKS == 1000  # the engine drops later failures' tracebacks (test_engine)
