"""The span of one facade call and the span of one batch, as context managers.

A :class:`CallScope` is current (in a ``ContextVar``) for the whole of one facade call, retries,
verification and re-uploads included, so the reports made during the call (stats counts, retry
events) find it; its span, when there is one, is OpenTelemetry's current span too, so that
``opentelemetry-instrumentation-botocore``'s per-attempt spans and the verification read-backs'
call spans nest under it. Inside a batch that was not asked for item spans, a call has a scope
(for its metrics) but no span.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode

from .attributes import (
    ATTEMPTS,
    ERROR_KIND,
    ERROR_TYPE,
    REQUEST_ID,
    batch_attributes,
    error_type,
    request_id,
)
from .metrics import Instruments

__all__ = ["BatchScope", "CallScope", "current_call", "quiet_calls"]

_current: ContextVar[CallScope | None] = ContextVar("resilient_s3_call", default=None)
#: True inside a batch whose calls make no span of their own (the batch span has their counts).
_quiet: ContextVar[bool] = ContextVar("resilient_s3_quiet", default=False)


def current_call() -> CallScope | None:
    """The scope of the facade call running in this context, if any."""
    return _current.get()


def quiet_calls() -> bool:
    """Whether calls made in this context make no span (inside a batch without item spans)."""
    return _quiet.get()


class CallScope:
    """One facade call (or one resumed body read): its span, if any, and its metrics."""

    __slots__ = (
        "_attached", "_instruments", "_started", "_timed", "_token", "attempts",
        "metric_attributes", "retries", "span",
    )  # fmt: skip

    def __init__(
        self,
        instruments: Instruments,
        metric_attributes: Mapping[str, Any],
        span: Span | None,
        timed: bool = True,
    ) -> None:
        self._instruments = instruments
        self.metric_attributes = metric_attributes
        self.span = span
        self._timed = timed
        self.attempts = 0
        self.retries = 0
        self._started = 0.0
        self._attached: Token[Context] | None = None
        self._token: Token[CallScope | None] | None = None

    def __enter__(self) -> CallScope:
        self._started = time.perf_counter()
        if self.span is not None and not self.span.get_span_context().is_valid:
            self.span = None  # OpenTelemetry's no-op (no SDK): nothing to carry or to end
        if self.span is not None:
            self._attached = context.attach(trace.set_span_in_context(self.span))
        self._token = _current.set(self)
        return self

    def answered(self, response: Any) -> None:
        """Note what the successful response tells (the request id)."""
        span = self.span
        if span is not None and span.is_recording():
            rid = request_id(response)
            if rid is not None:
                span.set_attribute(REQUEST_ID, rid)

    def __exit__(self, exc_type: Any, error: BaseException | None, tb: Any) -> None:
        if self._token is not None:
            _current.reset(self._token)
        if self._timed:
            attributes = self.metric_attributes
            if error is not None:
                attributes = {**attributes, ERROR_TYPE: error_type(error)}
            self._instruments.duration.record(time.perf_counter() - self._started, attributes)
        span = self.span
        if span is None:
            return
        if self._attached is not None:
            context.detach(self._attached)
        if span.is_recording():
            if self._timed:
                span.set_attribute(ATTEMPTS, self.attempts)
            if self.retries:
                span.set_attribute("resilient_s3.retries", self.retries)
            if error is not None:
                _record_error(span, error)
        span.end()


def _record_error(span: Span, error: BaseException) -> None:
    """Status ERROR with the error's type and kind; never its message (it can hold a URL)."""
    kind = error_type(error)
    span.set_attribute(ERROR_TYPE, kind)
    kinds = getattr(error, "resilient_s3_kinds", None)
    if kinds:
        span.set_attribute(ERROR_KIND, str(getattr(kinds[-1], "value", kinds[-1])))
    cls = type(error)
    span.add_event(
        "exception", {"exception.type": f"{cls.__module__}.{cls.__qualname__}", ERROR_TYPE: kind}
    )
    span.set_status(Status(StatusCode.ERROR, kind))


class BatchScope:
    """One batch: its span (current while the batch runs) and its item counts."""

    def __init__(
        self, instruments: Instruments, span: Span, operation: str, item_spans: bool
    ) -> None:
        self._instruments = instruments
        self.span = span
        self._operation = operation
        self._item_spans = item_spans
        self._attached: Token[Context] | None = None
        self._quiet_token: Token[bool] | None = None
        self._finished = False

    def __enter__(self) -> BatchScope:
        self._attached = context.attach(trace.set_span_in_context(self.span))
        self._quiet_token = _quiet.set(not self._item_spans)
        return self

    def finished(self, report: Any) -> None:
        """Record a :class:`~resilient_s3.batch.BatchReport`: span attributes and item counts."""
        if self._finished:
            return
        self._finished = True
        stats = report.stats
        attributes = {"resilient_s3.batch.operation": self._operation}
        self._instruments.batch_items.add(stats.succeeded, {**attributes, "outcome": "succeeded"})
        failed_by_kind: dict[str, int] = {}
        for failure in report.failed:
            failed_by_kind[failure.kind.value] = failed_by_kind.get(failure.kind.value, 0) + 1
        for kind, count in sorted(failed_by_kind.items()):
            self._instruments.batch_items.add(
                count, {**attributes, "outcome": "failed", ERROR_KIND: kind}
            )
        if self.span.is_recording():
            self.span.set_attributes(batch_attributes(stats, report.stopped))
            if stats.failed or report.stopped not in (None, "fail_fast"):
                reason = f"{stats.failed} of {stats.items} items failed"
                if report.stopped is not None:
                    reason += f"; stopped: {report.stopped}"
                self.span.set_status(Status(StatusCode.ERROR, reason))

    def __exit__(self, exc_type: Any, error: BaseException | None, tb: Any) -> None:
        if self._quiet_token is not None:
            _quiet.reset(self._quiet_token)
        if self._attached is not None:
            context.detach(self._attached)
        if error is not None:
            report = getattr(error, "resilient_s3_report", None)
            if report is not None:
                self.finished(report)
            if self.span.is_recording():
                _record_error(self.span, error)
        self.span.end()
