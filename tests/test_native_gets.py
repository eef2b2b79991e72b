"""Which GetObjects the front doors send natively (``_transports/sizes.py``): only those whose
answer is known to be small, since the CRT hands an answer over whole. Anything else streams
through botocore in flat memory; an object replaced since the client saw it is read through
botocore too, never held whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import resilient_s3
from resilient_s3._transports.sizes import NATIVE_GET_LIMIT, KnownSizes

pytest.importorskip("awscrt")
#: Needs the native transport itself (an awscrt it can run on: not the floor job's 0.23).
pytestmark = pytest.mark.native

KIB = 1024
MIB = 1024 * KIB


def paths(s3: Any) -> dict[str, int]:
    return dict(s3.stats.paths)


def test_an_object_the_client_saw_goes_native_pinned_to_its_etag(
    fault_proxy: Any, s3_bucket: str
) -> None:
    with resilient_s3.client("s3", **fault_proxy.client_kwargs()) as s3:
        s3.put_object(Bucket=s3_bucket, Key="small", Body=b"x" * KIB)
        before = paths(s3)
        assert s3.get_object(Bucket=s3_bucket, Key="small")["Body"].read() == b"x" * KIB
        assert paths(s3)["crt"] == before["crt"] + 1
        assert paths(s3).get("botocore", 0) == before.get("botocore", 0)


def test_an_object_replaced_since_is_read_through_botocore(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    """A 1 KiB object the client wrote, replaced by another writer with 2 MiB: the pinned
    native GetObject is answered 412 and botocore reads the new bytes; the new size is then
    known, and the next GetObject goes native again."""
    new = os.urandom(2 * MIB)
    with resilient_s3.client("s3", **fault_proxy.client_kwargs()) as s3:
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"old" * 300)
        s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=new)
        before = paths(s3)
        assert s3.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == new
        after = paths(s3)
        assert (after["crt"] - before["crt"], after["botocore"] - before.get("botocore", 0)) == (
            1,
            1,
        )
        assert s3.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == new
        assert paths(s3)["crt"] == after["crt"] + 1


def test_the_callers_own_if_match_failing_is_the_callers_error(
    s3_server: Any, s3_bucket: str
) -> None:
    with resilient_s3.client("s3", **s3_server.client_kwargs()) as s3:
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"data")
        with pytest.raises(s3.exceptions.ClientError) as raised:
            s3.get_object(Bucket=s3_bucket, Key="k", IfMatch='"0123456789abcdef0123456789abcdef"')
        assert raised.value.response["Error"]["Code"] == "PreconditionFailed"


@pytest.mark.parametrize(
    ("writer", "size", "path"),
    [
        ("another", 1 * KIB, "botocore"),  # never seen: its size is unknown
        ("itself", NATIVE_GET_LIMIT + 1, "botocore"),  # seen, too big to arrive whole
        ("itself", NATIVE_GET_LIMIT, "crt"),
    ],
)
def test_what_goes_native(
    s3_server: Any, s3_bucket: str, s3_server_client: Any, writer: str, size: int, path: str
) -> None:
    data = os.urandom(size)
    with resilient_s3.client("s3", **s3_server.client_kwargs()) as s3:
        if writer == "itself":
            s3.put_object(Bucket=s3_bucket, Key="k", Body=data)
        else:
            s3_server_client.put_object(Bucket=s3_bucket, Key="k", Body=data)
        before = paths(s3)
        assert s3.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == data
        assert paths(s3)[path] == before.get(path, 0) + 1
        ranged = s3.get_object(Bucket=s3_bucket, Key="k", Range="bytes=0-99")
        assert ranged["Body"].read() == data[:100]
        assert paths(s3)["crt"] == before.get("crt", 0) + (path == "crt") + 1


_READER = """
import asyncio, json, sys
import resilient_s3, resilient_s3.aio

kwargs, bucket, door = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]

def peak():  # this process's own high-water mark (ru_maxrss carries the parent's across exec)
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024

async def aio():
    async with resilient_s3.aio.client("s3", **kwargs) as s3:
        await s3.put_object(Bucket=bucket, Key="warm", Body=b"w")  # the native client exists
        base, got = peak(), 0
        body = (await s3.get_object(Bucket=bucket, Key="big"))["Body"]
        async for chunk in body.iter_chunks(1024 * 1024):
            got += len(chunk)
        return base, got, dict(s3.stats.paths)

def sync():
    with resilient_s3.client("s3", **kwargs) as s3:
        s3.put_object(Bucket=bucket, Key="warm", Body=b"w")
        base, got = peak(), 0
        for chunk in s3.get_object(Bucket=bucket, Key="big")["Body"].iter_chunks(1024 * 1024):
            got += len(chunk)
        return base, got, dict(s3.stats.paths)

base, got, paths = asyncio.run(aio()) if door == "aio" else sync()
print(json.dumps({"grew": peak() - base, "got": got, "paths": paths}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's VmHWM")
@pytest.mark.parametrize("door", ["sync", "aio"])
def test_a_big_object_streams_in_flat_memory(
    s3_server: Any, s3_bucket: str, s3_server_client: Any, door: str
) -> None:
    """A 64 MiB GetObject read in 1 MiB chunks by a fresh process: its peak memory grows by
    well under the object's size (held whole, it grew by about the object's size)."""
    size = 64 * MIB
    s3_server_client.put_object(Bucket=s3_bucket, Key="big", Body=os.urandom(size))
    kwargs = json.dumps(s3_server.client_kwargs())
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_READER), kwargs, s3_bucket, door],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["got"] == size
    assert seen["grew"] < 24 * MIB, seen


@pytest.mark.parametrize(
    ("asked", "bound"),
    [
        ("bytes=0-1023", ""),
        ("bytes=-100", ""),
        (f"bytes=0-{NATIVE_GET_LIMIT - 1}", ""),
        (f"bytes=0-{NATIVE_GET_LIMIT}", None),
        ("bytes=100-", None),
        ("bytes=0-1,5-6", None),
        ("bytes=9-3", None),
    ],
)
def test_the_bound_of_a_range(asked: str, bound: str | None) -> None:
    assert KnownSizes().bound({"Bucket": "b", "Key": "k", "Range": asked}) == bound


def test_the_bound_of_a_known_object() -> None:
    sizes = KnownSizes(capacity=2)
    get = {"Bucket": "b", "Key": "k"}
    assert sizes.bound(get) is None
    sizes.saw("PutObject", {**get, "Body": b"abc"}, {"ETag": '"e1"'})
    assert sizes.bound(get) == '"e1"'
    assert sizes.bound({**get, "IfMatch": '"e1"'}) == ""  # the caller pins it already
    assert sizes.bound({**get, "IfMatch": '"e2"'}) is None
    assert sizes.bound({**get, "PartNumber": 1}) is None
    sizes.saw("HeadObject", get, {"ETag": '"e3"', "ContentLength": NATIVE_GET_LIMIT + 1})
    assert sizes.bound(get) is None  # too big to arrive whole
    sizes.saw("GetObject", get, {"ETag": '"e4"', "ContentLength": 10})
    assert sizes.bound(get) == '"e4"'
    sizes.saw("GetObject", {**get, "Range": "bytes=0-1"}, {"ETag": '"e5"', "ContentLength": 2})
    assert sizes.bound(get) == '"e4"'  # a part tells nothing of the whole
    versioned = {"ETag": '"e4"', "ContentLength": 10, "VersionId": "v1"}
    sizes.saw("GetObject", get, versioned)
    assert sizes.bound({**get, "VersionId": "v1"}) == '"e4"'
    assert sizes.bound({**get, "VersionId": "v0"}) is None  # another version: not seen
    sizes.saw("CopyObject", get, {})
    assert sizes.bound(get) is None
    sizes.saw("PutObject", {**get, "Body": "é"}, {"ETag": '"e6"'})
    assert sizes.bound(get) == '"e6"'
    sizes.saw("PutObject", {**get, "Body": open(os.devnull, "rb")}, {"ETag": '"e7"'})  # noqa: SIM115
    assert sizes.bound(get) is None  # a file's size is not counted: forgotten
    for key in ("a", "b", "c"):
        sizes.saw("PutObject", {"Bucket": "b", "Key": key, "Body": b"x"}, {"ETag": '"x"'})
    assert sizes.bound({"Bucket": "b", "Key": "a"}) is None  # the oldest went first
    assert sizes.bound({"Bucket": "b", "Key": "c"}) == '"x"'
