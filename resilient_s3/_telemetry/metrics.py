"""The metric instruments of resilient_s3, made once per meter provider.

Counters mirror ``s3.stats`` one for one (each is added to where the stats counter is), so a
dashboard and ``s3.stats`` always agree; a histogram times each facade call by operation; an
observable gauge reports the adaptive batch rate. Attributes are the operation, the error kind
or the batch outcome: never a key, a bucket-dependent URL or a credential.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from .attributes import scope_version

__all__ = ["COUNTERS", "Instruments", "instruments"]

#: ``s3.stats`` field -> (metric name, unit, description).
COUNTERS: Mapping[str, tuple[str, str, str]] = {
    "calls": ("resilient_s3.calls", "{call}", "Operation calls made through the facade"),
    "attempts": ("resilient_s3.attempts", "{attempt}", "HTTP attempts those calls made"),
    "give_ups": ("resilient_s3.give_ups", "{call}", "Calls that failed after retries stopped"),
    "budget_exhausted": (
        "resilient_s3.budget_exhausted", "{retry}", "Retries refused by an empty retry budget"
    ),
    "resumes": ("resilient_s3.resumes", "{resume}", "GetObject bodies resumed mid-body"),
    "verified": ("resilient_s3.verified", "{write}", "Writes read back and found as written"),
    "verified_by_listing": (
        "resilient_s3.verified_by_listing", "{write}", "Writes confirmed by a shared listing page"
    ),
    "reuploads": ("resilient_s3.reuploads", "{write}", "Lost writes uploaded again"),
    "conflicts": ("resilient_s3.conflicts", "{write}", "Verifications that found another object"),
    "unverified": (
        "resilient_s3.unverified", "{write}", "Writes the server refused to let be read back"
    ),
}  # fmt: skip
RETRIES = ("resilient_s3.retries", "{retry}", "Retries, by resilient_s3.error.kind")
VERIFY_TIME = ("resilient_s3.verify.time", "s", "Time spent verifying writes")
DURATION = ("resilient_s3.call.duration", "s", "Duration of facade calls, retries included")
BATCH_ITEMS = ("resilient_s3.batch.items", "{item}", "Batch items settled, by outcome")
ADAPTIVE = ("resilient_s3.batch.adaptive_rate", "{request}/s", "Adaptive batch rate limit")
#: Seconds: a call is a few ms when all goes well, up to the deadline when it does not.
_BOUNDARIES = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Instruments:
    """The instruments on one meter, and the adaptive rates its gauge observes."""

    def __init__(self, meter: metrics.Meter) -> None:
        self.counters = {
            stat: meter.create_counter(name, unit, description)
            for stat, (name, unit, description) in COUNTERS.items()
        }
        self.retries = meter.create_counter(*RETRIES)
        self.verify_time = meter.create_counter(*VERIFY_TIME)
        name, unit, description = DURATION
        self.duration = meter.create_histogram(
            name, unit, description, explicit_bucket_boundaries_advisory=_BOUNDARIES
        )
        self.batch_items = meter.create_counter(*BATCH_ITEMS)
        self._rates: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        name, unit, description = ADAPTIVE
        meter.create_observable_gauge(name, [self._observe_rates], unit, description)

    def watch_rate(self, adaptive: Any, address: str) -> None:
        """Report ``adaptive.rate`` (an ``AdaptiveRate``) while it lives, under ``address``."""
        with self._lock:
            self._rates[adaptive] = address

    def _observe_rates(self, options: CallbackOptions) -> Iterable[Observation]:
        """The lowest limiting rate per server (``None`` rates are not limiting: not reported)."""
        lowest: dict[str, float] = {}
        with self._lock:
            watched = list(self._rates.items())
        for adaptive, address in watched:
            rate = adaptive.rate
            if rate is not None:
                lowest[address] = min(rate, lowest.get(address, rate))
        return [Observation(rate, {"server.address": a}) for a, rate in sorted(lowest.items())]


_made: weakref.WeakKeyDictionary[Any, Instruments] = weakref.WeakKeyDictionary()
_made_lock = threading.Lock()


def instruments(provider: Any) -> Instruments:
    """The instruments on ``provider`` (``None``: the global meter provider), made once."""
    if provider is None:
        provider = metrics.get_meter_provider()
    with _made_lock:
        made = _made.get(provider)
        if made is None:
            meter = provider.get_meter("resilient_s3", scope_version())
            made = _made[provider] = Instruments(meter)
        return made
