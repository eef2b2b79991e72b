"""A status bar on stderr for the CLI commands: redrawn on a terminal, a line per phase
otherwise (logs, CI)."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from types import TracebackType
from typing import Any, TextIO

__all__ = ["CountingClient", "StatusBar"]

#: Width of the bar, in characters.
_BAR = 30
#: Seconds between redraws on a terminal.
_INTERVAL = 0.1


class StatusBar:
    """Shows how many of ``total`` units of work are done, under ``label``, on ``stream``.

    On a terminal a bar is redrawn in place every 0.1 s from a background thread; elsewhere one
    line is written when the phase starts and one when it ends. Thread-safe :meth:`tick`.
    """

    def __init__(self, label: str, total: int, unit: str, stream: TextIO | None = None) -> None:
        self.label, self.total, self.unit = label, total, unit
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def tick(self, what: str) -> None:
        """Count one finished ``what`` (e.g. ``"put"``); the first counted kind drives the bar."""
        with self._lock:
            self._counts[what] += 1

    def __enter__(self) -> StatusBar:
        """Start showing progress."""
        self._started = time.monotonic()
        if self._tty:
            self._thread = threading.Thread(target=self._redraw, name="progress", daemon=True)
            self._thread.start()
        else:
            self._write(f"{self.label}: {self.total} {self.unit}...\n")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop, and leave a final line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        seconds = time.monotonic() - self._started
        end = "\r\033[K" if self._tty else ""
        self._write(f"{end}{self.label}: {self._summary()} in {seconds:.1f} s\n")

    def _summary(self) -> str:
        with self._lock:
            counts = dict(self._counts)
        return ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing done"

    def _redraw(self) -> None:
        while not self._stop.wait(_INTERVAL):
            with self._lock:
                done = next(iter(self._counts.values()), 0)
            filled = min(_BAR, _BAR * done // max(1, self.total))
            bar = "#" * filled + "-" * (_BAR - filled)
            self._write(f"\r{self.label} [{bar}] {self._summary()}\033[K")

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


class CountingClient:
    """Passes every call to ``client``, ticking ``progress`` after each ``put_object`` and
    ``get_object`` (successful or not), so that the field scenario can report progress."""

    def __init__(self, client: Any, progress: StatusBar) -> None:
        self._client = client
        self._progress = progress

    def put_object(self, **params: Any) -> Any:
        """``client.put_object``, counted as a ``put``."""
        try:
            return self._client.put_object(**params)
        finally:
            self._progress.tick("puts")

    def get_object(self, **params: Any) -> Any:
        """``client.get_object``, counted as a ``get``."""
        try:
            return self._client.get_object(**params)
        finally:
            self._progress.tick("gets")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
