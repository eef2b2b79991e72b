"""The differential fault suite: one table of faults, each run through the botocore plane and
the native (CRT) plane of ``s3.batch``, the outcomes compared field by field.

An outcome is the result's bytes (or, for a put, the bytes the server holds), or the error's
type, kind and attempts. On every row the native plane must do the same or strictly better:
where botocore succeeds it succeeds with the right bytes, retrying no more; where botocore
fails it succeeds (with the right bytes) or fails the same way in no more attempts. Each row
also says what botocore does, so a row whose fault stopped biting fails too. Retries never
sleep (an injected sleep); read timeouts are a second where a row needs one.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
from botocore.config import Config

import resilient_s3
from resilient_s3 import Backoff, ErrorKind, RetryPolicy
from resilient_s3.batch import BatchReport
from resilient_s3.testing import Fault, FaultKind, FaultProxy, S3Server

from ..conftest import NO_NATIVE

if NO_NATIVE is not None:  # before the native transport's awscrt modules are imported
    pytest.skip(NO_NATIVE, allow_module_level=True)

from resilient_s3._transports.crt.download import GET_PART_SIZE

pytestmark = pytest.mark.native

KiB = 1024
BUCKET = "differential"
KEY = "obj/ect"
#: A host name botocore accepts but no resolver can look up (255 characters: longer than a DNS
#: name may be), so the lookup fails without a query leaving this machine.
UNRESOLVABLE = ".".join(["x" * 63] * 4)

#: botocore's outcome: "ok", or the error's type name and kind.
Expected = str | tuple[str, ErrorKind]


@dataclass(frozen=True)
class Case:
    """One row: the object, the faults, and what botocore does with them."""

    name: str
    expected: Expected
    faults: tuple[Fault, ...] = ()
    size: int = 64 * KiB
    into: str = "memory"  # "memory", "files", or "put"
    read_timeout: float | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)  # sleep and random: the suite's
    replace: bool = False  # each retry's sleep replaces the object (another writer)
    where: str = "proxy"  # "proxy" (moto behind the fault proxy), "tls", "dns"
    extra: dict[str, Any] = field(default_factory=dict)  # a put's extra arguments
    body: Callable[[bytes], Any] = bytes  # a put's body, made from the bytes


def _cast_to_ints(data: bytes) -> memoryview:
    return memoryview(data).cast("I")


TWO = RetryPolicy(network_after_send=Backoff(max_attempts=2, base=0.0, cap=0.0))
THREE_THROTTLED = RetryPolicy(throttled=Backoff(max_attempts=3, base=0.0, cap=0.0))
LATER = Fault(FaultKind.TRUNCATE_BODY, limit=1)
SLOW = Fault(FaultKind.SLOW_BODY, bytes_per_second=256 * KiB)
STALL = Fault(FaultKind.LATENCY, seconds=1.5)

CASES = [
    Case("small", "ok", size=KiB),
    Case("empty", "ok", size=0),
    Case("empty into a file", "ok", size=0, into="files"),
    Case("one byte", "ok", size=1),
    Case("odd-sized, several parts, into a file", "ok", size=2 * GET_PART_SIZE + 7, into="files"),
    Case("odd-sized into memory", "ok", size=GET_PART_SIZE + 12345),
    Case("bit flip", ("FlexibleChecksumError", ErrorKind.PERMANENT), (Fault(FaultKind.BIT_FLIP),)),
    Case(
        "bit flip into a file",
        ("FlexibleChecksumError", ErrorKind.PERMANENT),
        (Fault(FaultKind.BIT_FLIP),),
        into="files",
    ),
    Case(
        "bit flip in a later part",
        ("FlexibleChecksumError", ErrorKind.PERMANENT),
        (Fault(FaultKind.BIT_FLIP),),
        size=2 * GET_PART_SIZE + 7,
        into="files",
    ),
    Case("truncation", "ok", (LATER,)),
    Case("truncation into a file", "ok", (LATER,), size=GET_PART_SIZE + 7, into="files"),
    Case(
        "extra bytes",
        ("FlexibleChecksumError", ErrorKind.PERMANENT),
        (Fault(FaultKind.EXTRA_BYTES, limit=1),),
    ),
    Case(
        "extra bytes into a file",
        ("FlexibleChecksumError", ErrorKind.PERMANENT),
        (Fault(FaultKind.EXTRA_BYTES, limit=1),),
        into="files",
    ),
    Case("slow flow", "ok", (SLOW,), size=512 * KiB, read_timeout=1.0),
    Case("slow flow into a file", "ok", (SLOW,), size=512 * KiB, into="files", read_timeout=1.0),
    Case("a stall", "ok", (Fault(FaultKind.LATENCY, seconds=1.5, limit=1),), read_timeout=1.0),
    Case(
        "stalls",
        ("ReadTimeoutError", ErrorKind.NETWORK_AFTER_SEND),
        (STALL,),
        read_timeout=1.0,
        policy=TWO,
    ),
    Case(
        "stalls into a file",
        ("ReadTimeoutError", ErrorKind.NETWORK_AFTER_SEND),
        (STALL,),
        into="files",
        read_timeout=1.0,
        policy=TWO,
    ),
    Case("reset before", "ok", (Fault(FaultKind.RESET_BEFORE, limit=1),)),
    Case("reset after", "ok", (Fault(FaultKind.RESET_AFTER, limit=1),)),
    Case("SlowDown storm", "ok", (Fault(FaultKind.SLOWDOWN, limit=3),)),
    Case(
        "SlowDown without end",
        ("ClientError", ErrorKind.THROTTLED),
        (Fault(FaultKind.SLOWDOWN),),
        policy=THREE_THROTTLED,
    ),
    Case("500", "ok", (Fault(FaultKind.INTERNAL_ERROR, limit=2),)),
    Case(
        "replaced mid-download",
        ("ObjectChangedError", ErrorKind.PERMANENT),
        (LATER,),
        size=GET_PART_SIZE + 7,
        replace=True,
    ),
    Case(
        "replaced mid-download, If-Match ignored",
        ("ObjectChangedError", ErrorKind.PERMANENT),
        (LATER, Fault(FaultKind.IGNORE_IF_MATCH)),
        size=GET_PART_SIZE + 7,
        replace=True,
    ),
    Case(
        "replaced mid-download into a file",
        ("ObjectChangedError", ErrorKind.PERMANENT),
        (LATER,),
        size=2 * GET_PART_SIZE + 7,
        into="files",
        replace=True,
    ),
    Case(
        "replaced mid-download into a file, If-Match ignored",
        ("ObjectChangedError", ErrorKind.PERMANENT),
        (LATER, Fault(FaultKind.IGNORE_IF_MATCH)),
        size=2 * GET_PART_SIZE + 7,
        into="files",
        replace=True,
    ),
    Case("bad certificate", ("SSLError", ErrorKind.PERMANENT), where="tls"),
    Case("bad certificate, put", ("SSLError", ErrorKind.PERMANENT), where="tls", into="put"),
    Case("DNS failure", ("EndpointConnectionError", ErrorKind.NETWORK_BEFORE_SEND), where="dns"),
    Case("put a memoryview", "ok", into="put", body=memoryview),
    Case("put a memoryview of 4-byte items", "ok", into="put", body=_cast_to_ints),
    Case("put a bytearray", "ok", into="put", body=bytearray),
    Case(
        "put, reset after it was stored", "ok", (Fault(FaultKind.RESET_AFTER, limit=1),), into="put"
    ),
]


@dataclass(frozen=True)
class Outcome:
    """What one plane made of a row."""

    data: bytes | None = field(repr=False)  # the bytes (a put: the server's); None: it failed
    error: str | None = None
    kind: ErrorKind | None = None
    attempts: int | None = None
    retries: int = 0

    def shown(self) -> Expected:
        if self.data is not None:
            return "ok"
        assert self.error is not None
        assert self.kind is not None
        return self.error, self.kind


@pytest.fixture(scope="module")
def tls_server() -> Iterator[S3Server]:
    with S3Server(tls=True) as server:
        yield server


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.timeout(120)
def test_the_native_plane_does_as_well_as_botocore(
    case: Case,
    fault_proxy: FaultProxy,
    s3_server: S3Server,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    direct = boto3.client("s3", **s3_server.client_kwargs())
    if BUCKET not in {b["Name"] for b in direct.list_buckets()["Buckets"]}:
        direct.create_bucket(Bucket=BUCKET)
    kwargs: dict[str, Any] = dict(fault_proxy.client_kwargs())
    if case.where == "tls":
        kwargs["endpoint_url"] = request.getfixturevalue("tls_server").endpoint_url
    elif case.where == "dns":
        kwargs["endpoint_url"] = f"http://{UNRESOLVABLE}:9"

    outcomes = {}
    planes: tuple[Literal["botocore", "crt"], ...] = ("botocore", "crt")
    for plane in planes:
        stored = random.Random(case.name).randbytes(case.size)
        if case.into != "put":
            direct.put_object(Bucket=BUCKET, Key=KEY, Body=stored)  # with its CRC32
        fault_proxy.set_faults(case.faults)  # limits count from zero again
        began = time.monotonic()
        outcomes[plane] = _run(case, plane, kwargs, direct, stored, tmp_path / plane)
        took = time.monotonic() - began
        if case.where == "tls":
            assert took < 10, f"{plane}: a certificate that does not verify took {took:.1f} s"
        if case.into != "put" and outcomes[plane].data is not None:
            now = direct.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
            assert outcomes[plane].data in (stored, now), f"{plane} returned wrong bytes"
    boto, native = outcomes["botocore"], outcomes["crt"]

    assert boto.shown() == case.expected, f"botocore: {boto}"
    if native.data is not None:  # the same or better: it succeeded, with the right bytes
        if boto.data is not None:
            assert native.retries <= boto.retries, f"native {native} / botocore {boto}"
    else:
        assert native.shown() == boto.shown(), f"native {native} / botocore {boto}"
        assert native.attempts is not None
        assert boto.attempts is not None
        assert native.attempts <= boto.attempts, f"native {native} / botocore {boto}"


def _run(
    case: Case,
    plane: Literal["botocore", "crt"],
    kwargs: dict[str, Any],
    direct: Any,
    stored: bytes,
    dest: Path,
) -> Outcome:
    def sleep(_seconds: float) -> None:  # a retry's sleep: never for real
        if case.replace:
            direct.put_object(Bucket=BUCKET, Key=KEY, Body=random.randbytes(case.size))

    policy = dataclasses.replace(case.policy, sleep=sleep, random=lambda: 0.0)
    config = Config(read_timeout=case.read_timeout, connect_timeout=5)
    with resilient_s3.client("s3", retry=policy, config=config, **kwargs) as s3:
        report: BatchReport
        if case.into == "put":
            item = (KEY, case.body(stored), case.extra)
            report = s3.batch.put(BUCKET, [item], verify_writes="off", data_plane=plane)
        else:
            target = dest if case.into == "files" else None
            report = s3.batch.get(BUCKET, [KEY], dest=target, data_plane=plane)
    retries = sum(report.stats.retries.values())
    if report.failed:
        (failure,) = report.failed
        error = type(failure.error).__name__
        return Outcome(None, error, failure.kind, failure.attempts, retries)
    if case.into == "put":
        data = direct.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
        assert data == stored, f"{plane} stored other bytes"
    elif case.into == "files":
        (path,) = [p for p in dest.rglob("*") if p.is_file()]  # and no .part file left
        data = path.read_bytes()
    else:
        data = report.data[KEY]
    return Outcome(data, retries=retries)
