"""Item normalisation and checks (pure)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from resilient_s3 import UnreplayableBodyError
from resilient_s3._bodies.request import body_size
from resilient_s3.batch import CopyItem, PutItem
from resilient_s3.batch._inputs.items import (
    is_collection,
    raw_items,
    to_copy_item,
    to_key,
    to_put_item,
)


def test_put_items_from_tuples_and_put_items(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    assert to_put_item(("k", b"v"), True) == PutItem("k", b"v")
    assert to_put_item(("k", "v", {"ContentType": "t"}), True).extra_args == {"ContentType": "t"}
    item = PutItem("p", path)
    assert to_put_item(item, True) is item


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (("k",), TypeError),
        ("k", TypeError),
        ((1, b"v"), TypeError),
        (("", b"v"), ValueError),
        (("k", 5), TypeError),
        (("k", Path("/no/such/file")), FileNotFoundError),
        (("k", b"v", {"Bucket": "x"}), ValueError),
        (("k", b"v", ["ContentType"]), TypeError),
    ],
)
def test_bad_put_items(raw: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        to_put_item(raw, True)


def test_a_non_seekable_stream_needs_verification_off() -> None:
    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

    with pytest.raises(UnreplayableBodyError, match="non-seekable"):
        to_put_item(("k", Pipe()), replayable=True)
    assert to_put_item(("k", Pipe()), replayable=False).key == "k"


def test_body_size(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 7)
    stream = io.BytesIO(b"0123456789")
    stream.seek(4)
    assert body_size(b"abc") == 3
    assert body_size("é") == 2
    assert body_size(memoryview(b"ab")) == 2
    assert body_size(path) == 7
    assert body_size(stream) == 6
    assert stream.tell() == 4  # left where it was


def test_copy_items() -> None:
    assert to_copy_item(("a", "k", "b", "k2")) == CopyItem("a", "k", "b", "k2")
    with pytest.raises(TypeError):
        to_copy_item(("a", "k", "b"))
    with pytest.raises(ValueError, match="src_bucket"):
        CopyItem("", "k", "b", "k")


def test_keys_and_collections() -> None:
    assert to_key("k") == "k"
    with pytest.raises(TypeError):
        to_key(b"k")
    assert is_collection([1])
    assert is_collection({"a": 1})
    assert is_collection(range(3))
    assert not is_collection(iter([1]))
    assert list(raw_items({"a": 1})) == [("a", 1)]
    with pytest.raises(TypeError):
        raw_items("abc")
