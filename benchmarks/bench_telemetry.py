"""What OpenTelemetry costs the facade: client CPU per PutObject, canned answers, by setup.

Each setup runs in a fresh process (OpenTelemetry's global providers can be set once per
process), rounds interleaved so that a shared machine's noise falls on every setup alike:

- ``absent``: opentelemetry is not importable (as without the ``otel`` extra);
- ``off``: installed, client built with ``telemetry=False``;
- ``api``: the API without an SDK (OpenTelemetry's no-op: what a library user pays by default);
- ``sdk``: the SDK with a ``SimpleSpanProcessor`` into an ``InMemorySpanExporter`` and an
  ``InMemoryMetricReader`` (every span exported synchronously: the most expensive wiring);
- ``sdk-batch``: the SDK with a ``BatchSpanProcessor`` (the production wiring) into the
  in-memory exporter;
- ``sdk+botocore``: ``sdk`` plus opentelemetry-instrumentation-botocore's per-attempt spans.

The answers are canned (a ``before-send`` handler answers 200 with an ETag; no network, no
server), so the figures are the client's own CPU: botocore's request building and parsing plus
the facade, plus whatever telemetry adds. Verify-after-put is off (one request per call).

    python benchmarks/bench_telemetry.py [--calls 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

SETUPS = ("absent", "off", "api", "sdk", "sdk-batch", "sdk+botocore")


class _Canned:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


def _answer(request: Any, **_: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    headers: Any = {"ETag": '"d41d8cd98f00b204e9800998ecf8427e"', "x-amz-request-id": "R1"}
    return AWSResponse(request.url, 200, headers, _Canned())


def _install(setup: str) -> Any:
    """Set up OpenTelemetry for ``setup``; return the span exporter, if any."""
    if setup == "absent":
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]
        return None
    if setup in ("off", "api"):
        return None
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    processor = BatchSpanProcessor(exporter) if setup == "sdk-batch" else None
    provider.add_span_processor(processor or SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    if setup == "sdk+botocore":
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        BotocoreInstrumentor().instrument()  # type: ignore[no-untyped-call]
    return exporter


def measure(setup: str, calls: int) -> dict[str, Any]:
    """CPU seconds per PutObject under ``setup`` (in this process)."""
    exporter = _install(setup)
    import resilient_s3

    s3 = resilient_s3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        endpoint_url="http://127.0.0.1:9",
        verify=False,
        telemetry=setup != "off",
    )
    s3.inner.meta.events.register("before-send.s3", _answer)
    body = b"x" * 1024
    for i in range(300):  # warm up: imports, caches
        s3.put_object(Bucket="bench", Key=f"w/{i}", Body=body)
    if exporter is not None:
        exporter.clear()
    started = time.process_time()
    for i in range(calls):
        s3.put_object(Bucket="bench", Key=f"k/{i}", Body=body)
    seconds = (time.process_time() - started) / calls
    loaded = any(m.startswith("opentelemetry") and v for m, v in sys.modules.items())
    return {
        "seconds": seconds,
        "reporting": s3.telemetry_policy is not None,
        "otel_loaded": loaded,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=3000, help="PutObject calls per process")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--setup", choices=SETUPS, help=argparse.SUPPRESS)  # one child process
    args = parser.parse_args(argv)
    if args.setup:
        print(json.dumps(measure(args.setup, args.calls)))
        return 0

    per_setup: dict[str, list[float]] = {setup: [] for setup in SETUPS}
    facts: dict[str, dict[str, Any]] = {}
    for i in range(args.rounds):
        order = SETUPS[i % len(SETUPS) :] + SETUPS[: i % len(SETUPS)]  # rotate the order
        for setup in order:
            done = subprocess.run(
                [sys.executable, __file__, "--setup", setup, "--calls", str(args.calls)],
                capture_output=True, text=True, check=True, timeout=600,
            )  # fmt: skip
            result = json.loads(done.stdout)
            per_setup[setup].append(result["seconds"])
            facts[setup] = result
    base = statistics.median(per_setup["absent"])
    print(
        f"client CPU per PutObject, canned answers, {args.calls} calls x {args.rounds} rounds "
        "(median; one process per setup and round)"
    )
    for setup, values in per_setup.items():
        median = statistics.median(values)
        fact = facts[setup]
        print(
            f"  {setup:<14}{median * 1e6:8.1f} us   {(median - base) * 1e6:+7.1f} us "
            f"({(median / base - 1) * 100:+5.1f}%)   rounds {min(values) * 1e6:.0f}-"
            f"{max(values) * 1e6:.0f} us   reporting={fact['reporting']} "
            f"opentelemetry imported={fact['otel_loaded']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
