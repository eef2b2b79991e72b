"""What a client reports to OpenTelemetry: a frozen value, like the retry and verify policies.

Importing this module imports nothing of OpenTelemetry: the policy is checked and kept even
where ``opentelemetry-api`` is not installed (then nothing is reported, whatever it says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TelemetryPolicy"]


@dataclass(frozen=True)
class TelemetryPolicy:
    """What a client reports to OpenTelemetry (docs/observability.md).

    Pass one as ``telemetry=`` to :func:`resilient_s3.client` or :func:`resilient_s3.wrap`;
    ``True``/``None`` mean ``TelemetryPolicy()``, ``False`` means
    ``TelemetryPolicy(enabled=False)``.
    Without ``opentelemetry-api`` installed nothing is reported and nothing is paid.

    Attributes:
        enabled: ``False``: no span, no metric, no OpenTelemetry call at all for this client
            (and the clients ``with_options`` derives from it).
        tracer_provider: the ``TracerProvider`` to use; ``None``: the application's global one
            (OpenTelemetry's no-op until the application sets one).
        meter_provider: the ``MeterProvider`` to use; ``None``: the global one.
        record_keys: put the object key on call spans (``aws.s3.key``, and the copy source).
            Off by default: keys can be personal data. Keys never go into metrics.
        batch_item_spans: inside a batch, a span for each S3 call its items make, under the
            batch span. Off by default: a batch makes one span (its counts as attributes);
            its calls still count in the metrics.
    """

    enabled: bool = True
    tracer_provider: Any = None
    meter_provider: Any = None
    record_keys: bool = False
    batch_item_spans: bool = False

    def __repr__(self) -> str:
        providers = [
            f"{name}={type(value).__name__}"
            for name, value in (
                ("tracer_provider", self.tracer_provider),
                ("meter_provider", self.meter_provider),
            )
            if value is not None
        ]
        return (
            f"TelemetryPolicy(enabled={self.enabled}, record_keys={self.record_keys}, "
            f"batch_item_spans={self.batch_item_spans}" + "".join(f", {p}" for p in providers) + ")"
        )

    @classmethod
    def coerce(cls, value: TelemetryPolicy | bool | None) -> TelemetryPolicy:
        """``None``/``True`` -> the default policy, ``False`` -> ``enabled=False``."""
        if isinstance(value, TelemetryPolicy):
            return value
        if value is None or value is True:
            return cls()
        if value is False:
            return cls(enabled=False)
        raise TypeError(f"telemetry must be a TelemetryPolicy, True, False or None, got {value!r}")
