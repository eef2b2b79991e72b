"""The peers ``bench_batch.py`` compares ``s3.batch`` with, each putting then getting the same
objects: a naive boto3 thread pool, s5cmd, obstore (asyncio) and ``aws s3 cp --recursive``.

Each function returns the wall seconds of the transfer alone (files are written, buckets made
and clients built before the clock starts). s5cmd and the AWS CLI run as child processes
reading files from a directory; their CPU is read from ``RUSAGE_CHILDREN``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

__all__ = ["NaivePool", "aws_cli", "obstore_get", "obstore_put", "peer_env", "s5cmd", "tool_path"]


class NaivePool:
    """What people write first: one default boto3 client (pool of 10, botocore's retries),
    64 threads, ``put_object``/``get_object`` per key."""

    def __init__(self, kwargs: Mapping[str, Any], threads: int = 64, **config: Any) -> None:
        from botocore.config import Config

        self.client: Any = boto3.client("s3", config=Config(**config) if config else None, **kwargs)
        self.threads = threads

    def put(self, bucket: str, bodies: Mapping[str, bytes]) -> float:
        """Seconds to put ``bodies``."""
        started = time.perf_counter()
        with ThreadPoolExecutor(self.threads) as pool:
            list(
                pool.map(
                    lambda kv: self.client.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]),
                    bodies.items(),
                )
            )
        return time.perf_counter() - started

    def get(self, bucket: str, keys: list[str]) -> float:
        """Seconds to get ``keys`` into memory."""
        started = time.perf_counter()
        with ThreadPoolExecutor(self.threads) as pool:
            list(
                pool.map(
                    lambda k: self.client.get_object(Bucket=bucket, Key=k)["Body"].read(), keys
                )
            )
        return time.perf_counter() - started


def peer_env(kwargs: Mapping[str, Any]) -> dict[str, str]:
    """The environment of a peer command: the server's keys and region, no AWS config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=kwargs["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=kwargs["aws_secret_access_key"],
        AWS_DEFAULT_REGION=kwargs["region_name"],
        AWS_REGION=kwargs["region_name"],
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


def tool_path(name: str) -> str:
    """A peer command's executable, beside this Python's or on the PATH."""
    found = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not installed (pip install {name})")
    return found


def _run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def s5cmd(kwargs: Mapping[str, Any], source: str, target: str) -> float:
    """``s5cmd cp`` (256 workers by default); ``source``/``target`` are a directory glob and
    an ``s3://`` URL, or the reverse."""
    argv = [tool_path("s5cmd"), "--endpoint-url", kwargs["endpoint_url"], "cp", source, target]
    return _run(argv, peer_env(kwargs))


def aws_cli(kwargs: Mapping[str, Any], source: str, target: str) -> float:
    """``aws s3 cp --recursive`` with its defaults (10 concurrent requests)."""
    argv = [
        tool_path("aws"),
        "s3",
        "cp",
        "--recursive",
        "--only-show-errors",
        source,
        target,
        "--endpoint-url",
        kwargs["endpoint_url"],
    ]
    return _run(argv, peer_env(kwargs))


def _store(kwargs: Mapping[str, Any], bucket: str) -> Any:
    from obstore.store import S3Store

    return S3Store(
        bucket,
        endpoint=kwargs["endpoint_url"],
        region=kwargs["region_name"],
        access_key_id=kwargs["aws_access_key_id"],
        secret_access_key=kwargs["aws_secret_access_key"],
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )


async def _gather(calls: list[Any], concurrency: int) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Any) -> Any:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


def obstore_put(
    kwargs: Mapping[str, Any], bucket: str, bodies: Mapping[str, bytes], concurrency: int = 64
) -> float:
    """obstore ``put_async`` per key, ``concurrency`` at once, on one asyncio loop."""
    import obstore

    store = _store(kwargs, bucket)
    calls = [lambda k=k, v=v: obstore.put_async(store, k, v) for k, v in bodies.items()]
    started = time.perf_counter()
    asyncio.run(_gather(calls, concurrency))
    return time.perf_counter() - started


def obstore_get(
    kwargs: Mapping[str, Any], bucket: str, keys: list[str], concurrency: int = 64
) -> float:
    """obstore ``get_async`` + ``bytes_async`` per key."""
    import obstore

    store = _store(kwargs, bucket)

    async def get(key: str) -> bytes:
        result = await obstore.get_async(store, key)
        return bytes(await result.bytes_async())

    started = time.perf_counter()
    asyncio.run(_gather([lambda k=k: get(k) for k in keys], concurrency))
    return time.perf_counter() - started


def write_files(directory: Path, bodies: Mapping[str, bytes]) -> None:
    """Each body to ``directory/<key>`` (for the command-line tools)."""
    for key, body in bodies.items():
        path = directory / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
