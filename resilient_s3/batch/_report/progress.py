"""Progress: events for a callable, or a terminal bar (rich, else tqdm, else one plain line).

``progress=False`` (the default) prints nothing. ``progress=True`` draws a bar on stderr with
items done / total (when the input has a length), bytes, failures, rate and ETA: rich's if
``rich`` is installed, else tqdm's, else a plain line rewritten twice a second.
``progress=callable`` receives every :class:`BatchEvent`, on the batch's event-loop thread:
keep it quick (an exception from it stops the batch).
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .report import BatchReport, ItemFailure

__all__ = ["BatchEvent", "Progress", "ProgressArg"]


@dataclass(frozen=True)
class BatchEvent:
    """One progress event.

    Attributes:
        kind: ``"started"``, ``"succeeded"``, ``"failed"`` (one item each) or ``"finished"``.
        operation: ``"put"``, ``"get"``...
        key: the item's key (``None`` for started/finished).
        bytes: the item's bytes.
        done, failed: items settled so far, of which failed.
        bytes_done: bytes of the items that completed so far.
        total: the number of items, when the input has a length; else ``None``.
        failure: the :class:`ItemFailure` of a ``"failed"`` event.
        report: the :class:`BatchReport` of the ``"finished"`` event (also sent when the batch
            was cancelled).
    """

    kind: str
    operation: str
    key: str | None = None
    bytes: int = 0
    done: int = 0
    failed: int = 0
    bytes_done: int = 0
    total: int | None = None
    failure: ItemFailure | None = None
    report: BatchReport | None = None


#: What ``progress=`` takes.
ProgressArg = bool | Callable[[BatchEvent], object]


class _Bar(Protocol):
    def update(self, event: BatchEvent) -> None: ...
    def close(self) -> None: ...


class Progress:
    """Counts the settled items and forwards events to the callable or the bar."""

    def __init__(self, operation: str, progress: ProgressArg, total: int | None) -> None:
        self.operation = operation
        self.total = total
        self.done = self.failed = self.bytes_done = 0
        self._callback: Callable[[BatchEvent], object] | None = None
        self._bar: _Bar | None = None
        if callable(progress):
            self._callback = progress
        elif progress:
            self._bar = _make_bar(operation, total)

    def started(self) -> None:
        """The batch starts."""
        self._emit(BatchEvent("started", self.operation, total=self.total))

    def succeeded(self, key: str, nbytes: int) -> None:
        """One item completed."""
        self.done += 1
        self.bytes_done += nbytes
        if self._callback is not None or self._bar is not None:
            self._emit(self._event("succeeded", key, nbytes))

    def failed_item(self, failure: ItemFailure) -> None:
        """One item failed."""
        self.done += 1
        self.failed += 1
        if self._callback is not None or self._bar is not None:
            self._emit(self._event("failed", failure.key, 0, failure))

    def finished(self, report: BatchReport) -> None:
        """The batch ended (or stopped): the last event, then the bar is closed."""
        try:
            self._emit(BatchEvent(
                "finished", self.operation, None, 0, self.done, self.failed, self.bytes_done,
                self.total, None, report,
            ))  # fmt: skip
        finally:
            self.close()

    def close(self) -> None:
        """Close the bar (idempotent)."""
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()

    def _event(
        self, kind: str, key: str, nbytes: int, failure: ItemFailure | None = None
    ) -> BatchEvent:
        return BatchEvent(
            kind, self.operation, key, nbytes, self.done, self.failed, self.bytes_done,
            self.total, failure,
        )  # fmt: skip

    def _emit(self, event: BatchEvent) -> None:
        if self._callback is not None:
            self._callback(event)
        if self._bar is not None:
            self._bar.update(event)


def _make_bar(operation: str, total: int | None) -> _Bar:
    try:
        return _RichBar(operation, total)
    except ImportError:
        pass
    try:
        return _TqdmBar(operation, total)
    except ImportError:
        return _PlainBar(operation, total)


class _RichBar:
    def __init__(self, operation: str, total: int | None) -> None:
        console = importlib.import_module("rich.console")  # optional: imported dynamically
        rp = importlib.import_module("rich.progress")
        self._progress: Any = rp.Progress(
            rp.TextColumn("[bold]{task.description}"),
            rp.BarColumn(),
            rp.MofNCompleteColumn(),
            rp.TextColumn("{task.fields[details]}"),
            rp.TimeElapsedColumn(),
            rp.TimeRemainingColumn(),
            console=console.Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task(operation, total=total, details="")
        self._started = time.monotonic()
        self._progress.start()

    def update(self, event: BatchEvent) -> None:
        self._progress.update(
            self._task, completed=event.done, details=_details(event, self._started)
        )

    def close(self) -> None:
        self._progress.stop()


class _TqdmBar:
    def __init__(self, operation: str, total: int | None) -> None:
        tqdm = importlib.import_module("tqdm")  # optional: imported dynamically
        self._bar: Any = tqdm.tqdm(total=total, desc=operation, unit="item", file=sys.stderr)

    def update(self, event: BatchEvent) -> None:
        if event.kind in ("succeeded", "failed"):
            self._bar.update(1)
            self._bar.set_postfix_str(f"{_size(event.bytes_done)}, {event.failed} failed")

    def close(self) -> None:
        self._bar.close()


class _PlainBar:
    def __init__(self, operation: str, total: int | None) -> None:
        self._operation, self._total = operation, total
        self._started = self._shown = time.monotonic()

    def update(self, event: BatchEvent) -> None:
        now = time.monotonic()
        if event.kind == "finished" or now - self._shown >= 0.5:
            self._shown = now
            of = f"/{self._total}" if self._total is not None else ""
            line = f"{self._operation}: {event.done}{of} {_details(event, self._started)}"
            end = "\n" if event.kind == "finished" else ""
            sys.stderr.write(f"\r{line}{end}")
            sys.stderr.flush()

    def close(self) -> None:
        pass


def _details(event: BatchEvent, started: float) -> str:
    elapsed = max(time.monotonic() - started, 1e-9)
    return f"{_size(event.bytes_done)} {event.failed} failed {event.done / elapsed:.0f} items/s"


def _size(nbytes: int) -> str:
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
