"""How a sync decides "different" without a server: ETag forms, part-size candidates, the file's
MD5 and multipart ETag in one pass, what a HeadObject tells, and the index's racy rule."""

from __future__ import annotations

import hashlib
import os
import random
import time
from pathlib import Path

import pytest

from resilient_s3._internals import checksum_class
from resilient_s3.batch._resume.state import FileIdentity
from resilient_s3.batch._sync.compare import (
    by_etag,
    by_head,
    etag_form,
    part_size_candidates,
)
from resilient_s3.batch._sync.index import RACY_NS, SyncIndex

MIB = 1024 * 1024


def _etag(data: bytes, part: int | None = None) -> str:
    if part is None:
        return f'"{hashlib.md5(data).hexdigest()}"'
    md5s = b"".join(hashlib.md5(data[o : o + part]).digest() for o in range(0, len(data), part))
    return f'"{hashlib.md5(md5s).hexdigest()}-{-(-len(data) // part)}"'


@pytest.fixture
def big(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(1).randbytes(12 * MIB + 5)
    path = tmp_path / "big"
    path.write_bytes(data)
    return path, data


def test_etag_forms() -> None:
    assert etag_form('"' + "a" * 32 + '"').kind == "md5"
    assert etag_form('W/"' + "B" * 32 + '-12"') == etag_form("b" * 32 + "-12")
    assert etag_form("b" * 32 + "-12").parts == 12
    assert etag_form("not-an-md5").kind == "other"
    assert etag_form(None).kind == "other"


def test_part_size_candidates_fit_the_part_count() -> None:
    sizes, certain = part_size_candidates(12 * MIB + 5, 2, [16 * MIB])
    assert not certain  # 16 MiB would give 1 part
    assert 8 * MIB in sizes
    assert 9 * MIB not in sizes
    assert all(-(-(12 * MIB + 5) // p) == 2 for p in sizes)
    sizes, certain = part_size_candidates(12 * MIB + 5, 3, [5 * MIB])
    assert certain
    assert sizes[0] == 5 * MIB


def test_the_files_md5_or_multipart_etag_decides(big: tuple[Path, bytes]) -> None:
    path, data = big
    size = len(data)
    assert by_etag(str(path), size, _etag(data)).same is True
    assert by_etag(str(path), size, _etag(data + b"x")).same is False
    assert by_etag(str(path), size, _etag(data, 8 * MIB)).same is True  # guessed
    assert by_etag(str(path), size, _etag(data, 5 * MIB), [5 * MIB]).part_size == 5 * MIB
    certain = by_etag(str(path), size, _etag(data + b"x", 5 * MIB)[:-3] + '-3"', [5 * MIB])
    assert certain.same is False
    assert not certain.head
    unknown = by_etag(str(path), size, _etag(data, 9 * MIB))
    assert unknown.same is None
    assert unknown.head  # a HeadObject can tell the part size
    assert by_etag(str(path), size, "opaque").same is None


def test_what_a_head_object_tells(big: tuple[Path, bytes]) -> None:
    path, data = big
    etag = _etag(data, 9 * MIB)
    first = {"ContentLength": 9 * MIB, "PartsCount": 2}
    assert by_head(str(path), len(data), etag, first, None).same is True
    other = by_head(str(path), len(data), _etag(data[:-1] + b"!", 9 * MIB), first, None)
    assert other.same is False
    crc = checksum_class("crc32")()
    crc.handle(data)
    kms = {**first, "ServerSideEncryption": "aws:kms"}
    whole = {"ChecksumCRC32": crc.b64digest(), "ChecksumType": "FULL_OBJECT"}
    assert by_head(str(path), len(data), "opaque-kms-etag", kms, whole).same is True
    assert by_head(str(path), len(data), "x", kms, {"ChecksumCRC32": "AAAAAA=="}).same is False
    composite = {"ChecksumCRC32": "abc=-2", "ChecksumType": "COMPOSITE"}
    assert by_head(str(path), len(data), "x", kms, composite).same is None
    assert by_head(str(path), len(data), "x", kms, {}).same is None


def test_the_index_trusts_only_settled_files_and_the_etag_it_saw(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    index = SyncIndex.open(tmp_path / "state", "http://e", "b", "p/", root)
    old = time.time_ns() - 10 * RACY_NS
    settled = FileIdentity(5, old, old, 1, 2)
    racy = FileIdentity(5, time.time_ns(), time.time_ns(), 3, 2)
    index.record("settled", settled, time.time_ns(), '"e1"')
    index.record("racy", racy, time.time_ns(), '"e2"')
    index.save()
    again = SyncIndex.open(tmp_path / "state", "http://e", "b", "p/", root)
    assert again.hit("settled", settled, "e1")
    assert not again.hit("settled", settled, '"e-other"')
    assert not again.hit("settled", FileIdentity(5, old + 1, old, 1, 2), '"e1"')
    assert not again.hit("racy", racy, '"e2"')  # changed in the tick it was seen, maybe
    other = SyncIndex.open(tmp_path / "state", "http://e", "b", "q/", root)
    assert not other.hit("settled", settled, '"e1"')  # another pair's index
    assert os.listdir(tmp_path / "state" / "sync")
