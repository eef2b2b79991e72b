"""Request bodies: rewind to the start position, spool small streams, refuse large ones."""

from __future__ import annotations

import io
from typing import Any

import pytest

from resilient_s3 import UnreplayableBodyError
from resilient_s3._bodies.request import prepare_body


class Pipe(io.RawIOBase):
    """A readable stream that cannot seek, like a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._data.readinto(b)


@pytest.mark.parametrize("body", [b"abc", bytearray(b"abc"), "abc", memoryview(b"abc")])
def test_in_memory_bodies_are_resent_as_they_are(body: Any) -> None:
    params = {"Body": body}
    prepared = prepare_body("PutObject", params, 10)
    prepared.rewind()
    assert params["Body"] is body
    assert prepared.length == 3


def test_a_seekable_file_is_rewound_to_where_the_call_started() -> None:
    f = io.BytesIO(b"0123456789")
    f.seek(4)
    params: dict[str, Any] = {"Bucket": "b", "Key": "k", "Body": f}
    prepared = prepare_body("PutObject", params, 10)
    assert prepared.length == 6
    assert f.tell() == 4
    assert f.read() == b"456789"  # a first attempt consumed the rest
    prepared.rewind()
    assert f.tell() == 4
    assert f.read() == b"456789"


def test_a_small_non_seekable_stream_is_spooled() -> None:
    params: dict[str, Any] = {"Body": Pipe(b"x" * 100)}
    assert prepare_body("PutObject", params, 100).length == 100
    assert params["Body"] == b"x" * 100


def test_a_large_non_seekable_stream_is_refused_before_sending() -> None:
    params: dict[str, Any] = {"Bucket": "b", "Key": "big", "Body": Pipe(b"x" * 101)}
    with pytest.raises(UnreplayableBodyError, match=r"PutObject s3://b/big.*100 bytes") as caught:
        prepare_body("PutObject", params, 100)
    assert isinstance(caught.value, ValueError)


def test_spool_limit_zero_refuses_every_non_seekable_stream() -> None:
    with pytest.raises(UnreplayableBodyError):
        prepare_body("PutObject", {"Body": Pipe(b"")}, 0)


def test_no_body_needs_no_rewind() -> None:
    params: dict[str, Any] = {"Bucket": "b"}
    prepared = prepare_body("ListObjectsV2", params, 10)
    prepared.rewind()
    assert params == {"Bucket": "b"}
    assert prepared.length is None
    assert prepare_body("PutObject", {}, 10).length == 0  # no Body: an empty object


def test_a_str_body_counts_its_utf8_bytes() -> None:
    assert prepare_body("PutObject", {"Body": "héllo"}, 10).length == 6


def test_a_body_starting_mid_file_is_seen_from_its_start() -> None:
    """botocore's CRT signer seeks a body to 0: the body it gets must start where the caller's
    file was, so 0 is that position (and nothing before it can be read)."""
    raw = io.BytesIO(b"0123456789")
    raw.seek(4)
    params: dict[str, Any] = {"Bucket": "b", "Key": "k", "Body": raw}
    prepared = prepare_body("PutObject", params, spool_limit=0)
    body = params["Body"]
    assert prepared.length == 6
    assert body.tell() == 0
    assert body.read() == b"456789"
    assert body.seek(0) == 0
    assert body.read(2) == b"45"
    assert body.seek(-100, 1) == 0  # never before the start
    assert body.seek(0, 2) == 6
    prepared.rewind()
    assert body.read() == b"456789"
