"""Defects 3 and 6: an infinite rate means no limit; every numeric option refuses NaN, negative
and (where no limit is meaningless) infinite values, and a dict where a policy belongs, clearly."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

import resilient_s3
from resilient_s3 import Backoff, BudgetPolicy, RetryPolicy, VerifyPolicy
from resilient_s3.batch import AdaptivePolicy

from .conftest import proxied

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize("option", ["rate_limit", "bytes_per_second"])
def test_an_infinite_rate_is_no_limit(
    fault_proxy: Any, s3_bucket: str, s3_server_client: Any, option: str
) -> None:
    batch: Any = proxied(fault_proxy).batch
    items = {f"k{i}": b"x" * 100 for i in range(10)}
    options: dict[str, Any] = {option: INF}

    async def run() -> Any:
        return await asyncio.wait_for(batch.put_async(s3_bucket, items, **options), 30)

    report = asyncio.run(run())
    assert report.succeeded == 10
    assert report.stats.adaptive_rate is None or report.stats.adaptive_rate > 0


def test_an_infinite_deadline_is_no_deadline() -> None:
    assert RetryPolicy(deadline=INF).deadline is None


BAD_NUMBERS: list[tuple[str, Callable[[], object], str]] = [
    ("deadline=nan", lambda: RetryPolicy(deadline=NAN), "deadline"),
    ("deadline<0", lambda: RetryPolicy(deadline=-1), "deadline"),
    ("max_retry_after=nan", lambda: RetryPolicy(max_retry_after=NAN), "max_retry_after"),
    ("max_retry_after=inf", lambda: RetryPolicy(max_retry_after=INF), "max_retry_after"),
    ("body_spool_limit<0", lambda: RetryPolicy(body_spool_limit=-1), "body_spool_limit"),
    ("body_spool_limit=1.5", lambda: RetryPolicy(body_spool_limit=1.5), "body_spool_limit"),  # type: ignore[arg-type]
    ("max_attempts=nan", lambda: Backoff(max_attempts=NAN, base=0, cap=0), "max_attempts"),  # type: ignore[arg-type]
    ("max_attempts=inf", lambda: Backoff(max_attempts=INF, base=0, cap=0), "max_attempts"),  # type: ignore[arg-type]
    ("base=nan", lambda: Backoff(max_attempts=2, base=NAN, cap=1), "base"),
    ("base=inf", lambda: Backoff(max_attempts=2, base=INF, cap=1), "base"),
    ("cap=nan", lambda: Backoff(max_attempts=2, base=1, cap=NAN), "cap"),
    ("cap<0", lambda: Backoff(max_attempts=2, base=1, cap=-1), "cap"),
    ("capacity=nan", lambda: BudgetPolicy(capacity=NAN), "capacity"),  # type: ignore[arg-type]
    ("capacity=inf", lambda: BudgetPolicy(capacity=INF), "capacity"),  # type: ignore[arg-type]
    ("retry_cost<0", lambda: BudgetPolicy(retry_cost=-1), "retry_cost"),
    ("network_cost=nan", lambda: BudgetPolicy(network_cost=NAN), "network_cost"),  # type: ignore[arg-type]
    ("visibility_timeout=nan", lambda: VerifyPolicy(visibility_timeout=NAN), "visibility_timeout"),
    ("visibility_timeout=inf", lambda: VerifyPolicy(visibility_timeout=INF), "visibility_timeout"),
    ("read_your_writes=nan", lambda: VerifyPolicy(read_your_writes=NAN), "read_your_writes"),
    ("read_your_writes=inf", lambda: VerifyPolicy(read_your_writes=INF), "read_your_writes"),
    ("max_reuploads=nan", lambda: VerifyPolicy(max_reuploads=NAN), "max_reuploads"),  # type: ignore[arg-type]
    ("recent_keys<0", lambda: VerifyPolicy(recent_keys=-1), "recent_keys"),
    ("coalesce=inf", lambda: VerifyPolicy(coalesce=INF), "coalesce"),  # type: ignore[arg-type]
    ("decrease=nan", lambda: AdaptivePolicy(decrease=NAN), "decrease"),
    ("increase=inf", lambda: AdaptivePolicy(increase=INF), "increase"),
    ("window=nan", lambda: AdaptivePolicy(window=NAN), "window"),
    ("min_rate=inf", lambda: AdaptivePolicy(min_rate=INF), "min_rate"),
    ("threshold=nan", lambda: AdaptivePolicy(threshold=NAN), "threshold"),
]


@pytest.mark.parametrize(
    ("make", "name"), [c[1:] for c in BAD_NUMBERS], ids=[c[0] for c in BAD_NUMBERS]
)
def test_a_meaningless_number_is_refused_naming_the_option(
    make: Callable[[], object], name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        make()


BAD_BATCH_OPTIONS = [
    ("cancel_grace", NAN),
    ("cancel_grace", INF),
    ("cancel_grace", -1.0),
    ("concurrency", INF),
    ("rate_limit", NAN),
    ("rate_limit", -5.0),
    ("bytes_per_second", NAN),
    ("bytes_per_second", 0),
]


@pytest.mark.parametrize(("name", "value"), BAD_BATCH_OPTIONS)
def test_a_meaningless_batch_option_is_refused_before_any_request(
    fault_proxy: Any, s3_bucket: str, name: str, value: float
) -> None:
    batch: Any = proxied(fault_proxy).batch
    options: dict[str, Any] = {name: value}
    with pytest.raises(ValueError, match=name):
        batch.put(s3_bucket, {"k": b"x"}, **options)
    assert fault_proxy.counters["requests"] == 0


DICTS: list[tuple[str, Callable[[Any], object]]] = [
    ("client(retry=)", lambda p: resilient_s3.client("s3", retry={"deadline": 5}, **p.client_kwargs())),  # type: ignore[arg-type]  # noqa: E501
    ("with_options(retry=)", lambda p: proxied(p).with_options(retry={"deadline": 5})),
    ("RetryPolicy(budget=)", lambda p: RetryPolicy(budget={"capacity": 5})),  # type: ignore[arg-type]
    ("RetryPolicy(throttled=)", lambda p: RetryPolicy(throttled={"max_attempts": 2})),  # type: ignore[arg-type]
    ("RetryPolicy(tables=)", lambda p: RetryPolicy(tables={})),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("make", [d[1] for d in DICTS], ids=[d[0] for d in DICTS])
def test_a_dict_where_a_policy_belongs_is_refused_clearly(
    fault_proxy: Any, make: Callable[[Any], object]
) -> None:
    with pytest.raises(TypeError, match="got a dict"):
        make(fault_proxy)
