"""``Callback=`` of boto3's managed transfers on a resilient_s3 client: a retried attempt, a
resumed download or a re-uploaded lost write never counts bytes twice (as with boto3, the sum of
the progress amounts is the object's size)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind

SIZE = 3 * 1024 * 1024
#: Below the threshold: one PutObject / GetObject / CopyObject per transfer.
ONE_REQUEST = TransferConfig(multipart_threshold=8 * 1024 * 1024)
#: Above it: parts of 5 MiB (UploadPart / ranged GetObject / UploadPartCopy).
PARTS = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
BIG = 12 * 1024 * 1024


def clients(proxy: Any, policy: RetryPolicy) -> dict[str, Any]:
    kwargs = proxy.client_kwargs()
    return {
        "boto3": boto3.client("s3", **kwargs),
        "resilient_s3": resilient_s3.client("s3", retry=policy, **kwargs),
    }


def once(kind: FaultKind, operation: str) -> Fault:
    return Fault(kind, rate=1.0, limit=1, operations=frozenset({operation}))


@pytest.mark.parametrize(
    ("fault", "size", "config"),
    [
        (once(FaultKind.RESET_AFTER, "PutObject"), SIZE, ONE_REQUEST),
        (once(FaultKind.INTERNAL_ERROR, "PutObject"), SIZE, ONE_REQUEST),
        (once(FaultKind.LOST_WRITE, "PutObject"), SIZE, ONE_REQUEST),
        (once(FaultKind.RESET_AFTER, "UploadPart"), BIG, PARTS),
    ],
    ids=["reset-after-put", "500-on-put", "lost-write", "reset-after-part"],
)
def test_upload_fileobj_progress_adds_up_to_the_size(
    fault_proxy: Any,
    s3_bucket: str,
    quick_policy: RetryPolicy,
    fault: Fault,
    size: int,
    config: TransferConfig,
) -> None:
    data = os.urandom(size)
    for name, s3 in clients(fault_proxy, quick_policy).items():
        fault_proxy.set_faults([fault])
        fault_proxy.reset_counters()
        seen: list[int] = []
        s3.upload_fileobj(
            io.BytesIO(data), s3_bucket, f"up-{name}", Callback=seen.append, Config=config
        )
        assert fault_proxy.counters[fault.kind.value] >= 1, name
        assert sum(seen) == size, name
    stored = boto3.client("s3", **fault_proxy.client_kwargs())
    assert stored.get_object(Bucket=s3_bucket, Key="up-resilient_s3")["Body"].read() == data


def transfer(kind: str) -> Callable[[Any, str, list[int], TransferConfig], None]:
    def download(s3: Any, bucket: str, seen: list[int], config: TransferConfig) -> None:
        out = io.BytesIO()
        s3.download_fileobj(bucket, "source", out, Callback=seen.append, Config=config)
        assert len(out.getvalue()) == sum(seen)

    def copy(s3: Any, bucket: str, seen: list[int], config: TransferConfig) -> None:
        source = {"Bucket": bucket, "Key": "source"}
        s3.copy(source, bucket, "copied", Callback=seen.append, Config=config)

    return {"download": download, "copy": copy}[kind]


@pytest.mark.parametrize(
    ("kind", "fault", "size", "config"),
    [
        ("download", once(FaultKind.TRUNCATE_BODY, "GetObject"), SIZE, ONE_REQUEST),
        ("download", once(FaultKind.RESET_AFTER, "GetObject"), BIG, PARTS),
        ("copy", once(FaultKind.INTERNAL_ERROR, "CopyObject"), SIZE, ONE_REQUEST),
        ("copy", once(FaultKind.RESET_AFTER, "UploadPartCopy"), BIG, PARTS),
    ],
    ids=["truncated-get", "reset-ranged-get", "500-on-copy", "reset-part-copy"],
)
def test_download_and_copy_progress_adds_up_to_the_size(
    fault_proxy: Any,
    s3_bucket: str,
    quick_policy: RetryPolicy,
    kind: str,
    fault: Fault,
    size: int,
    config: TransferConfig,
) -> None:
    boto3.client("s3", **fault_proxy.client_kwargs()).put_object(
        Bucket=s3_bucket, Key="source", Body=os.urandom(size)
    )
    for name, s3 in clients(fault_proxy, quick_policy).items():
        fault_proxy.set_faults([fault])
        fault_proxy.reset_counters()
        seen: list[int] = []
        transfer(kind)(s3, s3_bucket, seen, config)
        assert fault_proxy.counters[fault.kind.value] >= 1, name
        assert sum(seen) == size, name
        if name == "resilient_s3":
            assert min(seen) > 0  # resumed or retried before any byte: never taken back


def _keep_on_botocore(**_: Any) -> None:
    """A caller's handler: it keeps every call on botocore."""


@pytest.mark.native
@pytest.mark.parametrize(("size", "config"), [(SIZE, ONE_REQUEST), (BIG, PARTS)],
                         ids=["one-request", "parts"])  # fmt: skip
def test_upload_file_progress_is_the_size_on_both_paths(
    s3_server: Any, s3_bucket: str, quick_policy: RetryPolicy, tmp_path: Any,
    size: int, config: TransferConfig,
) -> None:  # fmt: skip
    """s3transfer's parts (``ReadFileChunk``, callbacks off while botocore signs and checksums
    them) count each byte once on the native path, as on botocore."""
    pytest.importorskip("awscrt")
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(size))
    totals, paths = {}, {}
    for name in ("native", "botocore"):
        with resilient_s3.client("s3", retry=quick_policy, **s3_server.client_kwargs()) as s3:
            if name == "botocore":
                s3.meta.events.register("before-send.s3", _keep_on_botocore)
            seen: list[int] = []
            s3.upload_file(str(source), s3_bucket, name, Callback=seen.append, Config=config)
            totals[name], paths[name] = sum(seen), s3.stats.paths
            stored = s3.get_object(Bucket=s3_bucket, Key=name)["Body"].read()
            assert stored == source.read_bytes(), name
    assert totals == {"native": size, "botocore": size}
    steps = 1 if size < BIG else 2 + -(-size // (5 * 1024 * 1024))  # Create, parts, Complete
    # and the GetObject, on the same path
    assert paths == {"native": {"crt": steps + 1}, "botocore": {"botocore": steps + 1}}
