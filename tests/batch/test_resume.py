"""Multipart uploads that survive a restart (``resume=``), on moto and SeaweedFS behind the fault
proxy, on both data planes: a process killed with SIGKILL mid-upload and run again sends only
the parts the server does not have (bytes counted by the proxy); a journal that cannot be
resumed (the file changed, the server lost the upload, another object's journal) starts over
and says so; the cleanup rule aborts the uploads that can never be resumed."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from resilient_s3 import RetryPolicy
from resilient_s3.batch._resume.journal import (
    Journal,
    JournalStore,
    PartDone,
    params_digest,
)
from resilient_s3.batch._resume.state import FileIdentity, default_state_dir, state_dir
from resilient_s3.testing import Fault, FaultKind

from .conftest import Place

MIB = 1024 * 1024
PARTS = {"multipart_threshold": 5 * MIB, "part_size": 5 * MIB}
SIZE = 32 * MIB + 12345  # 7 parts of 5 MiB
COUNT = 7

CHILD = """
import json, sys
from pathlib import Path
import resilient_s3
args = json.loads(sys.argv[1])
s3 = resilient_s3.client(
    "s3", endpoint_url=args["endpoint"], region_name="us-east-1",
    aws_access_key_id="testing", aws_secret_access_key="testing",
)
mib = 1024 * 1024
s3.batch.put(
    args["bucket"], [(args["key"], Path(args["path"]))], resume=args["state"],
    multipart_threshold=5 * mib, part_size=5 * mib, data_plane=args["plane"],
)
"""


def _file(tmp_path: Path, name: str = "big", seed: int = 1, size: int = SIZE) -> Path:
    path = tmp_path / name
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def _journals(state: Path) -> list[Path]:
    return sorted((state / "uploads").glob("*.jsonl"))  # [] while there is no such folder


def _journal(state: Path) -> Journal:
    (path,) = _journals(state)
    return Journal.from_lines(path.read_text().splitlines())


def _listed_parts(place: Place, key: str, upload_id: str) -> dict[int, int]:
    parts = place.direct.list_parts(Bucket=place.bucket, Key=key, UploadId=upload_id)
    return {p["PartNumber"]: p["Size"] for p in parts.get("Parts", [])}


def _stable_parts(place: Place, key: str, upload_id: str) -> dict[int, int]:
    """The parts listed twice alike, a second apart (a server may show a part late)."""
    listed = _listed_parts(place, key, upload_id)
    for _ in range(20):
        time.sleep(1.0)
        again = _listed_parts(place, key, upload_id)
        if again == listed:
            return listed
        listed = again
    raise AssertionError("the server's parts kept changing")


def _part_size(number: int, size: int = SIZE) -> int:
    return min(5 * MIB, size - (number - 1) * 5 * MIB)


def _multipart_etag(data: bytes, part: int = 5 * MIB) -> str:
    md5s = b"".join(hashlib.md5(data[o : o + part]).digest() for o in range(0, len(data), part))
    return f'"{hashlib.md5(md5s).hexdigest()}-{-(-len(data) // part)}"'


def _quiet(place: Place, settle: float = 1.0, bound: float = 20.0) -> None:
    """Wait until the proxy has forwarded nothing new for ``settle`` s (a killed client's part
    may still be on its way to the server)."""
    ends = time.monotonic() + bound
    last = place.proxy.counters["forwarded_bytes"]
    while time.monotonic() < ends:
        time.sleep(settle)
        now = place.proxy.counters["forwarded_bytes"]
        if now == last:
            return
        last = now


def _uploads(place: Place) -> list[Any]:
    found: list[Any] = place.direct.list_multipart_uploads(Bucket=place.bucket).get("Uploads", [])
    return found


def _interrupt_after(parts: int) -> list[Fault]:
    """Faults that fail the upload at its ``parts + 1``-th part (the earlier ones pass)."""
    return [
        Fault(FaultKind.ACCESS_DENIED, after=parts, limit=1, operations=frozenset({"UploadPart"}))
    ]


def _put(s3: Any, place: Place, key: str, path: Path, state: Path, **options: Any) -> Any:
    return s3.batch.put(place.bucket, [(key, path)], resume=state, **PARTS, **options)


@pytest.mark.parametrize("plane", ["botocore", "crt"])
def test_a_process_killed_mid_upload_sends_only_the_missing_parts_when_run_again(
    place: Place, quick_policy: RetryPolicy, tmp_path: Path, plane: str
) -> None:
    path, state = _file(tmp_path), tmp_path / "state"
    slow = Fault(FaultKind.LATENCY, seconds=0.3, operations=frozenset({"UploadPart"}))
    place.proxy.set_faults([slow])
    args = {
        "endpoint": place.proxy.endpoint_url, "bucket": place.bucket, "key": "big",
        "path": str(path), "state": str(state), "plane": plane,
    }  # fmt: skip
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)])
    try:
        ends = time.monotonic() + 60
        while child.poll() is None and time.monotonic() < ends:
            journals = _journals(state) if (state / "uploads").exists() else []
            if journals and len(journals[0].read_text().splitlines()) >= 3:  # 2 parts done
                break
            time.sleep(0.02)
        assert child.poll() is None, "the upload ended before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    _quiet(place)
    journal = _journal(state)
    on_server = _stable_parts(place, "big", journal.upload_id)
    missing = [n for n in range(1, COUNT + 1) if n not in on_server]
    missing_bytes = sum(_part_size(n) for n in missing)
    assert 0 < len(missing) < COUNT
    place.proxy.set_faults([])
    place.proxy.reset_counters()
    place.proxy.record_requests(("content-length",))

    report = _put(place.client(quick_policy), place, "big", path, state,
                  data_plane=plane, keep_results=True)  # fmt: skip

    assert report.ok, report.summary()
    assert report.stats.verified == 1
    sent = [r for r in place.proxy.requests if r.operation == "UploadPart"]
    assert sorted(int(r.headers["content-length"]) for r in sent) == sorted(
        _part_size(n) for n in missing
    )
    forwarded = place.proxy.counters["forwarded_bytes"]  # the parts and the Complete's XML
    assert missing_bytes <= forwarded <= missing_bytes + 4096
    assert [r.operation for r in place.proxy.requests].count("CreateMultipartUpload") == 0
    data = path.read_bytes()
    stored = place.direct.get_object(Bucket=place.bucket, Key="big")
    assert stored["Body"].read() == data
    assert report.results[0].etag == stored["ETag"] == _multipart_etag(data)
    assert _uploads(place) == []
    assert _journals(state) == []


@pytest.mark.parametrize("plane", ["botocore", "crt"])
def test_a_part_the_journal_missed_is_kept_when_the_server_has_the_local_bytes(
    place: Place, quick_policy: RetryPolicy, tmp_path: Path, plane: str
) -> None:
    path, state = _file(tmp_path), tmp_path / "state"
    s3 = place.client(quick_policy)
    place.proxy.set_faults(_interrupt_after(3))
    first = _put(s3, place, "big", path, state, data_plane=plane)
    assert not first.ok
    journal_file = _journals(state)[0]
    lines = journal_file.read_text().splitlines()
    journal_file.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])  # a torn last line
    on_server = _listed_parts(place, "big", _journal(state).upload_id)
    assert len(_journal(state).parts) == len(on_server) - 1
    place.proxy.set_faults([])
    place.proxy.record_requests(())

    again = _put(s3, place, "big", path, state, data_plane=plane)

    assert again.ok, again.summary()
    operations = [r.operation for r in place.proxy.requests]
    assert operations.count("UploadPart") == COUNT - len(on_server)
    assert place.direct.get_object(Bucket=place.bucket, Key="big")["Body"].read() == (
        path.read_bytes()
    )


@pytest.mark.parametrize("change", ["file", "upload", "object"])
def test_a_journal_that_cannot_be_resumed_starts_over_cleanly_and_says_so(
    place: Place,
    quick_policy: RetryPolicy,
    tmp_path: Path,
    change: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, state = _file(tmp_path), tmp_path / "state"
    s3 = place.client(quick_policy)
    place.proxy.set_faults(_interrupt_after(2))
    assert not _put(s3, place, "big", path, state).ok
    old = _journal(state)
    key = "big"
    if change == "file":
        path.write_bytes(random.Random(9).randbytes(SIZE))
        reason = "changed"  # found by the cleanup rule, which runs first
    elif change == "upload":
        place.direct.abort_multipart_upload(Bucket=place.bucket, Key="big", UploadId=old.upload_id)
        reason = "the server no longer has upload"
    else:  # the journal of "big" found where the journal of "other" belongs
        store = JournalStore(state, place.proxy.endpoint_url)
        lock = store.lock(place.bucket, "other")
        assert lock is not None
        lock.release()
        os.replace(_journals(state)[0], lock.path)
        key, reason = "other", "the journal is for another object (s3://"
    place.proxy.set_faults([])
    place.proxy.record_requests(())

    with caplog.at_level(logging.INFO, logger="resilient_s3"):
        again = _put(s3, place, key, path, state)

    assert again.ok, again.summary()
    said = [r.message for r in caplog.records if "starts over" in r.message or "abort" in r.message]
    assert len(said) == 1, said
    assert reason in said[0]
    operations = [r.operation for r in place.proxy.requests]
    assert operations.count("UploadPart") == COUNT
    assert operations.count("CreateMultipartUpload") == 1
    stored = place.direct.get_object(Bucket=place.bucket, Key=key)["Body"].read()
    assert stored == path.read_bytes()
    assert _uploads(place) == [] or change == "object"  # "big"'s upload: the object's own
    assert _journals(state) == []


def test_the_cleanup_rule_aborts_uploads_that_can_never_be_resumed(
    place: Place, quick_policy: RetryPolicy, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    s3 = place.client(quick_policy)
    gone, old, live = (_file(tmp_path, name, seed) for seed, name in enumerate("abc", 1))
    place.proxy.set_faults(_interrupt_after(1))
    for name, path in (("gone", gone), ("old", old), ("live", live)):
        assert not _put(s3, place, name, path, state).ok
        place.proxy.set_faults(_interrupt_after(1))
    assert len(_uploads(place)) == 3
    gone.unlink()
    for journal in _journals(state):
        if Journal.from_lines(journal.read_text().splitlines()).key == "old":
            eight_days = time.time() - 8 * 86400
            os.utime(journal, (eight_days, eight_days))
    place.proxy.set_faults([])
    place.proxy.record_requests(())

    report = s3.batch.put(place.bucket, {"small": b"x"}, resume=state)  # any resuming batch

    assert report.ok
    assert sorted(u["Key"] for u in _uploads(place)) == ["live"]
    assert [r.operation for r in place.proxy.requests].count("AbortMultipartUpload") == 2
    assert [_journal(state).key] == ["live"]


def test_a_cancelled_upload_is_kept_for_the_next_run(
    place: Place, quick_policy: RetryPolicy, tmp_path: Path
) -> None:
    path, state = _file(tmp_path), tmp_path / "state"
    s3 = place.client(quick_policy)
    slow = Fault(FaultKind.LATENCY, seconds=0.3, operations=frozenset({"UploadPart"}))
    place.proxy.set_faults([slow])

    async def cancelled_midway() -> None:
        task = asyncio.ensure_future(
            s3.batch.put_async(place.bucket, [("big", path)], resume=state, **PARTS)
        )
        while not _journals(state) or len(_journal(state).parts) < 2:
            await asyncio.sleep(0.02)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(cancelled_midway())
    kept = _journal(state)
    assert [u["UploadId"] for u in _uploads(place)] == [kept.upload_id]  # not aborted
    place.proxy.set_faults([])
    place.proxy.record_requests(())

    again = _put(s3, place, "big", path, state)

    assert again.ok, again.summary()
    sent = [r.operation for r in place.proxy.requests].count("UploadPart")
    assert sent <= COUNT - len(kept.parts)
    assert place.direct.get_object(Bucket=place.bucket, Key="big")["Body"].read() == (
        path.read_bytes()
    )


# -- the journal and the state directory, without a server ------------------------------------


def test_a_journal_holds_nothing_secret_and_ignores_a_torn_line(tmp_path: Path) -> None:
    key = "k" * 32
    params = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key, "ContentType": "a/b"}
    digest = params_digest(params)
    assert digest != params_digest({**params, "SSECustomerKey": "x" * 32})
    store = JournalStore(tmp_path / "state", "http://127.0.0.1:1")
    lock = store.lock("b", "k")
    assert lock is not None
    identity = FileIdentity(1, 2, 3, 4, 5)
    endpoint = "http://127.0.0.1:1"
    journal = Journal(endpoint, "b", "k", "id", 5 * MIB, 11 * MIB, "/f", identity, digest)
    lock.start(journal)
    lock.append(PartDone(1, 5 * MIB, '"e"', "e", {"ChecksumCRC32": "AAAAAA=="}))
    with open(lock.path, "a") as file:
        file.write('{"part": 2, "si')  # a crash in the middle of a line
    modes = [(tmp_path / "state").stat().st_mode & 0o777, store.directory.stat().st_mode & 0o777]
    assert modes == [
        0o700, 0o700,
    ]  # fmt: skip
    text = lock.path.read_text()
    assert key not in text
    assert "testing" not in text
    loaded = lock.load()
    assert loaded is not None
    assert list(loaded.parts) == [1]
    assert store.lock("b", "k") is None  # held: a second uploader is refused
    lock.release()
    again = store.lock("b", "k")
    assert again is not None
    again.release()


def test_the_state_directory_is_chosen_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESILIENT_S3_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_dir() == tmp_path / "xdg" / "resilient-s3"
    monkeypatch.setenv("RESILIENT_S3_STATE_DIR", str(tmp_path / "mine"))
    assert state_dir(True) == tmp_path / "mine"
    assert state_dir(False) is None
    assert state_dir(tmp_path / "there") == tmp_path / "there"
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        state_dir(tmp_path / "file")
    with pytest.raises(TypeError):
        state_dir(3)  # type: ignore[arg-type]
