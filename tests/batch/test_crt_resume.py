"""The CRT plane's resumable GetObject, on moto and SeaweedFS behind the fault proxy: a download
broken mid-body continues from the first byte it lacks, pinned to the object's ETag (into files,
and into memory once its first, whole-object attempt failed); an object replaced between the
attempts is read again from its start, once, and a second change fails naming it; the deadline
bounds a download that keeps breaking."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

import resilient_s3
from resilient_s3 import Backoff, ErrorKind, ObjectChangedError, RetryPolicy
from resilient_s3.testing import Fault, FaultKind, FaultProxy

from ..conftest import NO_NATIVE
from .conftest import Place, files_under

if NO_NATIVE is not None:  # before the native transport's awscrt modules are imported
    pytest.skip(NO_NATIVE, allow_module_level=True)

from resilient_s3._transports.crt.download import GET_PART_SIZE

pytestmark = pytest.mark.native

#: At least three parts: the first part, then more (the last a half part).
SIZE = 2 * GET_PART_SIZE + GET_PART_SIZE // 2
#: The second GetObject request truncated (the first part of the first object passes).
AFTER_FIRST_PART = Fault(FaultKind.TRUNCATE_BODY, after=1, limit=1)
#: The first GetObject request truncated.
FIRST_GET = Fault(FaultKind.TRUNCATE_BODY, limit=1)


def _put(place: Place, count: int) -> dict[str, bytes]:
    rng = random.Random(count)
    bodies = {f"big/{i}": rng.randbytes(SIZE) for i in range(count)}
    for key, body in bodies.items():
        place.direct.put_object(Bucket=place.bucket, Key=key, Body=body)
    return bodies


def _start(range_header: str) -> int:
    return int(range_header.removeprefix("bytes=").partition("-")[0])


@pytest.mark.parametrize("into", ["memory", "files"])
def test_a_get_broken_mid_body_resumes_from_the_first_missing_byte(
    place: Place, quick_policy: RetryPolicy, tmp_path: Path, into: str
) -> None:
    bodies = _put(place, 3)
    etag = place.direct.head_object(Bucket=place.bucket, Key="big/0")["ETag"]
    faults = [AFTER_FIRST_PART]
    config = None
    if into == "memory":
        # Into memory the first attempt asks for the whole object: it keeps silent for longer
        # than read_timeout, so the download goes on in parts in the same attempt (a HEAD, the
        # first part, then one broken: the one after the whole request and the first part).
        config = Config(read_timeout=1)
        silent = Fault(FaultKind.LATENCY, seconds=1.5, limit=1, key_prefix="big/0")
        faults = [silent, Fault(FaultKind.TRUNCATE_BODY, after=2, limit=1)]
    kwargs = place.proxy.client_kwargs()
    s3 = resilient_s3.client("s3", retry=quick_policy, config=config, **kwargs)
    place.proxy.set_faults(faults)
    place.proxy.record_requests(("Range", "If-Match"))
    dest = tmp_path if into == "files" else None

    got = s3.batch.get(place.bucket, list(bodies), dest=dest, concurrency=1, data_plane="crt")

    assert got.ok, got.summary()
    if dest is None:
        assert dict(got.data) == bodies
    else:
        assert files_under(tmp_path) == bodies  # whole, and no .part file left behind
    seen = [
        r for r in place.proxy.requests
        if r.key == "big/0" and r.operation == "GetObject" and "range" in r.headers
    ]  # fmt: skip
    (broken,) = [i for i, r in enumerate(seen) if r.fault == "truncate_body"]
    start = _start(seen[broken].headers["range"])
    assert start > 0  # a part after the first broke: the first part had been handed over
    resumed = seen[broken + 1 :]
    assert resumed[0].headers["if-match"] == etag  # pinned to the first answer's object
    # From the first byte missing: the broken part's, or an earlier part's that was still on
    # its way when the other broke (the CRT hands parts over in order).
    assert 0 < min(_start(r.headers["range"]) for r in resumed) <= start
    assert [_start(r.headers["range"]) for r in seen].count(0) == 1  # never from the start again
    assert s3.stats.resumes == 1
    assert got.stats.retries == {"network_after_send": 1}


@pytest.mark.parametrize("into", ["memory", "files"])
def test_an_object_replaced_between_the_attempts_is_read_again_from_its_start(
    place: Place, tmp_path: Path, into: str
) -> None:
    _put(place, 1)
    another = random.Random(7).randbytes(SIZE)
    replaced: list[float] = []

    def replace_then_go_on(seconds: float) -> None:  # the retry's sleep: another writer acts
        place.direct.put_object(Bucket=place.bucket, Key="big/0", Body=another)
        replaced.append(seconds)

    s3 = place.client(RetryPolicy(sleep=replace_then_go_on, random=lambda: 0.0))
    # Into files: a part after the first breaks, and the resumed part, pinned to the old ETag,
    # is answered 412. Into memory: the whole-object request breaks; nothing was kept.
    place.proxy.set_faults([AFTER_FIRST_PART if into == "files" else FIRST_GET])
    dest = tmp_path if into == "files" else None

    got = s3.batch.get(place.bucket, ["big/0"], dest=dest, data_plane="crt")

    assert got.ok, got.summary()
    if dest is None:
        assert dict(got.data) == {"big/0": another}  # the object as it is now, whole
    else:
        assert files_under(tmp_path) == {"big/0": another}
    assert len(replaced) == 1
    assert got.stats.retries == {"network_after_send": 1}


def test_an_object_that_changes_twice_fails_naming_it(place: Place, tmp_path: Path) -> None:
    _put(place, 1)
    versions = iter(random.Random(i).randbytes(SIZE) for i in range(100, 110))

    def replace_then_go_on(seconds: float) -> None:
        place.direct.put_object(Bucket=place.bucket, Key="big/0", Body=next(versions))

    s3 = place.client(RetryPolicy(sleep=replace_then_go_on, random=lambda: 0.0))
    # Every GetObject after the first breaks, and each retry's sleep replaces the object. The
    # parts after the first break; the resumed ones, pinned to the old ETag, are answered 412:
    # read again from its start (a HEAD, then the first part, which breaks); the next attempt's
    # part, pinned to the second object, is answered 412: the second change fails the item.
    place.proxy.set_faults([Fault(FaultKind.TRUNCATE_BODY, after=1)])

    got = s3.batch.get(place.bucket, ["big/0"], dest=tmp_path, data_plane="crt")

    (failure,) = got.failed
    assert isinstance(failure.error, ObjectChangedError)
    assert f"s3://{place.bucket}/big/0" in str(failure.error)
    assert (failure.kind, failure.attempts) == (ErrorKind.PERMANENT, 3)
    assert files_under(tmp_path) == {}  # nothing of it kept


def test_the_deadline_bounds_a_download_that_keeps_breaking(
    fault_proxy: FaultProxy, s3_server_client: Any, s3_bucket: str, tmp_path: Path
) -> None:
    s3_server_client.put_object(Bucket=s3_bucket, Key="big/0", Body=b"x" * SIZE)
    endless = Backoff(max_attempts=10_000, base=0.0, cap=0.0)
    policy = RetryPolicy(network_after_send=endless, deadline=1.5, budget=None)
    s3 = resilient_s3.client("s3", retry=policy, **fault_proxy.client_kwargs())
    fault_proxy.set_faults([Fault(FaultKind.TRUNCATE_BODY, after=1)])  # no part passes again

    began = time.monotonic()
    got = s3.batch.get(s3_bucket, ["big/0"], dest=tmp_path, data_plane="crt")
    elapsed = time.monotonic() - began

    (failure,) = got.failed
    assert failure.kind is ErrorKind.NETWORK_AFTER_SEND
    # Attempts stop when the next one would not end by the deadline: bounded, not by attempts.
    assert elapsed < 1.5 + 5.0
    assert failure.attempts > 2
    assert s3.stats.resumes == failure.attempts - 1  # every retry resumed, none started again
