"""The asyncio door's lifetime: cancellation stops waiting at once, close() releases the worker
threads, a client made before fork() works in the child, nothing keeps the process alive."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

import resilient_s3.aio
from resilient_s3.testing import Fault, FaultKind


def _aio_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("resilient-s3-aio")]


def test_a_cancelled_call_stops_waiting_at_once(fault_proxy: Any, s3_bucket: str) -> None:
    """The request is held 2 s by the proxy; the task is cancelled after 0.2 s and is done
    within a few milliseconds; its thread finishes the request in the background."""
    fault_proxy.set_faults(
        [Fault(FaultKind.LATENCY, rate=1.0, operations=frozenset({"PutObject"}), seconds=2.0)]
    )

    async def main() -> float:
        async with resilient_s3.aio.client("s3", **fault_proxy.client_kwargs()) as s3:
            task = asyncio.create_task(s3.put_object(Bucket=s3_bucket, Key="k", Body=b"x"))
            await asyncio.sleep(0.2)
            cancelled_at = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - cancelled_at

    assert asyncio.run(main()) < 0.1


def test_close_releases_the_worker_threads(s3_server: Any, s3_bucket: str) -> None:
    async def main() -> int:
        async with resilient_s3.aio.client(
            "s3", max_pool_connections=8, **s3_server.client_kwargs()
        ) as s3:
            await asyncio.gather(
                *(s3.put_object(Bucket=s3_bucket, Key=f"t/{i}", Body=b"x") for i in range(40))
            )  # native, their read-backs too (a shared ListObjectsV2 page is native since)
            await asyncio.gather(*(s3.head_bucket(Bucket=s3_bucket) for _ in range(40)))
            return len(_aio_threads())

    before = set(_aio_threads())
    started = asyncio.run(main())
    assert 1 <= started - len(before) <= 8  # bounded by max_pool_connections
    deadline = time.monotonic() + 5
    while set(_aio_threads()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(_aio_threads()) - before  # every thread of this client has ended


def test_a_client_is_not_pickled(s3_server: Any) -> None:
    s3 = resilient_s3.aio.client("s3", **s3_server.client_kwargs())
    with pytest.raises(TypeError, match="asyncio resilient_s3 client cannot be pickled"):
        pickle.dumps(s3)
    asyncio.run(s3.close())


def _use_in_child(s3: Any, bucket: str, answers: Any) -> None:
    async def main() -> bytes:
        await s3.put_object(Bucket=bucket, Key="child", Body=b"from the child")
        body = (await s3.get_object(Bucket=bucket, Key="child"))["Body"]
        data: bytes = await body.read()
        return data

    answers.put(asyncio.run(main()))


@pytest.mark.skipif(sys.platform == "win32", reason="fork() is POSIX")
def test_a_client_made_before_fork_works_in_the_child(s3_server: Any, s3_bucket: str) -> None:
    s3 = resilient_s3.aio.client("s3", **s3_server.client_kwargs())

    async def warm() -> None:  # the parent's worker threads exist when it forks
        await s3.put_object(Bucket=s3_bucket, Key="parent", Body=b"x")

    asyncio.run(warm())
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_use_in_child, args=(s3, s3_bucket, answers))
    child.start()
    try:
        assert answers.get(timeout=60) == b"from the child"
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    asyncio.run(s3.close())


def test_nothing_keeps_the_process_alive_at_exit(s3_server: Any) -> None:
    """A request still running in a worker thread (the proxy is silent) when the program ends:
    the interpreter exits at once (daemon threads), and aborts nothing."""
    code = f"""
import asyncio, socket, resilient_s3.aio
from botocore.config import Config
silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen()
url = "http://127.0.0.1:%d" % silent.getsockname()[1]
kwargs = {s3_server.client_kwargs()!r}
kwargs["endpoint_url"] = url
s3 = resilient_s3.aio.client("s3", config=Config(read_timeout=60), **kwargs)
async def main():
    task = asyncio.create_task(s3.list_buckets())
    await asyncio.sleep(0.5)
    task.cancel()
asyncio.run(main())
print("bye")
"""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "bye"
    assert time.monotonic() - started < 20  # not the 60 s read timeout


def test_a_body_read_cancelled_mid_way_skips_no_byte(
    s3_server: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    """The worker thread goes on reading after its caller was cancelled; the bytes it reads go
    to nobody, so the next read reopens the object where the caller stopped."""
    data = bytes(range(256)) * (32 * 4096)  # 32 MiB: one read of it takes a while
    s3_server_client.put_object(Bucket=s3_bucket, Key="big", Body=data)

    async def main() -> tuple[bytes, int]:
        async with resilient_s3.aio.client("s3", **s3_server.client_kwargs()) as s3:
            body = (await s3.get_object(Bucket=s3_bucket, Key="big"))["Body"]
            got = await body.read(1000)
            task = asyncio.create_task(body.read(len(data)))
            await asyncio.sleep(0.005)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                got += await task  # done before it could be cancelled: its bytes count
            got += await body.read()
            return got, s3.stats.resumes

    got, resumes = asyncio.run(main())
    assert len(got) == len(data)
    assert got == data
    assert resumes <= 1
