"""Progress: events for a callable, bars on stderr, nothing when off."""

from __future__ import annotations

from typing import Any

import pytest

from resilient_s3.batch import BatchClient, BatchEvent
from resilient_s3.batch._report.progress import Progress, _PlainBar, _TqdmBar
from resilient_s3.testing import Fault, FaultKind

from .conftest import make_bodies


def test_a_callable_receives_every_event(
    batch: BatchClient, fault_proxy: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED, key_prefix="data/00002")])
    events: list[BatchEvent] = []

    report = batch.put(s3_bucket, make_bodies(5, size=3), progress=events.append)

    kinds = [e.kind for e in events]
    assert kinds[0] == "started"
    assert kinds[-1] == "finished"
    assert sorted(kinds[1:-1]) == ["failed"] + ["succeeded"] * 4
    assert events[0].total == 5
    failed = next(e for e in events if e.kind == "failed")
    assert failed.key == "data/00002"
    assert failed.failure is report.failed[0]
    assert (events[-1].done, events[-1].failed, events[-1].bytes_done) == (5, 1, 12)
    assert events[-1].report is report


def test_nothing_is_printed_when_progress_is_off(
    batch: BatchClient, s3_bucket: str, capfd: pytest.CaptureFixture[str]
) -> None:
    assert batch.put(s3_bucket, make_bodies(5, size=3)).ok
    assert capfd.readouterr() == ("", "")


def test_progress_true_draws_a_bar_on_stderr(
    batch: BatchClient, s3_bucket: str, capfd: pytest.CaptureFixture[str]
) -> None:
    assert batch.put(s3_bucket, make_bodies(5, size=3), progress=True).ok
    out, err = capfd.readouterr()
    assert out == ""
    assert "put" in err
    assert "5/5" in err


def _feed(progress: Progress) -> None:
    progress.started()
    progress.succeeded("a", 2048)
    progress.succeeded("b", 2048)


def test_tqdm_and_plain_bars(capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    tqdm = Progress("get", False, 2)
    tqdm._bar = _TqdmBar("get", 2)
    _feed(tqdm)
    tqdm.close()
    assert "2/2" in capfd.readouterr().err

    plain = Progress("get", False, 2)
    plain._bar = _PlainBar("get", 2)
    _feed(plain)
    plain._emit(BatchEvent("finished", "get", done=2, bytes_done=4096, total=2))
    err = capfd.readouterr().err
    assert "get: 2/2 4.0 KiB 0 failed" in err
