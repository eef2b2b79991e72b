"""BatchClient end to end: a real moto server behind the project's fault proxy."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any, cast

import pytest
from botocore.exceptions import ClientError

from resilient_s3 import (
    ErrorKind,
    ResilientS3Error,
    UnreplayableBodyError,
    VerificationError,
    VerifyPolicy,
)
from resilient_s3.batch import BatchClient, BatchError, CopyItem, PutItem
from resilient_s3.testing import Fault, FaultKind, mixed_faults

from .conftest import make_bodies, stored


def test_2000_objects_put_then_get_under_mixed_faults_and_lost_writes(
    rs3: Any, fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults((*mixed_faults(0.1), Fault(FaultKind.LOST_WRITE, rate=0.02)))
    bodies = make_bodies(2000)
    # Re-uploads are lost at 2% too: with the default 2, some key is lost 3 times in a row in
    # ~1.6% of runs (2000 * 0.02**3), a correct per-item failure; 4 make that ~1 in 160,000.
    batch = rs3.with_options(verify_writes=VerifyPolicy(max_reuploads=4)).batch

    put = batch.put(s3_bucket, bodies, concurrency=32)

    assert put.ok, put.summary()
    assert put.succeeded == put.stats.verified == 2000
    counters = fault_proxy.counters
    assert counters["lost_write"] > 10  # the faults really happened...
    # ...and each lost write was redone (unless an earlier attempt of the same put, reset after
    # the server stored it, had landed: then the object was there and verified)
    assert counters["lost_write"] - counters["reset_after"] <= put.stats.reuploads
    assert put.stats.reuploads <= counters["lost_write"]
    assert sum(put.stats.retries.values()) > 100
    assert put.stats.requests == counters["requests"]  # every request counted by the batch
    assert stored(s3_server_client, s3_bucket) == dict.fromkeys(bodies, 1024)  # zero missing

    got = batch.get(s3_bucket, list(bodies), concurrency=32)

    assert got.ok, got.summary()
    assert dict(got.data) == bodies  # bytes identical
    assert fault_proxy.counters["truncate_body"] > 0


def test_permanent_failures_are_reported_per_item_and_the_rest_completes(
    batch: BatchClient, fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED, key_prefix="deny/")])
    items = {**make_bodies(20, "ok/", 10), **make_bodies(5, "deny/", 10)}

    report = batch.put(s3_bucket, items)

    assert not report.ok
    assert report.succeeded == 20
    assert sorted(f.key for f in report.failed) == [f"deny/{i:05d}" for i in range(5)]
    for failure in report.failed:
        assert failure.kind is ErrorKind.PERMANENT
        assert failure.attempts == 1  # AccessDenied is never retried
        assert failure.bucket == s3_bucket
        assert failure.operation == "put"
        assert isinstance(failure.error, ClientError)
        assert failure.error.response["Error"]["Code"] == "AccessDenied"
    assert fault_proxy.counters["access_denied"] == 5
    assert set(stored(s3_server_client, s3_bucket)) == {k for k in items if k.startswith("ok/")}
    with pytest.raises(BatchError) as raised:
        report.raise_for_failures()
    assert isinstance(raised.value, ResilientS3Error)
    assert raised.value.report is report
    assert raised.value.__cause__ is report.failed[0].error
    assert "5 failed (permanent: 5)" in str(raised.value)


def test_a_write_lost_every_time_fails_with_verification_error(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.LOST_WRITE, key_prefix="gone")])

    report = batch.put(s3_bucket, {"kept": b"1", "gone": b"2"})

    assert report.succeeded == 1
    (failure,) = report.failed
    assert failure.key == "gone"
    assert isinstance(failure.error, VerificationError)
    assert failure.error.reason == "lost"
    assert report.stats.reuploads == VerifyPolicy().max_reuploads
    assert fault_proxy.counters["lost_write"] == 1 + VerifyPolicy().max_reuploads


@pytest.mark.parametrize("verify", ["object", "off"])
def test_other_verify_modes(
    batch: BatchClient, fault_proxy: Any, s3_server_client: Any, s3_bucket: str, verify: Any
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.LOST_WRITE, limit=2)])
    bodies = make_bodies(30, size=10)

    report = batch.put(s3_bucket, bodies, verify_writes=verify)

    assert report.ok
    counters = fault_proxy.counters
    if verify == "object":  # the facade read each write back and redid the lost ones
        assert report.stats.verified == 30
        assert counters["op:HeadObject"] >= 2  # the lost ones at least (VerifyPolicy.coalesce)
        assert counters["op:PutObject"] == 32
        assert len(stored(s3_server_client, s3_bucket)) == 30
    else:  # nothing checked: the two lost writes stay lost (what verification is for)
        assert report.stats.verified == 0
        assert counters["op:HeadObject"] == 0
        assert len(stored(s3_server_client, s3_bucket)) == 28


def test_generator_input_is_consumed_lazily(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    consumed = 0
    ahead: list[int] = []

    def items() -> Iterator[tuple[str, bytes]]:
        nonlocal consumed
        for i in range(200):
            consumed += 1
            yield f"gen/{i:04d}", b"x"

    def progress(event: Any) -> None:
        ahead.append(consumed - event.done)

    report = batch.put(s3_bucket, items(), concurrency=8, verify_writes="off", progress=progress)

    assert report.ok
    assert report.succeeded == 200
    assert report.results == ()  # counted, not kept
    assert max(ahead) <= 8 + 1  # never more pulled than slots (+ the one being started)


def test_bodies_of_every_kind_and_extra_args(
    batch: BatchClient, s3_server_client: Any, s3_bucket: str, tmp_path: Path
) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(b"from a file")
    stream = io.BytesIO(b"skip:from a stream")
    stream.seek(5)  # a file object is sent from where it is
    items: list[Any] = [
        ("bytes", b"raw"),
        ("text", "héllo"),
        ("path", path),
        ("stream", stream),
        PutItem("typed", b"{}", {"ContentType": "application/json", "Metadata": {"a": "1"}}),
    ]

    report = batch.put(s3_bucket, items, keep_results=True)

    assert report.ok, report.summary()
    keys = ["bytes", "text", "path", "stream", "typed"]
    read = {k: s3_server_client.get_object(Bucket=s3_bucket, Key=k)["Body"].read() for k in keys}
    assert read == {
        "bytes": b"raw", "text": "héllo".encode(), "path": b"from a file",
        "stream": b"from a stream", "typed": b"{}",
    }  # fmt: skip
    head = s3_server_client.head_object(Bucket=s3_bucket, Key="typed")
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"a": "1"}
    assert {r.key: r.size for r in report.results}["text"] == len("héllo".encode())


def test_large_body_goes_up_in_parts(
    batch: BatchClient, fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    body = os.urandom(11 * 1024 * 1024)
    mib = 1024 * 1024

    report = batch.put(s3_bucket, {"big": body}, multipart_threshold=5 * mib, part_size=5 * mib)

    assert report.ok, report.summary()
    assert fault_proxy.counters["op:UploadPart"] == 3
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="big")["Body"].read() == body
    assert not s3_server_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")


def test_get_into_a_directory_head_copy_and_delete(
    batch: BatchClient, s3_server_client: Any, s3_bucket: str, tmp_path: Path
) -> None:
    bodies = make_bodies(40, "dir/sub/", 100)
    assert batch.put(s3_bucket, bodies).ok

    got = batch.get(s3_bucket, list(bodies), dest=tmp_path / "out")
    assert got.ok
    assert got.data == {}
    assert {k: (tmp_path / "out" / k).read_bytes() for k in bodies} == bodies
    assert not list((tmp_path / "out").rglob("*.part"))

    heads = batch.head(s3_bucket, [*bodies, "dir/missing"], keep_results=True)
    assert heads.succeeded == 40
    assert [(f.key, f.kind) for f in heads.failed] == [("dir/missing", ErrorKind.NOT_FOUND)]
    assert {r.size for r in heads.results} == {100}

    copies = batch.copy([(s3_bucket, k, s3_bucket, "copy/" + k) for k in list(bodies)[:10]]
                        + [CopyItem(s3_bucket, "dir/none", s3_bucket, "copy/none")])  # fmt: skip
    assert copies.succeeded == 10
    assert copies.stats.verified == 10
    assert [f.key for f in copies.failed] == ["copy/none"]

    deleted = batch.delete(s3_bucket, [*bodies, "never-existed"])
    assert deleted.ok
    assert deleted.succeeded == 41
    assert set(stored(s3_server_client, s3_bucket)) == {f"copy/{k}" for k in list(bodies)[:10]}


def test_upload_dir_and_download_prefix(batch: BatchClient, s3_bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "src"
    for name in ("a.txt", "b/c.txt", "b/d/e.txt"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(name)

    up = batch.upload_dir(source, s3_bucket, prefix="tree/")
    assert up.ok
    assert up.succeeded == 3

    down = batch.download_prefix(s3_bucket, "tree/", tmp_path / "dst")
    assert down.ok
    assert down.succeeded == 3
    assert (tmp_path / "dst" / "b" / "d" / "e.txt").read_text() == "b/d/e.txt"


def test_async_twins_and_async_generator_input(batch: BatchClient, s3_bucket: str) -> None:
    async def items() -> AsyncIterator[tuple[str, bytes]]:
        for i in range(20):
            await asyncio.sleep(0)
            yield f"async/{i}", b"a"

    async def main() -> tuple[Any, Any, Any]:
        put = await batch.put_async(s3_bucket, items())
        got = await batch.get_async(s3_bucket, [f"async/{i}" for i in range(20)])
        gone = await batch.delete_async(s3_bucket, [f"async/{i}" for i in range(20)])
        return put, got, gone

    put, got, gone = asyncio.run(main())
    assert put.ok
    assert put.succeeded == 20
    assert got.ok
    assert set(got.data.values()) == {b"a"}
    assert gone.ok
    assert gone.succeeded == 20


def test_sync_methods_work_inside_a_running_loop_and_from_threads(
    batch: BatchClient, s3_bucket: str
) -> None:
    async def notebook_cell() -> Any:  # as in Jupyter: a sync call while a loop runs
        return batch.put(s3_bucket, {"in-loop": b"1"})

    assert asyncio.run(notebook_cell()).ok
    reports: list[Any] = []

    def worker(n: int) -> None:
        reports.append(batch.put(s3_bucket, make_bodies(20, f"thread{n}/", 10)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.succeeded for r in reports] == [20, 20, 20]
    assert all(r.ok for r in reports)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda b, k: b.put(k, {"a": b"1"}, concurrency=0), ValueError),
        (lambda b, k: b.put(k, {"a": b"1"}, rate_limit=-1), ValueError),
        (lambda b, k: b.get(k, ["a"], bytes_per_second=0), ValueError),
        (lambda b, k: b.put(k, {"a": b"1"}, progress="yes"), TypeError),
        (lambda b, k: b.put(k, {"a": b"1"}, colour=True), TypeError),
        (lambda b, k: b.put(k, [("a", Path("/no/such/file"))]), FileNotFoundError),
        (lambda b, k: b.put(k, [("a", _Pipe())]), UnreplayableBodyError),
        (lambda b, k: b.put(k, [("a", 5)]), TypeError),
        (lambda b, k: b.put(k, [("", b"1")]), ValueError),
        (lambda b, k: b.get(k, "just-one-key"), TypeError),
        (lambda b, k: b.get(k, ["a"], dest=__file__), NotADirectoryError),
        (lambda b, k: b.upload_dir(__file__, k), NotADirectoryError),
        (lambda b, k: b.put(k, {"a": b"1"}, verify_writes="sometimes"), ValueError),
    ],
)
def test_bad_input_fails_before_any_request(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        call(batch, s3_bucket)
    assert fault_proxy.counters["requests"] == 0


def test_a_bad_item_from_a_generator_fails_alone(batch: BatchClient, s3_bucket: str) -> None:
    pairs: list[tuple[str, Any]] = [("a", b"1"), ("b", Path("/no/such/file")), ("c", b"3")]
    items = (pair for pair in pairs)

    report = batch.put(s3_bucket, items)

    assert report.succeeded == 2
    (failure,) = report.failed
    assert failure.key == "b"
    assert failure.attempts == 0
    assert isinstance(failure.error, FileNotFoundError)


def test_a_non_replayable_stream_is_accepted_without_verification(
    batch: BatchClient, s3_server_client: Any, s3_bucket: str
) -> None:
    report = batch.put(s3_bucket, [("piped", cast(IO[bytes], _Pipe()))], verify_writes=False)

    assert report.ok
    assert s3_server_client.get_object(Bucket=s3_bucket, Key="piped")["Body"].read() == b"pipe"


def test_fail_fast_stops_pulling_items(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED, key_prefix="k/00003")])

    report = batch.put(s3_bucket, make_bodies(500, "k/", 1), concurrency=2, fail_fast=True)

    assert report.stopped == "fail_fast"
    assert not report.ok
    assert len(report.failed) == 1
    assert report.succeeded < 20


def test_facade_stats_are_shared(rs3: Any, s3_bucket: str) -> None:
    before = rs3.stats.calls
    report = rs3.batch.put(s3_bucket, make_bodies(10, size=1))
    assert report.ok
    assert rs3.stats.calls - before == report.stats.requests  # puts and the listing


class _Pipe(io.RawIOBase):
    """A readable, non-seekable stream (like a pipe)."""

    def __init__(self) -> None:
        self._data = io.BytesIO(b"pipe")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._data.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
