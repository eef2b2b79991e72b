"""OpenTelemetry traces and metrics (docs/observability.md), optional and free when unused.

``opentelemetry-api`` is imported only by :func:`start`, when a client is built with telemetry
enabled; without it installed :func:`start` returns ``None`` and the client makes no telemetry
call at all. ``policy`` imports no OpenTelemetry and is public as
:class:`resilient_s3.TelemetryPolicy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .policy import TelemetryPolicy

if TYPE_CHECKING:
    from .telemetry import Telemetry

__all__ = ["TelemetryPolicy", "available", "start"]

_available: bool | None = None


def available() -> bool:
    """Whether ``opentelemetry-api`` can be imported (looked up once per process)."""
    global _available
    if _available is None:
        try:
            import opentelemetry.metrics
            import opentelemetry.trace  # noqa: F401
        except ImportError:
            _available = False
        else:
            _available = True
    return _available


def start(
    policy: TelemetryPolicy, region: str | None, endpoint_url: str | None
) -> Telemetry | None:
    """The telemetry of a new client, or ``None`` when off or the API is not installed."""
    if not policy.enabled or not available():
        return None
    from .attributes import client_attributes
    from .telemetry import Telemetry

    return Telemetry(policy, client_attributes(region, endpoint_url))
