"""ResumableBody over bodies that fail mid-stream (pure unit: no server; the proxy tests in
test_client.py do the same over real HTTP)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore import exceptions as bce
from botocore.response import StreamingBody

from resilient_s3 import Backoff, ObjectChangedError, RetryPolicy
from resilient_s3._bodies.resumable import ResumableBody
from resilient_s3._retry.budget import RetryBudget
from resilient_s3._retry.retrier import Retrier
from resilient_s3._stats import Stats

from ..conftest import FakeTime

DATA = bytes(range(256)) * 40  # 10,240 bytes


class Breaking(io.RawIOBase):
    """Yields ``data`` then fails with ``error`` after ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int, error: Exception) -> None:
        self._data, self._limit, self._error, self._pos = data, limit, error, 0

    def readable(self) -> bool:
        return True

    def read(self, amt: int | None = -1) -> bytes:
        if self._pos >= self._limit and self._pos < len(self._data):
            raise self._error
        end = len(self._data) if amt is None or amt < 0 else self._pos + amt
        chunk = self._data[self._pos : min(end, self._limit)]
        self._pos += len(chunk)
        return chunk


def body(data: bytes, limit: int | None = None) -> StreamingBody:
    error = bce.ResponseStreamingError(error="Connection broken")
    raw = Breaking(data, len(data) if limit is None else limit, error)
    return StreamingBody(raw, len(data))  # type: ignore[arg-type]


def resumable(
    fake_time: FakeTime, cuts: list[int], data: bytes = DATA, attempts: int = 5
) -> tuple[ResumableBody, list[int], Retrier]:
    """A body that breaks at each offset in ``cuts`` in turn; records each reopen offset."""
    offsets: list[int] = []
    policy = RetryPolicy(
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        random=lambda: 0.5,
        network_after_send=Backoff(max_attempts=attempts, base=0.05, cap=1.0),
    )
    retrier = Retrier(policy, Stats(), RetryBudget(policy.budget))
    pending = list(cuts)

    def reopen(delivered: int) -> StreamingBody:
        offsets.append(delivered)
        rest = data[delivered:]
        limit = pending.pop(0) - delivered if pending else None
        return body(rest, limit)

    first = body(data, pending.pop(0) if pending else None)
    return ResumableBody(first, len(data), reopen, retrier, "b", "k"), offsets, retrier


def test_read_all_resumes_from_the_first_missing_byte(fake_time: FakeTime) -> None:
    stream, offsets, retrier = resumable(fake_time, [1000, 5000, 5001])
    assert stream.read() == DATA
    assert offsets == [1000, 5000, 5001]
    assert retrier.stats.snapshot().resumes == 3
    assert len(fake_time.sleeps) == 3


def test_read_n_iter_chunks_and_iter_lines(fake_time: FakeTime) -> None:
    stream, _, _ = resumable(fake_time, [700])
    parts = [stream.read(300) for _ in range(4)]
    assert all(0 < len(part) <= 300 for part in parts)
    got = b"".join(parts)
    assert got == DATA[: len(got)]
    assert len(got) > 900
    assert stream.tell() == len(got)
    assert b"".join(stream.iter_chunks(1024)) == DATA[len(got) :]

    text = b"".join(b"line %d\n" % i for i in range(2000))
    stream, _, _ = resumable(fake_time, [4321, 9000], data=text)
    assert list(stream.iter_lines()) == text.splitlines()


def test_context_manager_and_readinto(fake_time: FakeTime) -> None:
    stream, _, _ = resumable(fake_time, [10])
    with stream as s:
        assert s is stream
        buf = bytearray(20)
        assert s.readinto(buf) == 10
        assert s.readinto(buf) == 20  # resumed
        assert bytes(buf) == DATA[10:30]


def test_gives_up_with_the_streaming_error_after_the_attempt_limit(fake_time: FakeTime) -> None:
    stream, offsets, retrier = resumable(fake_time, [100, 100, 100, 100], attempts=3)
    with pytest.raises(bce.ResponseStreamingError) as caught:
        stream.read()
    assert offsets == [100, 100]  # 3 attempts: the failed read, then two reopens
    assert caught.value.resilient_s3_attempts == 3  # type: ignore[attr-defined]
    assert retrier.stats.snapshot().give_ups == 1


def test_a_short_body_is_never_returned_silently(fake_time: FakeTime) -> None:
    """A server that closes cleanly early (no error) is still caught by the length check."""
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 0.0)
    retrier = Retrier(policy, Stats(), RetryBudget(None))

    def reopen(delivered: int) -> StreamingBody:
        return StreamingBody(io.BytesIO(b""), None)  # type: ignore[arg-type]

    short = StreamingBody(io.BytesIO(DATA[:10]), None)  # type: ignore[arg-type]
    stream = ResumableBody(short, len(DATA), reopen, retrier, "b", "k")
    with pytest.raises(bce.IncompleteReadError):
        stream.read()


def test_an_object_that_changed_is_reported(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock)
    retrier = Retrier(policy, Stats(), RetryBudget(None))

    def reopen(delivered: int) -> Any:
        raise ObjectChangedError("b", "k", '"abc"', '"def"')

    stream = ResumableBody(body(DATA, 10), len(DATA), reopen, retrier, "b", "k")
    with pytest.raises(ObjectChangedError, match=r's3://b/k changed.*"abc".*"def"'):
        stream.read()
