"""``sync`` against ``s5cmd sync`` on SeaweedFS: a tree of N small files uploaded (initial), synced
again unchanged (no-op), then with 10 % of its files changed (half the same size, half not);
each tool to its own prefix, one run, wall time and client CPU. resilient_s3 runs in-process
(``s3.batch.sync``, the client built before the clock starts) and as the command line
(``resilient-s3 sync``, a child process like s5cmd: its interpreter start and imports included).

``--kill``: a 200 MiB file uploaded by ``resilient-s3 sync`` through the fault proxy, the
process killed (SIGKILL) once half of it is sent, then the same command again: the bytes the
proxy forwarded each time.

    python benchmarks/bench_sync.py [--files 10000] [--size 1024] [--kill] [--kill-size 200]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import batch_peers as peers
import boto3

import resilient_s3
from resilient_s3.testing import FaultProxy, SeaweedFSServer

_MIB = 1024 * 1024
HOUR_AGO = time.time() - 3600


def _env(kwargs: dict[str, Any], state: Path) -> dict[str, str]:
    return {**peers.peer_env(kwargs), "RESILIENT_S3_STATE_DIR": str(state)}


def _child(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU of the child) of one command; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _tree(root: Path, files: int, size: int) -> list[Path]:
    rng = random.Random(0)
    paths = []
    for i in range(files):
        path = root / f"d{i % 100:02d}" / f"f{i:06d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
        os.utime(path, (HOUR_AGO, HOUR_AGO))  # settled files, as a user's mostly are
        paths.append(path)
    return paths


def _change(paths: list[Path], share: float) -> int:
    """Change ``share`` of the files: half keep their size (other bytes), half grow."""
    rng = random.Random(1)
    chosen = rng.sample(paths, int(len(paths) * share))
    for i, path in enumerate(chosen):
        data = path.read_bytes()
        path.write_bytes(bytes(b ^ 0x5A for b in data) if i % 2 else data + b"grown")
    return len(chosen)


def _mirrors(s3: Any, bucket: str, prefix: str, root: Path) -> bool:
    """Whether ``prefix`` holds every file of ``root`` with its MD5 as ETag."""
    listed = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            listed[entry["Key"][len(prefix) :]] = entry["ETag"].strip('"')
    local = {
        path.relative_to(root).as_posix(): hashlib.md5(path.read_bytes()).hexdigest()
        for path in root.rglob("*") if path.is_file()
    }  # fmt: skip
    return listed == local


def run(args: argparse.Namespace) -> None:
    rows: list[tuple[str, str, float, float, str]] = []
    with SeaweedFSServer() as server, tempfile.TemporaryDirectory() as scratch:
        kwargs: dict[str, Any] = dict(server.client_kwargs())
        bucket = f"sync-{uuid.uuid4().hex[:12]}"
        direct = boto3.client("s3", **kwargs)
        direct.create_bucket(Bucket=bucket)
        root = Path(scratch) / "tree"
        paths = _tree(root, args.files, args.size)
        state = Path(scratch) / "state"
        url = kwargs["endpoint_url"]
        s3 = resilient_s3.client("s3", **kwargs)
        cli_env = _env(kwargs, state / "cli")

        def api() -> tuple[float, float, str]:
            cpu, started = time.process_time(), time.perf_counter()
            report = s3.batch.sync(root, f"s3://{bucket}/api", resume=state / "api")
            wall, used = time.perf_counter() - started, time.process_time() - cpu
            counts = report.counts()
            note = f"{counts.get('upload', 0)} sent, {report.transfers.stats.requests} requests"
            if not report.ok:
                note += f"; {report.summary()}"
            return wall, used, note

        def cli() -> tuple[float, float, str]:
            argv = [peers.tool_path("resilient-s3"), "sync", str(root), f"s3://{bucket}/cli",
                    "--endpoint-url", url, "--quiet", "--no-progress"]  # fmt: skip
            return (*_child(argv, cli_env), "")

        def s5cmd() -> tuple[float, float, str]:
            argv = [peers.tool_path("s5cmd"), "--endpoint-url", url, "sync", f"{root}/",
                    f"s3://{bucket}/s5cmd/"]  # fmt: skip
            return (*_child(argv, _env(kwargs, state)), "")

        tools: dict[str, Callable[[], tuple[float, float, str]]] = {
            "resilient_s3 sync (in-process)": api,
            "resilient-s3 sync (command)": cli,
            "s5cmd sync": s5cmd,
        }
        changed = 0
        for scenario in ("initial", "no-op", "10% changed"):
            if scenario == "10% changed":
                changed = _change(paths, 0.10)
            for name, tool in tools.items():
                wall, cpu, note = tool()
                rows.append((scenario, name, wall, cpu, note))
                print(f"{scenario:12} {name:32} {wall:7.2f} s {cpu:7.2f} s CPU  {note}", flush=True)
        for prefix in ("api/", "cli/", "s5cmd/"):
            print(f"{prefix} mirrors the tree: {_mirrors(direct, bucket, prefix, root)}")
        print(
            f"\nSeaweedFS, {args.files} files of {args.size} bytes in 100 folders, "
            f"{changed} changed for the last scenario; one run, wall and client CPU seconds\n"
        )
        print("| scenario | tool | wall s | client CPU s |")
        print("|---|---|---:|---:|")
        for scenario, name, wall, cpu, _ in rows:
            print(f"| {scenario} | {name} | {wall:.2f} | {cpu:.2f} |")
        if args.kill:
            _kill(server, Path(scratch), args.kill_size * _MIB, kwargs)


def _kill(server: SeaweedFSServer, scratch: Path, size: int, kwargs: dict[str, Any]) -> None:
    """A large upload killed at half and run again: the bytes each run forwarded."""
    folder = scratch / "large"
    folder.mkdir()
    (folder / "big.bin").write_bytes(os.urandom(size))
    bucket = f"kill-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", **kwargs).create_bucket(Bucket=bucket)
    with FaultProxy(server.endpoint_url) as proxy:
        argv = [peers.tool_path("resilient-s3"), "sync", str(folder), f"s3://{bucket}/large",
                "--endpoint-url", proxy.endpoint_url, "--quiet", "--no-progress"]  # fmt: skip
        env = _env(kwargs, scratch / "kill-state")
        started = time.perf_counter()
        first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
        while proxy.counters["forwarded_bytes"] < size // 2 and first.poll() is None:
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_after = time.perf_counter() - started
        sent_first = proxy.counters["forwarded_bytes"]
        time.sleep(1.0)
        proxy.reset_counters()
        wall, _ = _child(argv, env)
        sent_again = proxy.counters["forwarded_bytes"]
        data = (folder / "big.bin").read_bytes()
        md5s = b"".join(
            hashlib.md5(data[o : o + 16 * _MIB]).digest() for o in range(0, size, 16 * _MIB)
        )
        expected = f'"{hashlib.md5(md5s).hexdigest()}-{-(-size // (16 * _MIB))}"'
        stored = boto3.client("s3", **kwargs).head_object(Bucket=bucket, Key="large/big.bin")
        whole = stored["ETag"] == expected and stored["ContentLength"] == size
        print(
            f"\n{size / _MIB:g} MiB file, resilient-s3 sync through the fault proxy "
            f"(16 MiB parts): killed (SIGKILL) after {killed_after:.1f} s with "
            f"{sent_first / _MIB:.1f} MiB forwarded; the same command again forwarded "
            f"{sent_again / _MIB:.1f} MiB ({sent_again / size:.0%} of the file) in "
            f"{wall:.1f} s and finished; the object's ETag is the file's: {whole}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--kill", action="store_true", help="also the 200 MiB kill and resume")
    parser.add_argument("--kill-size", type=int, default=200, help="MiB, default 200")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
