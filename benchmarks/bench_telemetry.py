"""What OpenTelemetry costs the facade: client CPU per PutObject, canned answers, by setup.

The answers are canned (a ``before-send`` handler answers 200 with an ETag: no network, no
server), so the figures are the client's own CPU: botocore's request building and parsing, the
facade, and whatever telemetry adds. Verify-after-put is off (one request per call).

Phase 1, in this process, the clients interleaved in short chunks so that the noise of a shared
machine falls on every setup alike (no global provider is set here):

- ``botocore``: the bare boto3 client under the facade (its retries off), for scale;
- ``off``: ``telemetry=False`` (the same code path as opentelemetry not installed);
- ``api``: the API without an SDK: OpenTelemetry's no-op global providers, what a library user
  pays by default;
- ``sdk``: the SDK, a ``SimpleSpanProcessor`` into an ``InMemorySpanExporter`` and an
  ``InMemoryMetricReader`` (each span exported as it ends);
- ``sdk-batch``: the SDK with a ``BatchSpanProcessor`` (the production wiring) into the same
  exporter.

Phase 2: opentelemetry-instrumentation-botocore instrumented (a span per attempt, for every
client), ``off`` and ``sdk`` again: what our spans add beside the instrumentation's.

Phase 3: ``absent`` (opentelemetry made unimportable) and ``off``, each in fresh processes,
alternating: the two take the same path at call time, so they differ by noise only.

    python benchmarks/bench_telemetry.py [--calls 200] [--rounds 30] [--processes 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from canned import canned_client

BODY = b"x" * 1024


def _client(telemetry: Any) -> Any:
    return canned_client(telemetry=telemetry)


def _chunk(s3: Any, calls: int) -> float:
    """CPU seconds per PutObject over ``calls`` calls."""
    started = time.process_time()
    for i in range(calls):
        s3.put_object(Bucket="bench", Key=f"k/{i}", Body=BODY)
    return (time.process_time() - started) / calls


def interleaved(
    clients: dict[str, Any], calls: int, rounds: int, after_round: Callable[[], None]
) -> dict[str, float]:
    """Median CPU per call of each client, chunks rotated round by round."""
    names = list(clients)
    for s3 in clients.values():
        _chunk(s3, 200)  # warm up: imports, caches
    per: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            per[name].append(_chunk(clients[name], calls))
        after_round()
    return {name: statistics.median(values) for name, values in per.items()}


def _sdk(batch: bool) -> tuple[Any, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from resilient_s3 import TelemetryPolicy

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    )
    meters = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return TelemetryPolicy(tracer_provider=provider, meter_provider=meters), exporter


def in_process(calls: int, rounds: int) -> None:
    sdk, simple = _sdk(batch=False)
    sdk_batch, batched = _sdk(batch=True)
    off = _client(False)
    clients = {
        "botocore": off.inner,  # the bare boto3 client under the facade, for scale
        "off": off,
        "api": _client(True),
        "sdk": _client(sdk),
        "sdk-batch": _client(sdk_batch),
    }

    def drop_spans() -> None:  # keep memory flat
        simple.clear()
        batched.clear()

    phase1 = interleaved(clients, calls, rounds, drop_spans)
    report("phase 1: in one process, interleaved", phase1, "off")

    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    instrumentor = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=sdk.tracer_provider)
    both = {"botocore-instr": clients["off"], "botocore-instr+ours": clients["sdk"]}
    phase2 = interleaved(both, calls, rounds, drop_spans)
    instrumentor.uninstrument()
    report("phase 2: opentelemetry-instrumentation-botocore on (SDK, simple processor)",
           phase2, "botocore-instr")  # fmt: skip


def one_process(setup: str, calls: int) -> None:
    """Phase 3's child: CPU per call of ``setup`` (absent or off) in a fresh process."""
    if setup == "absent":
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]
    s3 = _client(False if setup == "off" else None)
    _chunk(s3, 300)
    seconds = statistics.median(_chunk(s3, calls) for _ in range(10))
    loaded = any(m.startswith("opentelemetry") and v for m, v in sys.modules.items())
    print(json.dumps({"seconds": seconds, "otel_loaded": loaded}))


def processes(calls: int, count: int) -> None:
    per: dict[str, list[float]] = {"absent": [], "off": []}
    loaded: dict[str, bool] = {}
    for i in range(count):
        for setup in ("absent", "off") if i % 2 == 0 else ("off", "absent"):
            done = subprocess.run(
                [sys.executable, __file__, "--setup", setup, "--calls", str(calls)],
                capture_output=True, text=True, check=True, timeout=600,
            )  # fmt: skip
            result = json.loads(done.stdout)
            per[setup].append(result["seconds"])
            loaded[setup] = result["otel_loaded"]
    medians = {name: statistics.median(values) for name, values in per.items()}
    report("phase 3: fresh processes, alternating", medians, "absent")
    print(f"  opentelemetry imported: {loaded}")


def report(title: str, medians: dict[str, float], base: str) -> None:
    print(title)
    for name, median in medians.items():
        delta = median - medians[base]
        print(
            f"  {name:<22}{median * 1e6:8.1f} us/call   {delta * 1e6:+7.1f} us "
            f"({delta / medians[base] * 100:+5.1f}%)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=200, help="PutObject calls per chunk")
    parser.add_argument("--rounds", type=int, default=30, help="chunks per client")
    parser.add_argument("--processes", type=int, default=4, help="phase 3 process pairs")
    parser.add_argument("--setup", choices=("absent", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        one_process(args.setup, args.calls)
        return 0
    print(f"client CPU per PutObject, canned answers, chunks of {args.calls} calls (medians)")
    in_process(args.calls, args.rounds)
    processes(args.calls, args.processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
