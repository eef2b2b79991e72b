"""The native plane's downloads on moto and SeaweedFS: an empty object; the parts of one download
pinned to one object, when the object is replaced between two parts, with ``If-Match`` honoured
and ignored; every request counted; the whole object checked against its checksum."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind

from ..conftest import NO_NATIVE
from .conftest import Place, files_under

if NO_NATIVE is not None:  # before the native transport's awscrt modules are imported
    pytest.skip(NO_NATIVE, allow_module_level=True)

from resilient_s3._transports.crt.download import GET_PART_SIZE

pytestmark = pytest.mark.native

SIZE = 2 * GET_PART_SIZE + 7


@pytest.mark.parametrize("into", ["memory", "files"])
def test_an_empty_object_downloads(
    place: Place, quick_policy: RetryPolicy, tmp_path: Path, into: str
) -> None:
    place.direct.put_object(Bucket=place.bucket, Key="empty", Body=b"")
    s3 = place.client(quick_policy)
    dest = tmp_path if into == "files" else None

    got = s3.batch.get(place.bucket, ["empty"], dest=dest, data_plane="crt")

    assert got.ok, got.summary()  # SeaweedFS answered 416 to the CRT's ranged first GET
    if dest is None:
        assert dict(got.data) == {"empty": b""}
    else:
        assert files_under(tmp_path) == {"empty": b""}


@pytest.mark.parametrize("if_match", ["honoured", "ignored"])
def test_an_object_replaced_between_two_parts_is_never_mixed(
    place: Place, quick_policy: RetryPolicy, tmp_path: Path, if_match: str,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    if if_match == "ignored" and "seaweedfs" in request.node.callspec.id:
        pytest.skip("a request without its If-Match header no longer matches its signature")
    old = random.Random(1).randbytes(SIZE)
    new = random.Random(2).randbytes(SIZE)
    place.direct.put_object(Bucket=place.bucket, Key="big", Body=old)
    # The second GetObject (a part after the first) waits; meanwhile the object is replaced.
    faults = [
        Fault(FaultKind.LATENCY, seconds=1.5, after=1, limit=1, operations=frozenset({"GetObject"}))
    ]
    if if_match == "ignored":
        faults.append(Fault(FaultKind.IGNORE_IF_MATCH))
    place.proxy.set_faults(faults)
    place.proxy.record_requests(("Range",))
    replacer = threading.Thread(target=_replace_on_second_get, args=(place, "big", new))
    replacer.start()
    s3 = place.client(quick_policy)

    got = s3.batch.get(place.bucket, ["big"], dest=tmp_path, data_plane="crt")
    replacer.join()

    assert got.ok, got.summary()
    assert files_under(tmp_path) == {"big": new}  # the object as it is now, never a mix
    assert got.stats.retries == {}  # read again from its start in the same attempt


def _replace_on_second_get(place: Place, key: str, body: bytes) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        gets = [r for r in place.proxy.requests if r.key == key and r.operation == "GetObject"]
        if len(gets) >= 2:
            place.direct.put_object(Bucket=place.bucket, Key=key, Body=body)
            return
        time.sleep(0.01)


def test_every_request_of_a_download_is_counted(place: Place, quick_policy: RetryPolicy,
                                                tmp_path: Path) -> None:  # fmt: skip
    body = random.Random(3).randbytes(SIZE)
    place.direct.put_object(Bucket=place.bucket, Key="big", Body=body)
    place.direct.put_object(Bucket=place.bucket, Key="small", Body=b"x" * 1000)
    s3 = resilient_s3.client("s3", retry=quick_policy, **place.proxy.client_kwargs())
    place.proxy.reset_counters()

    files = s3.batch.get(place.bucket, ["big"], dest=tmp_path, data_plane="crt")
    memory = s3.batch.get(place.bucket, ["big", "small"], data_plane="crt")

    assert files.ok, files.summary()
    assert memory.ok, memory.summary()
    counters = place.proxy.counters
    assert files.stats.requests + memory.stats.requests == counters["requests"]
    assert counters["op:HeadObject"] == 1  # into a file: a HEAD, then its parts
    assert files.stats.requests == 1 + counters["op:GetObject"] - 2  # into memory: one each
    assert dict(memory.data) == {"big": body, "small": b"x" * 1000}
