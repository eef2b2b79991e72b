"""Defects 2, 8, 9 and 10 in a batch: a bad item fails alone (whatever it raises), duplicate
keys are refused, errors raised before any request count 0 attempts, a closed file is named."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from resilient_s3.batch import BatchClient

from .conftest import proxied


class _BrokenFile(io.RawIOBase):
    """A seekable binary file whose read raises something no one planned for."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return 0

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def readinto(self, buffer: Any) -> int:
        raise RuntimeError("the disk went away")


@pytest.fixture
def batch(fault_proxy: Any) -> Any:
    client: BatchClient = proxied(fault_proxy).batch
    return client


def _stored(s3_server_client: Any, bucket: str) -> set[str]:
    answer = s3_server_client.list_objects_v2(Bucket=bucket)
    return {entry["Key"] for entry in answer.get("Contents", [])}


def test_an_item_whose_body_raises_anything_fails_alone(
    batch: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    items: list[tuple[str, Any]] = [(f"k{i:02d}", b"x") for i in range(20)]
    items.append(("broken", _BrokenFile()))
    report = batch.put(s3_bucket, items)
    assert report.succeeded == 20
    (failure,) = report.failed
    assert failure.key == "broken"
    assert isinstance(failure.error, RuntimeError)
    assert _stored(s3_server_client, s3_bucket) == {key for key, _ in items[:20]}


def test_a_text_mode_file_from_a_generator_fails_alone_before_any_request(
    batch: Any, fault_proxy: Any, s3_bucket: str, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with text.open("r") as handle:
        items = iter([("a", b"1"), ("text", handle), ("b", b"2")])
        report = batch.put(s3_bucket, items, verify_writes=False)
    assert report.succeeded == 2
    (failure,) = report.failed
    assert isinstance(failure.error, TypeError)
    assert f"s3://{s3_bucket}/text" in str(failure.error)
    assert failure.attempts == 0
    assert fault_proxy.counters["op:PutObject"] == 2


def test_a_text_mode_file_in_a_list_is_refused_before_any_request(
    batch: Any, fault_proxy: Any, s3_bucket: str, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with text.open("r") as handle, pytest.raises(TypeError, match=f"s3://{s3_bucket}/text"):
        batch.put(s3_bucket, [("a", b"1"), ("text", handle)])
    assert fault_proxy.counters["requests"] == 0


def test_a_closed_file_is_refused_naming_the_object(
    batch: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    closed = io.BytesIO(b"data")
    closed.close()
    with pytest.raises(ValueError, match=f"s3://{s3_bucket}/gone.*closed"):
        batch.put(s3_bucket, [("gone", closed)])
    report = batch.put(s3_bucket, iter([("gone", closed)]))
    (failure,) = report.failed
    assert f"s3://{s3_bucket}/gone" in str(failure.error)
    assert failure.attempts == 0
    assert fault_proxy.counters["requests"] == 0


def test_duplicate_keys_in_a_collection_are_refused_before_any_request(
    batch: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    with pytest.raises(ValueError, match=f"s3://{s3_bucket}/dup.*more than once"):
        batch.put(s3_bucket, [("dup", b"first"), ("other", b"x"), ("dup", b"second")])
    assert fault_proxy.counters["requests"] == 0


def test_a_duplicate_key_from_a_generator_fails_and_is_never_counted_as_stored(
    batch: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    report = batch.put(s3_bucket, iter([("dup", b"first"), ("dup", b"second")]))
    assert report.succeeded == 1
    (failure,) = report.failed
    assert failure.key == "dup"
    assert "more than once" in str(failure.error)
    stored = s3_server_client.get_object(Bucket=s3_bucket, Key="dup")["Body"].read()
    assert stored == b"first"


def test_an_item_failing_before_any_request_counts_zero_attempts(
    batch: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    """botocore's own parameter validation happens before the request: 0 attempts."""
    report = batch.put(s3_bucket, iter([("k", b"x", {"ContentLength": "not a number"})]))
    (failure,) = report.failed
    assert failure.attempts == 0
    assert fault_proxy.counters["requests"] == 0
