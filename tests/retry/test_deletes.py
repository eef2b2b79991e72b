"""DeleteObjects per-key errors (pure unit: a scripted ``send``; the proxy can't fake per-key
errors, so the rounds are scripted here)."""

from __future__ import annotations

from typing import Any

from resilient_s3 import RetryPolicy
from resilient_s3._retry.deletes import delete_objects

from ..conftest import FakeTime


def scripted(*rounds: dict[str, list[str]]) -> tuple[Any, list[list[str]]]:
    """A ``send`` answering each round from the script: {"Errors": [...keys], "Codes": [...]}."""
    sent: list[list[str]] = []
    script = list(rounds)

    def send(params: dict[str, Any]) -> dict[str, Any]:
        keys = [o["Key"] for o in params["Delete"]["Objects"]]
        sent.append(keys)
        answer = script.pop(0)
        failing = dict(zip(answer.get("Errors", []), answer.get("Codes", []), strict=True))
        return {
            "Deleted": [{"Key": k} for k in keys if k not in failing],
            "Errors": [{"Key": k, "Code": c, "Message": "m"} for k, c in failing.items()],
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    return send, sent


def params(*keys: str) -> dict[str, Any]:
    return {"Bucket": "b", "Delete": {"Objects": [{"Key": k} for k in keys]}}


def test_transient_key_errors_are_retried(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 1.0)
    send, sent = scripted(
        {"Errors": ["b", "c"], "Codes": ["InternalError", "SlowDown"]},
        {"Errors": ["c"], "Codes": ["SlowDown"]},
        {},
    )
    answer = delete_objects(send, params("a", "b", "c"), policy)
    assert sent == [["a", "b", "c"], ["b", "c"], ["c"]]
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["a", "b", "c"]
    assert "Errors" not in answer
    assert fake_time.sleeps == [0.1, 0.2]  # the server backoff


def test_permanent_key_errors_are_returned_not_retried(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 0.0)
    send, sent = scripted(
        {"Errors": ["a", "b"], "Codes": ["AccessDenied", "InternalError"]},
        {},
    )
    answer = delete_objects(send, params("a", "b", "c"), policy)
    assert sent == [["a", "b", "c"], ["b"]]
    assert [e["Key"] for e in answer["Errors"]] == ["a"]
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["b", "c"]


def test_transient_errors_left_when_attempts_run_out(fake_time: FakeTime) -> None:
    policy = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 0.0)
    always = {"Errors": ["x"], "Codes": ["InternalError"]}
    send, sent = scripted(*[always] * policy.server.max_attempts)
    answer = delete_objects(send, params("x"), policy)
    assert len(sent) == policy.server.max_attempts
    assert answer["Errors"][0]["Code"] == "InternalError"
    assert "Deleted" not in answer  # boto3's answer has no key when nothing was deleted
