"""Defects 4 and 11, in a process of their own: Ctrl-C ends a batch's process within
cancel_grace plus a moment although its requests hang, and the library prints nothing on
stderr in an application that did not configure logging."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time

from .conftest import SilentListener

GRACE = 0.5
BOUND = GRACE + 4.0  # seconds from SIGINT to exit, start-up of a loaded machine included


def test_ctrl_c_ends_the_process_although_requests_hang(silent_listener: SilentListener) -> None:
    script = textwrap.dedent(
        f"""
        import resilient_s3
        s3 = resilient_s3.client("s3", endpoint_url={silent_listener.endpoint_url!r},
                                 region_name="us-east-1", aws_access_key_id="t",
                                 aws_secret_access_key="t")
        print("ready", flush=True)
        s3.batch.put("bucket", {{f"k{{i}}": b"x" for i in range(4)}}, cancel_grace={GRACE})
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 30
        while silent_listener.accepted < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert silent_listener.accepted >= 4, "the requests never reached the listener"
        interrupted = time.monotonic()
        os.kill(child.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=BOUND + 20)
        took = time.monotonic() - interrupted
        assert child.returncode is not None, "still running 20 s after the bound"
        assert took < BOUND
        assert child.returncode != 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_the_library_logger_has_a_null_handler() -> None:
    script = textwrap.dedent(
        """
        import logging, resilient_s3
        logging.getLogger("resilient_s3").warning("giving up PutObject s3://b/k")
        print("done")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "done"
    assert done.stderr == ""
