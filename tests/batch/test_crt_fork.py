"""A client that ran batches on the native plane keeps working in children made by ``fork()``
(multiprocessing's fork start method, gunicorn and Celery prefork workers): the native client
notices it is in a new process and builds its awscrt client again there."""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Any

import pytest
from botocore.config import Config

import resilient_s3

from . import forked_work
from .conftest import make_bodies

pytestmark = [
    pytest.mark.native,
    pytest.mark.skipif(sys.platform == "win32", reason="no fork() on Windows"),
]


@pytest.fixture
def module_client(fault_proxy: Any, quick_policy: Any) -> Any:
    config = Config(read_timeout=5, connect_timeout=5)
    kwargs = fault_proxy.client_kwargs()
    forked_work.CLIENT = resilient_s3.client("s3", retry=quick_policy, config=config, **kwargs)
    yield forked_work.CLIENT
    forked_work.CLIENT.close()
    forked_work.CLIENT = None


def test_a_pool_of_forked_workers_downloads_with_the_parents_client(
    module_client: Any, s3_bucket: str
) -> None:
    bodies = make_bodies(40, "fork/")
    assert module_client.batch.put(s3_bucket, bodies, data_plane="crt").ok  # the parent's CRT
    keys = list(bodies)
    chunks = [keys[i : i + 10] for i in range(0, len(keys), 10)]

    with multiprocessing.get_context("fork").Pool(2) as pool:
        pending = pool.starmap_async(forked_work.get_in_child, [(s3_bucket, c) for c in chunks])
        results = pending.get(timeout=60)  # it hung: no answer in 30 s per item

    assert {pid for pid, _, _ in results} - {os.getpid()}  # they ran in the children
    assert all(ok for _, ok, _ in results)
    assert {k: v for _, _, data in results for k, v in data.items()} == bodies
    again = module_client.batch.get(s3_bucket, keys, data_plane="crt")  # the parent still works
    assert dict(again.data) == bodies


def test_a_forked_child_uploads_then_exits_cleanly(module_client: Any, s3_bucket: str,
                                                   s3_server_client: Any) -> None:  # fmt: skip
    assert module_client.batch.put(s3_bucket, {"parent": b"p"}, data_plane="crt").ok
    context = multiprocessing.get_context("fork")

    child = context.Process(target=forked_work.put_in_child, args=(s3_bucket, "child"))
    child.start()
    child.join(timeout=60)

    assert child.exitcode == 0
    answer = s3_server_client.get_object(Bucket=s3_bucket, Key="child")
    assert answer["Body"].read() == b"child"
