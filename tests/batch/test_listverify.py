"""List-based verification: the key range listed, the page limit and its HeadObject fallback,
listing denied, objects changed under the batch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import pytest

import resilient_s3
from resilient_s3 import VerificationError, VerifyPolicy
from resilient_s3.batch import BatchClient
from resilient_s3.batch._engine.listverify import list_range
from resilient_s3.testing import Fault, FaultKind

from ..conftest import PLANES
from .conftest import make_bodies


def _pages(s3: Any) -> Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]]:
    async def fetch(params: dict[str, Any]) -> Mapping[str, Any]:
        answer: Mapping[str, Any] = s3.list_objects_v2(**params)
        return answer

    return fetch


def test_list_range_finds_the_keys_of_its_range_only(s3_server_client: Any, s3_bucket: str) -> None:
    for i in range(12):
        s3_server_client.put_object(Bucket=s3_bucket, Key=f"p/{i:02d}", Body=b"x" * i)
    s3_server_client.put_object(Bucket=s3_bucket, Key="other", Body=b"")
    keys = ["p/03", "p/04", "p/05", "p/99"]

    found, covered = asyncio.run(list_range(_pages(s3_server_client), s3_bucket, keys))

    assert covered is None
    assert {k: size for k, (size, _) in found.items()} == {"p/03": 3, "p/04": 4, "p/05": 5}


def test_list_range_stops_at_its_page_limit(s3_server_client: Any, s3_bucket: str) -> None:
    for i in range(30):
        s3_server_client.put_object(Bucket=s3_bucket, Key=f"p/{i:02d}", Body=b"")
    keys = ["p/00", "p/29"]  # 30 keys apart: more pages than 2 * (2 // 2 + 1) + 2 = 6 of 2

    found, covered = asyncio.run(
        list_range(_pages(s3_server_client), s3_bucket, keys, page=2, next_page=2)
    )

    assert covered == "p/11"  # 6 pages of 2 keys listed
    assert set(found) == {"p/00"}


def test_a_range_with_other_keys_between_goes_on_in_pages_of_1000(
    s3_server_client: Any, s3_bucket: str
) -> None:
    for i in range(30):
        s3_server_client.put_object(Bucket=s3_bucket, Key=f"p/{i:02d}", Body=b"")
    keys = ["p/00", "p/29"]  # changed files among unchanged ones, as a sync writes them
    pages: list[dict[str, Any]] = []
    fetch = _pages(s3_server_client)

    async def counted(params: dict[str, Any]) -> Mapping[str, Any]:
        pages.append(params)
        return await fetch(params)

    found, covered = asyncio.run(list_range(counted, s3_bucket, keys, page=2))

    assert covered is None
    assert set(found) == {"p/00", "p/29"}
    assert [p["MaxKeys"] for p in pages] == [2, 1000]  # not a HeadObject per key left


def test_a_window_is_listed_as_ranges_of_250_neighbours_one_page_each(
    batch: BatchClient, s3_bucket: str
) -> None:
    # The batch waits for the last window's listing, whose time grows with its keys: a window
    # of 1,000 is listed as four ranges of 250 at once, each a page just past its range.
    report = batch.put(s3_bucket, make_bodies(1000, size=5))

    assert report.ok, report.summary()
    assert report.stats.verified == 1000
    assert report.stats.list_requests == 4


def test_when_listing_is_denied_keys_are_checked_with_head_object(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    listing = Fault(FaultKind.ACCESS_DENIED, operations=frozenset({"ListObjectsV2"}))
    fault_proxy.set_faults([listing, Fault(FaultKind.LOST_WRITE, limit=1)])

    report = batch.put(s3_bucket, make_bodies(10, size=5))

    assert report.ok
    assert report.stats.verified == 10
    assert report.stats.reuploads == 1
    counters = fault_proxy.counters
    assert counters["op:ListObjectsV2"] == 2  # the window, then the re-upload's window
    assert counters["op:HeadObject"] == 11


def test_another_writers_object_is_reported_and_kept(
    batch: BatchClient, s3_server_client: Any, s3_bucket: str
) -> None:
    """The listing shows another ETag: another writer's newer object. The item fails naming it,
    and their object is not overwritten (as the facade's read-back decides)."""

    def items() -> Iterator[tuple[str, bytes]]:
        yield "changed", b"ours"
        yield from make_bodies(30, size=1).items()
        # "changed" is long written (4 slots, 30 items since): someone else replaces it
        s3_server_client.put_object(Bucket=s3_bucket, Key="changed", Body=b"theirs!")

    report = batch.put(s3_bucket, items(), concurrency=4)

    (failure,) = report.failed
    assert isinstance(failure.error, VerificationError)
    assert (failure.key, failure.error.reason) == ("changed", "mismatch")
    assert "not overwritten" in str(failure.error)
    assert report.stats.reuploads == 0
    body = s3_server_client.get_object(Bucket=s3_bucket, Key="changed")["Body"].read()
    assert body == b"theirs!"


@pytest.mark.parametrize("plane", ["crt", "botocore"])
def test_bytes_the_server_stored_wrong_are_sent_again_pinned_to_that_version(
    fault_proxy: Any, quick_policy: Any, s3_server_client: Any, s3_bucket: str, plane: str
) -> None:
    """The listing shows the ETag we were answered with another size (aws-chunked framing
    stored as data): the server stored other bytes; the write is sent again with If-Match."""
    s3 = resilient_s3.client("s3", retry=quick_policy, **fault_proxy.client_kwargs())
    fault_proxy.set_faults([Fault(FaultKind.CHUNKED_FRAMING, key_prefix="f/1", limit=1)])
    fault_proxy.record_requests(("If-Match", "If-None-Match"))
    bodies = {f"f/{i}": b"x" * 1024 for i in range(20)}

    report = s3.batch.put(s3_bucket, bodies, concurrency=4, data_plane=plane)  # type: ignore[arg-type]

    assert report.ok, report.failed
    assert report.stats.reuploads == 1
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="f/1")["Body"].read() == b"x" * 1024
    puts = [r for r in fault_proxy.requests if r.operation == "PutObject" and r.key == "f/1"]
    assert [("if-match" in r.headers) for r in puts] == [False, True]


def test_a_mismatch_beyond_the_reupload_limit_fails_the_item(
    fault_proxy: Any, quick_policy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    s3 = resilient_s3.client(
        "s3", retry=quick_policy, verify_writes=VerifyPolicy(max_reuploads=0),
        **fault_proxy.client_kwargs(),
    )  # fmt: skip

    def items() -> Iterator[tuple[str, bytes]]:
        yield "changed", b"ours"
        yield from make_bodies(30, size=1).items()
        s3_server_client.put_object(Bucket=s3_bucket, Key="changed", Body=b"theirs!")

    report = s3.batch.put(s3_bucket, items(), concurrency=4)

    (failure,) = report.failed
    assert isinstance(failure.error, VerificationError)
    assert failure.error.reason == "mismatch"
    found = failure.error.found
    assert found is not None
    assert found["ContentLength"] == 7
    assert report.succeeded == 30


def test_a_directory_bucket_is_verified_with_head_object(fault_proxy: Any) -> None:
    # S3 Express One Zone directory buckets (--x-s3) list neither in key order nor from
    # StartAfter (AWS's ListObjectsV2 documentation): a page cannot confirm a key range there.
    from botocore.config import Config

    bucket = "dirbkt--use1-az4--x-s3"
    s3_config: Any = {"addressing_style": "path", "disable_s3_express_session_auth": True}
    config = Config(s3=s3_config)
    s3 = resilient_s3.client("s3", config=config, **fault_proxy.client_kwargs())
    s3.create_bucket(Bucket=bucket)
    fault_proxy.reset_counters()

    reports = [
        s3.batch.put(bucket, make_bodies(20, f"{plane}/", size=5), data_plane=plane)
        for plane in PLANES
    ]

    for report in reports:
        assert report.ok, report.summary()
        assert report.stats.verified == 20
        assert report.stats.list_requests == 0  # was one ListObjectsV2 with StartAfter
    assert fault_proxy.counters["op:ListObjectsV2"] == 0
    assert fault_proxy.counters["op:HeadObject"] == 20 * len(PLANES)


def test_the_facade_reads_back_a_directory_bucket_with_head_object() -> None:
    from resilient_s3._verify.listing import ListingCoalescer

    def list_page(params: dict[str, Any]) -> Mapping[str, Any]:
        raise AssertionError("no listing of a directory bucket")

    coalescer = ListingCoalescer(list_page, least=1)
    assert coalescer.read_back("dir--use1-az4--x-s3", "k", lambda: "head") == "head"
