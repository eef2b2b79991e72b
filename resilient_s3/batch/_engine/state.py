"""What the batches of one client share.

A :class:`ClientState` is a lazy part of the facade: made on the first ``s3.batch`` use, shared
by the clients ``with_options`` derives, and closed with the client (or when it is collected).
It holds:

- the adaptive rate per :class:`AdaptivePolicy` (thread-safe, shared across event loops: the
  server throttles the client, whichever loop it runs on);
- the limiters per event loop (an ``AsyncLimiter`` belongs to one loop);
- the background event loop thread on which the sync methods run, so that concurrent sync
  batches of a client share its limiters, and that they work inside a running loop (Jupyter);
- which one-time warnings were logged already;
- the CRT plane's ``awscrt.s3.S3Client`` per settings, built once (it holds the boto3 client
  only through a weak reference, so the state never keeps the client alive);
- the client's telemetry, if it reports to OpenTelemetry (a span per batch, the adaptive rate).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..._adaptive import AdaptivePolicy, AdaptiveRate
from .._pacing.pacer import LoopLimiters

if TYPE_CHECKING:
    from ..._telemetry.telemetry import Telemetry

__all__ = ["BackgroundLoop", "ClientState"]


class BackgroundLoop:
    """An event loop running forever in a daemon thread, until :meth:`stop`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self._run, name="resilient-s3-batch-loop", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def stop(self) -> None:
        """Stop the loop; its thread then closes it and ends."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)


class ClientState:
    """The shared batch state of one boto3 client (see the module docstring)."""

    def __init__(self, telemetry: Telemetry | None = None) -> None:
        #: The client's telemetry (a span per batch, the adaptive rate as a gauge), if any.
        self.telemetry = telemetry
        self._lock = threading.Lock()
        self._adaptive: dict[AdaptivePolicy, AdaptiveRate] = {}
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopLimiters] = (
            weakref.WeakKeyDictionary()
        )
        self._background: BackgroundLoop | None = None
        self._warned: set[str] = set()
        self._crt: dict[object, Any] = {}

    def adaptive(self, policy: AdaptivePolicy) -> AdaptiveRate:
        """The client's adaptive rate under ``policy``."""
        with self._lock:
            rate = self._adaptive.get(policy)
            if rate is None:
                rate = self._adaptive[policy] = AdaptiveRate(policy)
            return rate

    def limiters(self, loop: asyncio.AbstractEventLoop) -> LoopLimiters:
        """The client's limiters on ``loop``."""
        with self._lock:
            limiters = self._limiters.get(loop)
            if limiters is None:
                limiters = self._limiters[loop] = LoopLimiters()
            return limiters

    def background(self) -> BackgroundLoop:
        """The background loop for sync calls, started on first use."""
        with self._lock:
            if self._background is None or not self._background.thread.is_alive():
                self._background = BackgroundLoop()
            return self._background

    def crt_client(self, settings: object, build: Callable[[], Any]) -> Any:
        """The CRT client for ``settings`` (hashable), built by ``build`` once."""
        with self._lock:
            found = self._crt.get(settings)
            if found is None:
                found = self._crt[settings] = build()
            return found

    def first_warning(self, topic: str) -> bool:
        """True the first time it is asked about ``topic`` (log a warning once per client)."""
        with self._lock:
            first = topic not in self._warned
            self._warned.add(topic)
            return first

    def close(self) -> None:
        """Stop the background loop and release the CRT clients, waiting for nothing (the
        client is closed or gone; at interpreter exit too)."""
        if self._background is not None:
            self._background.stop()
        with self._lock:
            natives, self._crt = list(self._crt.values()), {}
        for native in natives:
            native.close()
