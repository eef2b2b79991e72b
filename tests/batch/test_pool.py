"""More concurrency than the client's connection pool: a bigger-pool copy built by the recipe
``resilient_s3.client()`` kept (sharing stats, budget and recent writes), or, for a wrapped
boto3 client, the client as it is and one WARNING."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3._config import pool_size
from resilient_s3.batch import BatchError
from resilient_s3.batch._planes.pool import with_pool
from resilient_s3.testing import Fault, FaultKind

from .conftest import make_bodies

_SECRET = "wJalrXUtnFEMI-resilient-s3-test-secret"
_TOKEN = "FwoGZXIvYXdzE-resilient-s3-test-session-token"


class SentCounter:
    """Counts the HTTP requests one boto3 client sends (a ``before-send`` handler on it)."""

    def __init__(self, client: BaseClient) -> None:
        self.count = 0
        client.meta.events.register("before-send.s3", self._sent)

    def _sent(self, **_: Any) -> None:
        self.count += 1


@pytest.fixture
def warnings_log(caplog: Any) -> Any:
    caplog.set_level(logging.DEBUG, logger="resilient_s3")
    return caplog


def test_a_batch_above_the_pool_size_runs_on_a_bigger_pool_copy(
    rs3: Any, fault_proxy: Any, s3_bucket: str, caplog: Any
) -> None:
    assert pool_size(rs3.inner) == 64
    before = rs3.stats.calls

    report = rs3.batch.put(
        s3_bucket, make_bodies(100, size=1), concurrency=80, data_plane="botocore"
    )

    assert report.ok
    assert "Connection pool is full" not in caplog.text
    copy = rs3.with_options(max_pool_connections=80).inner  # the one the batch built
    assert pool_size(copy) == 80
    assert copy.meta.endpoint_url == fault_proxy.endpoint_url
    assert copy.meta.region_name == rs3.inner.meta.region_name
    assert rs3.stats.calls - before == report.stats.requests  # stats shared with the facade


def test_every_request_of_the_batch_goes_through_the_bigger_pool(rs3: Any, s3_bucket: str) -> None:
    batch = rs3.batch
    assert batch.put(
        s3_bucket, {"warm": b"x"}, concurrency=80, data_plane="botocore"
    ).ok  # builds the copy
    copy = rs3.with_options(max_pool_connections=80).inner
    on_copy, on_first = SentCounter(copy), SentCounter(rs3.inner)

    report = batch.put(s3_bucket, make_bodies(50, size=1), concurrency=80, data_plane="botocore")
    heads = batch.head(s3_bucket, list(make_bodies(50)), concurrency=80, data_plane="botocore")

    assert report.ok
    assert heads.ok
    assert on_copy.count == report.stats.requests + heads.stats.requests > 0
    assert on_first.count == 0
    assert pool_size(copy) >= 80


def test_the_copy_shares_stats_budget_and_recent_writes(rs3: Any, s3_bucket: str) -> None:
    state = rs3.batch._shared.batch_state()
    assert with_pool(rs3, 64, state) is rs3
    bigger = with_pool(rs3, 65, state)

    assert bigger is not rs3
    assert bigger.inner is not rs3.inner
    assert pool_size(bigger.inner) == 65
    assert bigger.inner is with_pool(rs3, 65, state).inner  # built once per size
    assert bigger._shared is rs3._shared  # stats, retry budget, recent writes
    assert bigger.retry_policy is rs3.retry_policy
    bigger.put_object(Bucket=s3_bucket, Key="via-copy", Body=b"v")
    assert rs3._shared.recent.fresh_until(s3_bucket, "via-copy", 60.0) is not None


def test_the_copy_is_built_by_the_session_with_the_callers_arguments(fault_proxy: Any) -> None:
    kwargs = fault_proxy.client_kwargs()
    session = boto3.Session(
        aws_access_key_id=kwargs.pop("aws_access_key_id"),
        aws_secret_access_key=kwargs.pop("aws_secret_access_key"),
        region_name=kwargs.pop("region_name"),
    )
    config = Config(
        connect_timeout=3, s3={"addressing_style": "path"}, retries={"mode": "standard"}
    )
    s3 = resilient_s3.client(session=session, config=config, **kwargs)
    copy = s3.with_options(max_pool_connections=99).inner

    built: Any = copy.meta.config
    assert built.max_pool_connections == 99
    assert built.connect_timeout == 3
    assert built.s3 == {"addressing_style": "path"}
    assert built.retries["total_max_attempts"] == 1  # botocore's retries stay off
    assert copy.meta.region_name == session.region_name
    assert copy.meta.endpoint_url == fault_proxy.endpoint_url
    credentials: Any = copy._get_credentials()  # type: ignore[attr-defined]
    assert credentials is session._session.get_credentials()  # the session's, refreshing alike
    s3.close()


def test_the_copy_keeps_botocore_retries_off(fault_proxy: Any, s3_bucket: str) -> None:
    s3 = resilient_s3.client(
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
        retry=RetryPolicy.no_retries(),
        **fault_proxy.client_kwargs(),
    )
    fault_proxy.set_faults(
        [Fault(FaultKind.SLOWDOWN, limit=1, operations=frozenset({"PutObject"}))]
    )

    report = s3.batch.put(s3_bucket, {"k": b"v"}, concurrency=80, data_plane="botocore")

    assert s3.with_options(max_pool_connections=80).inner is not s3.inner
    (failure,) = report.failed  # one attempt: neither we nor botocore retried
    assert failure.attempts == 1
    assert fault_proxy.counters["op:PutObject"] == 1


def test_a_wrapped_client_runs_on_its_own_pool_with_one_warning(
    fault_proxy: Any, s3_bucket: str, warnings_log: Any
) -> None:
    plain = boto3.client("s3", config=Config(retries={"mode": "standard"}),
                         **fault_proxy.client_kwargs())  # fmt: skip
    s3 = resilient_s3.wrap(plain, retry=RetryPolicy.no_retries())
    assert pool_size(plain) == 10
    with pytest.raises(ValueError, match=r"Config\(max_pool_connections=16\)"):
        s3.with_options(max_pool_connections=16)  # no recipe to rebuild it by
    sent = SentCounter(plain)

    first = s3.batch.put(s3_bucket, make_bodies(40, size=1), concurrency=16, data_plane="botocore")
    second = s3.batch.get(s3_bucket, list(make_bodies(40)), concurrency=32, data_plane="botocore")

    assert first.ok
    assert second.ok
    assert sent.count == first.stats.requests + second.stats.requests  # all on `plain`
    warnings = [r for r in warnings_log.records if r.levelno >= logging.WARNING
                and r.name == "resilient_s3"]  # fmt: skip
    (warning,) = warnings  # once per client
    assert "Config(max_pool_connections=16)" in warning.getMessage()


def test_a_wrapped_client_keeps_botocore_retries_off(fault_proxy: Any, s3_bucket: str) -> None:
    plain = boto3.client("s3", config=Config(retries={"mode": "standard"}),
                         **fault_proxy.client_kwargs())  # fmt: skip
    s3 = resilient_s3.wrap(plain, retry=RetryPolicy.no_retries())
    fault_proxy.set_faults(
        [Fault(FaultKind.SLOWDOWN, limit=1, operations=frozenset({"PutObject"}))]
    )

    report = s3.batch.put(s3_bucket, {"k": b"v"}, concurrency=16, data_plane="botocore")

    (failure,) = report.failed
    assert failure.attempts == 1
    assert fault_proxy.counters["op:PutObject"] == 1


def test_no_repr_str_log_or_error_shows_the_credentials(
    fault_proxy: Any, s3_bucket: str, warnings_log: Any
) -> None:
    kwargs = {**fault_proxy.client_kwargs(), "aws_secret_access_key": _SECRET}
    s3 = resilient_s3.client(aws_session_token=_TOKEN, **kwargs)
    report = s3.batch.put(s3_bucket, make_bodies(20, size=1), concurrency=80)
    missing = s3.batch.put("no-such-bucket-here", {"k": b"v"}, concurrency=80)
    with pytest.raises(BatchError) as raised:
        missing.raise_for_failures()

    assert report.ok
    assert not missing.ok
    bigger = with_pool(s3, 80, s3.batch._shared.batch_state())
    shown = [repr(s3), str(s3), repr(s3.batch), repr(bigger),
             repr(report), report.summary(), repr(missing), missing.summary(),
             str(raised.value), repr(raised.value), str(missing.failed[0].error),
             warnings_log.text]  # fmt: skip
    for text in shown:
        assert _SECRET not in text, text
        assert _TOKEN not in text, text
