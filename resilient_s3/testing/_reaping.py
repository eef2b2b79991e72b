"""How a server process is stopped and reaped: its process group signalled (SIGTERM, then
SIGKILL after a timeout), the leader reaped last so that its group id cannot have been reused;
and, on Linux, a child asked to get SIGTERM when the process that started it dies."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["dies_with_parent", "terminate"]

#: prctl option: the signal the kernel sends a child when its parent dies.
_PR_SET_PDEATHSIG = 1


def dies_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel for SIGTERM when this process dies (Linux, main
    thread), or ``None``. ``prctl`` is looked up here, in the parent: the child makes one call."""
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def ask() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return ask


def terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process group that ``process`` leads, SIGKILL it after ``timeout``; reap.

    The leader is left a zombie until every member of its group got SIGKILL, so that the group's
    id cannot have been reused by another process when it is signalled.
    """
    if process.returncode is not None:
        return  # already reaped (it exited by itself while starting)
    _signal_group(process.pid, signal.SIGTERM)
    if not _exited(process.pid, timeout):
        _signal_group(process.pid, signal.SIGKILL)
        _exited(process.pid, None)
    _signal_group(process.pid, signal.SIGKILL)  # children that outlived their leader
    process.wait()


def _signal_group(pid: int, signum: int) -> None:
    """Send ``signum`` to the process group that our child ``pid`` leads (or to the child alone if
    it leads none); ignore one that is gone."""
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _exited(pid: int, timeout: float | None) -> bool:
    """Wait until child ``pid`` has exited, without reaping it; ``False`` on timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        except ChildProcessError:
            return True  # reaped already
        if info is not None:
            return True
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(0.05)
