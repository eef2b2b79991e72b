"""The sync bridge and the per-client state."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest

import resilient_s3
from resilient_s3.batch import BatchEvent


def test_sync_batches_of_a_client_share_one_background_loop(rs3: Any, s3_bucket: str) -> None:
    batch = rs3.batch
    threads: list[str] = []

    def progress(event: BatchEvent) -> None:
        threads.append(threading.current_thread().name)

    batch.head(s3_bucket, ["a"], progress=progress)
    rs3.batch.head(s3_bucket, ["b"], progress=progress)
    assert set(threads) == {"resilient-s3-batch-loop"}
    derived = rs3.with_options(verify_writes=False)
    assert rs3.batch._shared.batch_state() is derived.batch._shared.batch_state()


def test_a_sync_call_from_the_batch_loop_is_refused(rs3: Any, s3_bucket: str) -> None:
    batch = rs3.batch

    def progress(event: BatchEvent) -> None:
        if event.kind == "started":
            batch.head(s3_bucket, ["nested"])

    with pytest.raises(RuntimeError, match="use the \\*_async method"):
        batch.head(s3_bucket, ["a"], progress=progress)


def test_the_state_and_its_loop_go_with_the_client(fault_proxy: Any, s3_bucket: str) -> None:
    s3 = resilient_s3.client("s3", **fault_proxy.client_kwargs())
    s3.batch.head(s3_bucket, ["a"])
    loop_thread = s3.batch._shared.batch_state().background().thread
    assert loop_thread.is_alive()

    del s3
    for _ in range(50):  # the facade is in reference cycles; the loop thread may still hold it
        gc.collect()  # for a moment after the batch returned, so collect until it is gone
        loop_thread.join(timeout=0.1)
        if not loop_thread.is_alive():
            break
    assert not loop_thread.is_alive()
