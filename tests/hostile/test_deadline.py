"""Defect 5: the per-call deadline bounds an attempt already running: its connect and read
timeouts are capped by the time the call has left."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import resilient_s3
from resilient_s3 import RetryPolicy

from .conftest import SilentListener

MARGIN = 1.5  # seconds allowed past the deadline on 2 shared cores


@pytest.mark.parametrize("operation", ["head_object", "put_object"])
def test_a_silent_endpoint_is_given_up_at_the_deadline(
    silent_listener: SilentListener, operation: str
) -> None:
    s3 = resilient_s3.client(
        "s3", retry=RetryPolicy(deadline=2), verify_writes=False, **silent_listener.client_kwargs()
    )
    outcome: dict[str, Any] = {}

    def call() -> None:
        started = time.monotonic()
        try:
            body = {"Body": b"x"} if operation == "put_object" else {}
            getattr(s3, operation)(Bucket="bucket", Key="k", **body)
        except Exception as error:  # noqa: BLE001 - the test inspects whatever ended the call
            outcome["error"] = error
        outcome["took"] = time.monotonic() - started

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(timeout=2 + MARGIN + 10)
    assert not thread.is_alive(), "the call outlived its deadline by more than 10 s"
    assert outcome["took"] < 2 + MARGIN
    assert silent_listener.accepted >= 1
    notes = " ".join(getattr(outcome["error"], "__notes__", []))
    assert "s3://bucket/k" in notes
    assert "deadline" in notes
