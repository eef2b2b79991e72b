"""One client's telemetry: the tracer, the instruments, and the reports the client makes.

:class:`Telemetry` is what the facade, the stats and the batch runner talk to. It imports
OpenTelemetry (the API only), so it is imported only through :func:`resilient_s3._telemetry.
start`, which returns ``None`` where the API is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from .attributes import (
    BATCH_PREFIX,
    BUCKET,
    ERROR_KIND,
    ERROR_TYPE,
    METHOD,
    READ_BACK,
    RESUME_OFFSET,
    call_attributes,
    error_type,
    scope_version,
)
from .metrics import instruments
from .policy import TelemetryPolicy
from .spans import BatchScope, CallScope, current_call, quiet_calls

if TYPE_CHECKING:
    from .._retry.policy import RetryEvent

__all__ = ["Telemetry"]

# Metric attributes go to the SDK as plain dicts, never changed once made: opentelemetry-sdk
# 1.30 (on Python 3.10) deep-copies them to export JSON, and a MappingProxyType cannot be copied.
_NO_ATTRIBUTES: Mapping[str, Any] = {}
#: stats counts that mark the current call's span: name -> (event name or None, attribute).
_MARKS: Mapping[str, tuple[str | None, str | None]] = {
    "reuploads": ("resilient_s3.reupload", None),
    "resumes": ("resilient_s3.resume", None),
    "budget_exhausted": ("resilient_s3.budget_exhausted", None),
    "verified": (None, "resilient_s3.verified"),
    "verified_by_listing": (None, "resilient_s3.verified_by_listing"),
    "give_ups": (None, "resilient_s3.gave_up"),
    "conflicts": (None, "resilient_s3.conflict"),
    "unverified": (None, "resilient_s3.unverified"),
}


class Telemetry:
    """Spans and metrics of one client (and the clients derived from it)."""

    def __init__(self, policy: TelemetryPolicy, base: Mapping[str, Any]) -> None:
        self.policy = policy
        self._tracer = trace.get_tracer(
            "resilient_s3", scope_version(), tracer_provider=policy.tracer_provider
        )
        self.instruments = instruments(policy.meter_provider)
        self._base = dict(base)
        self._by_method: dict[str, Mapping[str, Any]] = {}

    # the facade --------------------------------------------------------------------------

    def call(self, operation: str, params: Mapping[str, Any], read_back: bool) -> CallScope:
        """The scope of one facade call (enter it around the call)."""
        span = None
        if not quiet_calls():
            attributes = call_attributes(self._base, operation, params, self.policy.record_keys)
            if read_back:
                attributes[READ_BACK] = True
            span = self._tracer.start_span(
                f"S3.{operation}", kind=SpanKind.CLIENT, attributes=attributes
            )
        return CallScope(self.instruments, self._method(operation), span)

    def resumer(self, params: Mapping[str, Any]) -> Callable[[int], CallScope]:
        """``resume(offset)`` -> the scope of a resumed GetObject body read, its span linked to
        the current call's (the GetObject that returned the body)."""
        scope = current_call()
        origin = scope.span.get_span_context() if scope and scope.span else None
        links = [Link(origin)] if origin is not None and origin.is_valid else None

        def resume(offset: int) -> CallScope:
            span = None
            if not quiet_calls():
                attributes = call_attributes(
                    self._base, "GetObject", params, self.policy.record_keys
                )
                attributes[RESUME_OFFSET] = offset
                span = self._tracer.start_span(
                    "S3.GetObject", kind=SpanKind.CLIENT, attributes=attributes, links=links
                )
            return CallScope(self.instruments, self._method("GetObject"), span, timed=False)

        return resume

    # reports from Stats ------------------------------------------------------------------

    def count(self, name: str, n: int) -> None:
        """A stats counter moved: add to its metric, mark the current call's span."""
        scope = current_call()
        counter = self.instruments.counters.get(name)
        if counter is not None:
            counter.add(n, scope.metric_attributes if scope is not None else _NO_ATTRIBUTES)
        if scope is None:
            return
        if name == "attempts":
            scope.attempts += n
            return
        mark = _MARKS.get(name)
        span = scope.span
        if mark is not None and span is not None and span.is_recording():
            event, attribute = mark
            if event is not None:
                span.add_event(event)
            if attribute is not None:
                span.set_attribute(attribute, True)

    def seconds(self, seconds: float) -> None:
        """Verification time was added."""
        scope = current_call()
        attributes = scope.metric_attributes if scope is not None else _NO_ATTRIBUTES
        self.instruments.verify_time.add(seconds, attributes)

    def retried(self, event: RetryEvent) -> None:
        """A retry is about to sleep: count it by kind, add an event to the call's span."""
        kind = event.kind.value
        scope = current_call()
        attributes = scope.metric_attributes if scope is not None else _NO_ATTRIBUTES
        self.instruments.retries.add(1, {**attributes, ERROR_KIND: kind})
        if scope is None:
            return
        scope.retries += 1
        span = scope.span
        if span is not None and span.is_recording():
            span.add_event(
                "resilient_s3.retry",
                {
                    "resilient_s3.attempt": event.attempt,
                    ERROR_KIND: kind,
                    ERROR_TYPE: error_type(event.error),
                    "resilient_s3.retry.delay": round(event.delay, 6),
                },
            )

    # batches -----------------------------------------------------------------------------

    def batch(self, operation: str, bucket: str | None, plane: str) -> BatchScope:
        """The scope of one batch (enter it around the batch)."""
        attributes: dict[str, Any] = {
            **self._base,
            BATCH_PREFIX + "operation": operation,
            BATCH_PREFIX + "plane": plane,
        }
        if bucket is not None:
            attributes[BUCKET] = bucket
        span = self._tracer.start_span(
            f"resilient_s3.batch.{operation}", kind=SpanKind.INTERNAL, attributes=attributes
        )
        return BatchScope(self.instruments, span, operation, self.policy.batch_item_spans)

    def watch_rate(self, adaptive: Any) -> None:
        """Report the adaptive rate ``adaptive`` as a gauge while it lives."""
        self.instruments.watch_rate(adaptive, str(self._base.get("server.address", "")))

    def _method(self, operation: str) -> Mapping[str, Any]:
        attributes = self._by_method.get(operation)
        if attributes is None:
            attributes = self._by_method[operation] = {METHOD: operation}
        return attributes
