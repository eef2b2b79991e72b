"""One big GetObject streamed (issue 19): throughput and memory of each reader, SeaweedFS on
127.0.0.1.

An object of ``--mib`` MiB (1 GiB by default) is stored once; then each reader, in a fresh
process of its own, reads it to the end in 1 MiB chunks: plain boto3, the sync facade (an
object it never saw: botocore streams it; ``_transports/sizes.py``), the sync facade after a
HeadObject (known, but bigger than the native limit: botocore still), the asyncio facade,
obstore's async stream, and ``s5cmd cat`` to /dev/null. Each Python reader reports its wall time,
its CPU and how much its peak resident memory (``VmHWM``: Linux) grew during the read; s5cmd
its wall time only.

    python benchmarks/bench_stream.py [--mib 1024] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batch_peers import peer_env, tool_path

from resilient_s3.testing import SeaweedFSServer

MIB = 1024 * 1024

_READER = r"""
import asyncio, json, sys, time

kwargs, bucket, key, reader = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
CHUNK = 1024 * 1024


def peak() -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def sync_read(client, head=False):
    client.head_object(Bucket=bucket, Key="warm")  # connections made, the native client built
    if head:
        client.head_object(Bucket=bucket, Key=key)
    base, got = peak(), 0
    for chunk in client.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(CHUNK):
        got += len(chunk)
    return base, got


async def aio_read():
    import resilient_s3.aio

    async with resilient_s3.aio.client("s3", **kwargs) as s3:
        await s3.head_object(Bucket=bucket, Key="warm")
        base, got = peak(), 0
        body = (await s3.get_object(Bucket=bucket, Key=key))["Body"]
        async for chunk in body.iter_chunks(CHUNK):
            got += len(chunk)
        return base, got


async def obstore_read():
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        bucket, endpoint=kwargs["endpoint_url"], region=kwargs["region_name"],
        access_key_id=kwargs["aws_access_key_id"],
        secret_access_key=kwargs["aws_secret_access_key"],
        virtual_hosted_style_request=False, client_options={"allow_http": True},
    )
    await obstore.head_async(store, "warm")
    base, got = peak(), 0
    result = await obstore.get_async(store, key)
    async for chunk in result.stream(min_chunk_size=CHUNK):
        got += len(chunk)
    return base, got


started, cpu = time.perf_counter(), time.process_time()
if reader == "boto3":
    import boto3
    base, got = sync_read(boto3.client("s3", **kwargs))
elif reader.startswith("sync facade"):
    import resilient_s3
    base, got = sync_read(resilient_s3.client("s3", **kwargs), head="HEAD" in reader)
elif reader == "aio facade":
    base, got = asyncio.run(aio_read())
else:
    base, got = asyncio.run(obstore_read())
print(json.dumps({
    "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
    "grew": peak() - base, "got": got,
}))
"""

READERS = ("boto3", "sync facade", "sync facade, HEAD first", "aio facade", "obstore")


def read_in_process(kwargs: dict[str, Any], bucket: str, key: str, reader: str) -> dict[str, float]:
    argv = [sys.executable, "-c", _READER, json.dumps(kwargs), bucket, key, reader]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{reader} failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def s5cmd_cat(kwargs: dict[str, Any], bucket: str, key: str) -> float:
    argv = [tool_path("s5cmd"), "--endpoint-url", kwargs["endpoint_url"], "cat",
            f"s3://{bucket}/{key}"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(argv, env=peer_env(kwargs), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mib", type=int, default=1024, help="the object's size in MiB")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    size = args.mib * MIB
    with SeaweedFSServer() as server, tempfile.TemporaryFile() as source:
        kwargs: dict[str, Any] = dict(server.client_kwargs())
        bucket, key = f"stream-{uuid.uuid4().hex[:8]}", "big"
        plain = boto3.client("s3", **kwargs)
        plain.create_bucket(Bucket=bucket)
        plain.put_object(Bucket=bucket, Key="warm", Body=b"w")
        left = size
        while left:
            left -= source.write(os.urandom(min(8 * MIB, left)))
        source.seek(0)
        plain.upload_fileobj(source, bucket, key)
        rows: list[tuple[str, float, str, str]] = []
        for _ in range(args.rounds):
            for reader in READERS:
                seen = read_in_process(kwargs, bucket, key, reader)
                assert seen["got"] == size, seen
                rows.append((reader, seen["seconds"], f"{seen['cpu']:.1f}",
                             f"{seen['grew'] / MIB:.0f}"))  # fmt: skip
                print(f"  {reader}: done", file=sys.stderr, flush=True)
            try:
                rows.append(("s5cmd cat", s5cmd_cat(kwargs, bucket, key), "-", "-"))
            except FileNotFoundError as missing:
                print(f"  s5cmd: {missing}", file=sys.stderr)
    print(f"one GetObject of {args.mib} MiB read in 1 MiB chunks, SeaweedFS on 127.0.0.1, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'reader':26s} {'MiB/s':>7s} {'CPU s':>6s} {'memory grew, MiB':>17s}")
    for reader, seconds, cpu, grew in rows:
        print(f"{reader:26s} {args.mib / seconds:7.0f} {cpu:>6s} {grew:>17s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
