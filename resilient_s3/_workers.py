"""Worker threads for blocking work: a small executor whose threads are daemons.

Used by the batch's threaded plane and by the asyncio front door (``resilient_s3.aio``), whose
botocore calls and body reads run here so that they never block the event loop.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits (an exit
hook of ``concurrent.futures.thread``), even after ``shutdown(wait=False)``. A batch abandons the
requests still running when ``cancel_grace`` ends (Ctrl-C, a cancelled task); with that
executor a request hanging on a silent endpoint kept the process alive for its whole read
timeout after Ctrl-C. These threads are daemons and nothing joins them at exit, so an abandoned
request ends with the process. Work is handed over through one queue; a thread is started only
when no idle one is waiting, up to ``max_workers`` (as ThreadPoolExecutor does).

Fork-safe: a child process made by ``fork()`` inherits the pool's queue and counters but none
of its threads; the first ``submit`` in the child starts the pool afresh (new queue, lock and
threads), so work never waits for a thread that does not exist there.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["DaemonThreadPool"]

T = TypeVar("T")
_Work = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonThreadPool(Executor):
    """Runs calls on up to ``max_workers`` daemon threads; ``initializer(*initargs)`` runs
    first in each thread."""

    def __init__(
        self,
        max_workers: int,
        thread_name_prefix: str,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._initializer = initializer
        self._initargs = initargs
        self._closed = False
        self._start_afresh()

    def _start_afresh(self) -> None:
        """The pool's state, new: at construction, and in a child process after ``fork()``."""
        self._pid = os.getpid()
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        if self._pid != os.getpid():  # forked: the parent's threads are not here
            self._start_afresh()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queue.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                name = f"{self._prefix}_{len(self._threads)}"
                thread = threading.Thread(target=self._work, name=name, daemon=True)
                self._threads.append(thread)
                thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        work = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if work is not None:
                        work[0].cancel()
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _work(self) -> None:
        if self._initializer is not None:
            self._initializer(*self._initargs)
        while True:
            work = self._queue.get()
            if work is None:
                return
            future, fn, args, kwargs = work
            del work
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as error:  # noqa: BLE001 - handed to the waiting coroutine
                    future.set_exception(error)
            del future, fn, args, kwargs
            self._idle.release()
