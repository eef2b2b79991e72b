"""Defect 1: verification must never undo a delete (or any newer write) by another client.

A read-back 404 cannot tell "never stored" from "stored, then deleted by someone": the client
re-uploads a missing key only when the server answered that 404 within
``VerifyPolicy.lost_write_window`` of acknowledging the write (docs/consistency.md). Here every
HeadObject/ListObjectsV2 is held longer than the window by the proxy while a
second client deletes the key. The tests set a 1 s window and hold read-backs 1.5 s (the
default window, 10 s, would make each test wait 11 s).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from resilient_s3 import VerificationError, VerifyPolicy
from resilient_s3.batch import BatchClient
from resilient_s3.testing import Fault, FaultKind

from .conftest import proxied

HELD = 1.5  # seconds the proxy holds each read-back before forwarding it
WINDOW = 1.0  # VerifyPolicy.lost_write_window in these tests


def _exists(s3_server_client: Any, bucket: str, key: str) -> bool:
    answer = s3_server_client.list_objects_v2(Bucket=bucket, Prefix=key)
    return any(entry["Key"] == key for entry in answer.get("Contents", []))


def _delete_later(s3_server_client: Any, bucket: str, key: str) -> threading.Timer:
    """A second client (straight to the server) deletes ``key`` 0.3 s from now."""
    timer = threading.Timer(0.3, lambda: s3_server_client.delete_object(Bucket=bucket, Key=key))
    timer.start()
    return timer


def test_a_key_deleted_while_its_read_back_is_held_is_not_uploaded_again(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    fault_proxy.set_faults(
        [Fault(FaultKind.LATENCY, seconds=HELD, operations=frozenset({"HeadObject"}))]
    )
    policy = VerifyPolicy(visibility_timeout=0, lost_write_window=WINDOW)
    s3 = proxied(fault_proxy, verify_writes=policy)
    timer = _delete_later(s3_server_client, s3_bucket, "k")
    with pytest.raises(VerificationError) as caught:
        s3.put_object(Bucket=s3_bucket, Key="k", Body=b"data")
    timer.join()
    assert caught.value.reason == "absent"
    assert f"s3://{s3_bucket}/k" in str(caught.value)
    assert fault_proxy.counters["op:PutObject"] == 1
    assert not _exists(s3_server_client, s3_bucket, "k")


def test_a_key_deleted_before_its_listing_is_not_uploaded_again_by_a_batch(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    policy = VerifyPolicy(lost_write_window=WINDOW)
    batch: BatchClient = proxied(fault_proxy, verify_writes=policy).batch
    fault_proxy.set_faults(
        [Fault(FaultKind.LATENCY, seconds=HELD, operations=frozenset({"ListObjectsV2"}))]
    )
    timer = _delete_later(s3_server_client, s3_bucket, "k")
    report = batch.put(s3_bucket, [("k", b"data")])
    timer.join()
    assert report.succeeded == 0
    (failure,) = report.failed
    assert isinstance(failure.error, VerificationError)
    assert failure.error.reason == "absent"
    assert fault_proxy.counters["op:PutObject"] == 1
    assert not _exists(s3_server_client, s3_bucket, "k")


def test_a_write_lost_and_found_absent_at_once_is_still_uploaded_again(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any
) -> None:
    """The other side of the rule: a prompt 404 is a lost write, repaired as before."""
    fault_proxy.set_faults(
        [Fault(FaultKind.LOST_WRITE, limit=1, operations=frozenset({"PutObject"}))]
    )
    s3 = proxied(fault_proxy, verify_writes=VerifyPolicy(visibility_timeout=0))
    s3.put_object(Bucket=s3_bucket, Key="k", Body=b"data")
    assert fault_proxy.counters["op:PutObject"] == 2
    assert _exists(s3_server_client, s3_bucket, "k")
