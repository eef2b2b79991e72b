"""The field scenario: many concurrent uploads, each read back at once, then counted on the server.

This is the failure that started the project (400 objects, 64 threads, LocalStack under load:
~10% of downloads answered "Key does not exist"). :func:`run_field_scenario` runs it with any
S3 client (plain boto3 or resilient_s3) and reports what was acknowledged, what the server
really holds, what read back identical, and which errors reached the caller;
:func:`run_field_scenario_async` runs it with 64 tasks on an asyncio client. The demo and the
end-to-end tests use it.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

__all__ = ["ScenarioResult", "format_table", "run_field_scenario", "run_field_scenario_async"]


@dataclass(frozen=True)
class ScenarioResult:
    """What one run of the field scenario saw.

    ``silent_losses`` are writes the client acknowledged that the server does not hold;
    ``corrupt`` are reads that returned other bytes without an error. Both must be 0.
    """

    label: str
    objects: int
    acknowledged: int
    put_errors: int
    stored: int
    readable: int
    corrupt: int
    get_errors: int
    silent_losses: int
    seconds: float
    errors: dict[str, int]

    @property
    def lost_nothing(self) -> bool:
        """Every object stored and read back identical, with no error and no silent loss."""
        return (
            self.stored == self.objects
            and self.readable == self.objects
            and self.silent_losses == 0
            and self.corrupt == 0
        )


def _body(seed: int, index: int, size: int) -> bytes:
    return random.Random(seed * 1_000_003 + index).randbytes(size)


def run_field_scenario(
    client: Any,
    check_client: Any,
    bucket: str,
    *,
    label: str,
    objects: int = 400,
    concurrency: int = 64,
    size: int = 1024,
    seed: int = 0,
    prefix: str = "field/",
) -> ScenarioResult:
    """Put ``objects`` objects on ``concurrency`` threads sharing ``client``, each read back at
    once; then list the bucket with ``check_client`` (a client that talks to the server
    directly, not through a fault proxy) to count what was really stored."""
    tally = _Tally(objects, prefix)

    def one(index: int) -> None:
        key, body = tally.keys[index], _body(seed, index, size)
        try:
            client.put_object(Bucket=bucket, Key=key, Body=body)
        except Exception as exc:  # noqa: BLE001 - counted: the point is to see every error
            tally.count("put_error", exc)
            return
        tally.acknowledge(key)
        try:
            data = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:  # noqa: BLE001 - as above
            tally.count("get_error", exc)
            return
        tally.count("readable" if data == body else "corrupt")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(objects)))
    return tally.result(label, check_client, bucket)


async def run_field_scenario_async(
    client: Any,
    check_client: Any,
    bucket: str,
    *,
    label: str,
    objects: int = 400,
    concurrency: int = 64,
    size: int = 1024,
    seed: int = 0,
    prefix: str = "field/",
) -> ScenarioResult:
    """:func:`run_field_scenario` on an asyncio client (``resilient_s3.aio``): ``concurrency``
    tasks at once on the running loop; ``check_client`` is a blocking boto3 client."""
    tally = _Tally(objects, prefix)
    slots = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        key, body = tally.keys[index], _body(seed, index, size)
        async with slots:
            try:
                await client.put_object(Bucket=bucket, Key=key, Body=body)
            except Exception as exc:  # noqa: BLE001 - counted: the point is to see every error
                tally.count("put_error", exc)
                return
            tally.acknowledge(key)
            try:
                data = await (await client.get_object(Bucket=bucket, Key=key))["Body"].read()
            except Exception as exc:  # noqa: BLE001 - as above
                tally.count("get_error", exc)
                return
            tally.count("readable" if data == body else "corrupt")

    await asyncio.gather(*(one(index) for index in range(objects)))
    return await asyncio.to_thread(tally.result, label, check_client, bucket)


class _Tally:
    """What one run saw, counted from any number of threads or tasks."""

    def __init__(self, objects: int, prefix: str) -> None:
        self.objects, self.prefix = objects, prefix
        self.keys = [f"{prefix}{i:05d}" for i in range(objects)]
        self.outcomes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.acknowledged: set[str] = set()
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def count(self, outcome: str, exc: BaseException | None = None) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
            if exc is not None:
                self.errors[type(exc).__name__] += 1

    def acknowledge(self, key: str) -> None:
        with self._lock:
            self.acknowledged.add(key)

    def result(self, label: str, check_client: Any, bucket: str) -> ScenarioResult:
        """The run's result, the bucket listed with ``check_client``."""
        seconds = time.monotonic() - self.started
        stored: set[str] = set()
        paginator = check_client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=self.prefix):
            stored.update(item["Key"] for item in page.get("Contents", []))
        outcomes = self.outcomes
        return ScenarioResult(
            label=label,
            objects=self.objects,
            acknowledged=len(self.acknowledged),
            put_errors=outcomes["put_error"],
            stored=len(stored & set(self.keys)),
            readable=outcomes["readable"],
            corrupt=outcomes["corrupt"],
            get_errors=outcomes["get_error"],
            silent_losses=len(self.acknowledged - stored),
            seconds=seconds,
            errors=dict(self.errors),
        )


#: The comparison table's rows: label and :class:`ScenarioResult` field.
TABLE_ROWS = (
    ("writes acknowledged", "acknowledged"),
    ("objects actually stored", "stored"),
    ("acknowledged but missing", "silent_losses"),
    ("read back identical", "readable"),
    ("read back corrupt", "corrupt"),
    ("put errors surfaced", "put_errors"),
    ("get errors surfaced", "get_errors"),
)


def format_table(results: Sequence[Mapping[str, Any]]) -> str:
    """Results (``dataclasses.asdict`` of each :class:`ScenarioResult`) side by side."""
    width = max(len(label) for label, _ in TABLE_ROWS) + 2
    lines = ["".ljust(width) + "".join(r["label"].rjust(16) for r in results)]
    for label, name in TABLE_ROWS:
        lines.append(label.ljust(width) + "".join(str(r[name]).rjust(16) for r in results))
    lines.append(
        "time (s)".ljust(width) + "".join(f"{r['seconds']:.1f}".rjust(16) for r in results)
    )
    return "\n".join(lines)
