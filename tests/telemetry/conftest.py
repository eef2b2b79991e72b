"""Fixtures of the telemetry tests: the real OpenTelemetry SDK with in-memory exporters.

Each test gets its own ``TracerProvider`` and ``MeterProvider``, passed to the client
explicitly (OpenTelemetry's global providers can be set only once per process, so no test sets
them), and, on request, opentelemetry-instrumentation-botocore instrumented onto the same tracer
provider for the test's duration.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import resilient_s3
from resilient_s3 import TelemetryPolicy


@dataclass
class Otel:
    """One test's providers and what they exported."""

    tracer_provider: TracerProvider
    exporter: InMemorySpanExporter
    meter_provider: MeterProvider
    reader: InMemoryMetricReader

    def policy(self, **options: Any) -> TelemetryPolicy:
        return TelemetryPolicy(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **options
        )

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans, oldest first (only ``name``'s if given)."""
        spans = self.exporter.get_finished_spans()
        return [s for s in spans if name is None or s.name == name]

    def ours(self) -> list[ReadableSpan]:
        """Spans made by resilient_s3 (not by the botocore instrumentation or the test)."""
        return [s for s in self.spans() if _scope(s) == "resilient_s3"]

    def metrics(self) -> dict[str, dict[frozenset[tuple[str, Any]], Any]]:
        """metric name -> {attributes: value (sum, gauge value or histogram count)}."""
        found: dict[str, dict[frozenset[tuple[str, Any]], Any]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points = found.setdefault(metric.name, {})
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        if value is None:
                            value = point.count  # type: ignore[union-attr]
                        points[frozenset(dict(point.attributes or {}).items())] = value
        return found

    def total(self, name: str, **attributes: Any) -> Any:
        """The sum of metric ``name``'s points whose attributes include ``attributes``."""
        points = self.metrics().get(name, {})
        wanted = set(attributes.items())
        return sum(value for attrs, value in points.items() if wanted <= attrs)


def _scope(span: ReadableSpan) -> str | None:
    scope = span.instrumentation_scope
    return scope.name if scope is not None else None


@pytest.fixture
def otel() -> Iterator[Otel]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(tracer_provider, exporter, meter_provider, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
def botocore_spans(otel: Otel) -> Iterator[None]:
    """opentelemetry-instrumentation-botocore on ``otel``'s tracer provider, for this test."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    instrumentor = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=otel.tracer_provider)
    yield
    instrumentor.uninstrument()


@pytest.fixture
def traced(otel: Otel, fault_proxy: Any, quick_policy: Any) -> Iterator[Any]:
    """A resilient_s3 client through ``fault_proxy`` reporting to ``otel`` (retries never
    sleep for real)."""
    with resilient_s3.client(
        "s3", retry=quick_policy, telemetry=otel.policy(), **fault_proxy.client_kwargs()
    ) as s3:
        yield s3
