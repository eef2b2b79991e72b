"""``resilient-s3 sync`` against moto: both ways, a dry run, the endpoint and credentials found the
boto3 way (flags, ``AWS_ENDPOINT_URL``, a profile), usage errors, and a sync interrupted by
Ctrl-C (SIGINT to a real process) that finishes when the same command runs again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from resilient_s3.testing import Fault, FaultKind, FaultProxy, S3Server

from .test_cli import KEY_ID, SECRET, aws_environment, run

__all__ = ["aws_environment"]  # the autouse fixture, shared with test_cli


def _tree(root: Path, count: int) -> dict[str, bytes]:
    files = {f"d{i % 4}/file {i:03d}.txt": f"body {i}".encode() * (i + 1) for i in range(count)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def _objects(server: S3Server, bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", **server.client_kwargs())
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            found[entry["Key"][len(prefix) :]] = body
    return found


def test_sync_up_and_down_with_a_dry_run_first(
    capsys: pytest.CaptureFixture[str], s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    root, down, state = tmp_path / "tree", tmp_path / "down", tmp_path / "state"
    files = _tree(root, 12)
    url, target = s3_server.endpoint_url, f"s3://{s3_bucket}/cli"
    common = ("--endpoint-url", url, "--state-dir", str(state), "--no-progress")

    code, out, _ = run(capsys, "sync", str(root), target, "--dry-run", *common)
    assert code == 0
    assert out.count("(dry run) upload: ") == 12
    assert f"-> {target}/d0/file 000.txt (new)" in out
    assert "would upload 12" in out.splitlines()[-1]
    assert _objects(s3_server, s3_bucket, "cli/") == {}

    code, out, _ = run(capsys, "sync", str(root), target, *common)
    assert (code, out.count("upload: ")) == (0, 12)
    assert _objects(s3_server, s3_bucket, "cli/") == files
    code, out, _ = run(capsys, "sync", str(root), target, *common)
    assert (code, out.strip()) == (0, f"sync {root} -> {target}/: nothing to do, 12 unchanged, "
                                      "0 skipped, 0 failed")  # fmt: skip

    (root / "d0/file 000.txt").unlink()
    code, out, _ = run(capsys, "sync", target, str(down), *common)
    assert (code, out.count("download: ")) == (0, 12)
    code, out, _ = run(capsys, "sync", str(root), target, "--delete", *common)
    assert code == 0
    assert f"delete: {target}/d0/file 000.txt (not in the source)" in out
    code, out, _ = run(capsys, "sync", target, str(down), "--delete", "--json", *common)
    assert code == 0
    assert '"delete": 1' in out
    assert not (down / "d0/file 000.txt").exists()


def test_the_endpoint_and_credentials_are_found_the_boto3_way(
    capsys: pytest.CaptureFixture[str],
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "tree"
    _tree(root, 3)
    target = f"s3://{s3_bucket}/env"
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    code, out, _ = run(capsys, "sync", str(root), target, "--no-state")
    assert (code, out.count("upload: ")) == (0, 3)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    config = tmp_path / "config"
    config.write_text(
        f"[profile dev]\nregion = eu-west-3\nendpoint_url = {s3_server.endpoint_url}\n"
        f"aws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    code, out, _ = run(capsys, "sync", str(root), f"s3://{s3_bucket}/profile", "--profile", "dev",
                       "--no-state")  # fmt: skip
    assert (code, out.count("upload: ")) == (0, 3)
    code, _, err = run(capsys, "sync", str(root), target, "--profile", "nope")
    assert (code, err.strip()) == (1, "resilient-s3 sync: error: AWS profile 'nope' not found "
                                      "in the AWS config files")  # fmt: skip


def test_usage_errors_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], s3_server: S3Server, tmp_path: Path
) -> None:
    url = ("--endpoint-url", s3_server.endpoint_url)
    for argv, message in [
        ((str(tmp_path), str(tmp_path)), "neither side is an s3://bucket/prefix location"),
        (("s3://a/b", "s3://c/d"), "both sides are s3:// locations"),
        ((str(tmp_path / "missing"), "s3://bucket/p"), "is not a directory"),
        ((str(tmp_path), "s3://bucket/p", "--part-size", "1MiB"), "at least 5 MiB"),
    ]:
        code, out, err = run(capsys, "sync", *argv, *url)
        assert code == 2, argv
        assert out == ""
        assert err.startswith("resilient-s3 sync: error: ")
        assert message in err
        assert len(err.strip().splitlines()) == 1


def test_a_sync_interrupted_by_ctrl_c_finishes_when_run_again(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    root, state = tmp_path / "tree", tmp_path / "state"
    files = _tree(root, 150)
    slow = Fault(FaultKind.LATENCY, seconds=0.05, operations=frozenset({"PutObject"}))
    with FaultProxy(s3_server.endpoint_url, [slow]) as proxy:
        argv = [sys.executable, "-m", "resilient_s3", "sync", str(root), f"s3://{s3_bucket}/c",
                "--endpoint-url", proxy.endpoint_url, "--state-dir", str(state),
                "--concurrency", "4", "--quiet"]  # fmt: skip
        env: dict[str, Any] = {**os.environ}
        first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ends = time.monotonic() + 60
        while proxy.counters["op:PutObject"] < 40 and time.monotonic() < ends:
            time.sleep(0.01)
        first.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = first.communicate(timeout=60)
        assert first.returncode == 130, err
        assert b"interrupted: run the same command again to finish" in err
        assert b"stopped early (cancelled)" in out
        assert b"Traceback" not in err
        sent_first = proxy.counters["op:PutObject"]
        assert sent_first < 150
        proxy.set_faults([])
        proxy.record_requests(())

        again = subprocess.run(argv, env=env, capture_output=True, timeout=120)

        assert again.returncode == 0, again.stderr
        puts = [r for r in proxy.requests if r.operation == "PutObject"]
        assert len(puts) <= 150 - sent_first + 4  # the 4 in flight at Ctrl-C, at most
    assert _objects(s3_server, s3_bucket, "c/") == files
