"""Both data planes end to end, and what the CRT plane makes new: a moto server behind the fault
proxy (resets mid-body and after a stored write, a SlowDown storm, refreshing credentials), and
real servers (https with a CA bundle on LocalStack, keys that change mid-batch on SeaweedFS,
which checks signatures)."""

from __future__ import annotations

import datetime
import io
import logging
import ssl
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

import resilient_s3
from resilient_s3 import ErrorKind, RetryPolicy
from resilient_s3.testing import Fault, FaultKind, mixed_faults
from resilient_s3.testing._endpoint import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

from .conftest import make_bodies, stored

if TYPE_CHECKING:
    from resilient_s3.testing._process import ManagedServer

PLANES = ["crt", "botocore"]


@pytest.mark.parametrize("plane", PLANES)
def test_each_plane_puts_gets_heads_copies_and_deletes_under_mixed_faults(
    rs3: Any, fault_proxy: Any, s3_server_client: Any, s3_bucket: str, plane: str
) -> None:
    fault_proxy.set_faults(mixed_faults(0.1))
    bodies = make_bodies(300, "mixed/")

    put = rs3.batch.put(s3_bucket, bodies, data_plane=plane)
    got = rs3.batch.get(s3_bucket, list(bodies), data_plane=plane)
    heads = rs3.batch.head(s3_bucket, list(bodies)[:50], data_plane=plane, keep_results=True)
    copies = rs3.batch.copy(
        [(s3_bucket, k, s3_bucket, "copy/" + k) for k in list(bodies)[:20]], data_plane=plane
    )

    for report in (put, got, heads, copies):
        assert report.ok, report.summary()
        assert report.stats.plane == plane
    assert put.stats.verified == 300
    assert dict(got.data) == bodies
    assert {r.key: r.size for r in heads.results} == dict.fromkeys(list(bodies)[:50], 1024)
    assert sum(put.stats.retries.values()) + sum(got.stats.retries.values()) > 10
    assert (
        put.stats.requests + got.stats.requests + heads.stats.requests + (copies.stats.requests)
        == fault_proxy.counters["requests"]
    )  # every request counted, on either plane
    fault_proxy.set_faults(())
    assert rs3.batch.delete(s3_bucket, [*bodies, *("copy/" + k for k in list(bodies)[:20])]).ok
    assert stored(s3_server_client, s3_bucket) == {}


@pytest.mark.native
def test_a_get_reset_mid_body_is_retried_and_the_bytes_are_whole(
    rs3: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    bodies = make_bodies(100, "trunc/", size=64 * 1024)
    assert rs3.batch.put(s3_bucket, bodies).ok
    # The CRT plane retries a broken GET whole (5 attempts for network_after_send): at 30% a key
    # broken 5 times in a row came in ~2.4% of runs (100 x 0.3^5); at 15%, ~0.008%.
    fault_proxy.set_faults([Fault(FaultKind.TRUNCATE_BODY, rate=0.15)])

    got = rs3.batch.get(s3_bucket, list(bodies), data_plane="crt")

    assert got.ok, got.summary()
    assert dict(got.data) == bodies
    assert fault_proxy.counters["truncate_body"] > 5
    assert got.stats.retries["network_after_send"] == fault_proxy.counters["truncate_body"]


@pytest.mark.native
def test_a_get_reset_mid_body_into_files_leaves_no_partial_file(
    rs3: Any, fault_proxy: Any, s3_bucket: str, tmp_path: Path
) -> None:
    bodies = make_bodies(30, "files/", size=64 * 1024)
    assert rs3.batch.put(s3_bucket, bodies).ok
    # At most 4 truncations for 30 downloads: none can use up its 5 attempts (at 50% and no
    # limit, one of 30 did in 1 run of 2: 30 x 0.5^5).
    fault_proxy.set_faults([Fault(FaultKind.TRUNCATE_BODY, rate=0.5, limit=4)])

    got = rs3.batch.get(s3_bucket, list(bodies), dest=tmp_path, data_plane="crt")

    assert got.ok, got.summary()
    assert fault_proxy.counters["truncate_body"] == 4
    files = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*")
             if p.is_file()}  # fmt: skip
    assert files == bodies  # no .part file left behind


@pytest.mark.native
def test_a_put_reset_after_the_server_stored_it_is_sent_again_and_verified(
    rs3: Any, fault_proxy: Any, s3_server_client: Any, s3_bucket: str
) -> None:
    # 0.15: a put reset 5 times in a row (the attempt limit) is a 1-in-10^4 run
    fault_proxy.set_faults([Fault(FaultKind.RESET_AFTER, rate=0.15, methods=frozenset({"PUT"}))])
    bodies = make_bodies(200, "reset/")

    put = rs3.batch.put(s3_bucket, bodies, data_plane="crt")

    assert put.ok, put.summary()
    assert put.stats.verified == 200
    assert put.stats.retries["network_after_send"] == fault_proxy.counters["reset_after"] > 10
    assert stored(s3_server_client, s3_bucket, "reset/") == dict.fromkeys(bodies, 1024)


@pytest.mark.native
def test_a_silent_answer_times_out_after_read_timeout_and_is_sent_again(
    fault_proxy: Any, quick_policy: RetryPolicy, s3_bucket: str
) -> None:
    # The CRT S3 client has no read timeout: the plane keeps the boto3 client's read_timeout.
    silent = Fault(FaultKind.LATENCY, seconds=4.0, key_prefix="slow/", limit=1)
    fault_proxy.set_faults([silent])
    config = Config(read_timeout=1)
    kwargs = fault_proxy.client_kwargs()
    with resilient_s3.client("s3", retry=quick_policy, config=config, **kwargs) as s3:
        started = time.monotonic()
        put = s3.batch.put(s3_bucket, {"slow/a": b"1", "fast/b": b"2"}, data_plane="crt")
        took = time.monotonic() - started

    assert put.ok, put.summary()
    assert fault_proxy.counters["latency"] == 1
    assert put.stats.retries == {"network_after_send": 1}
    assert 1.0 <= took < 3.5  # timed out after 1-1.125 s, not after the 4 s of silence


@pytest.mark.native
def test_a_slowdown_storm_is_retried_as_throttling_and_slows_the_adaptive_rate(
    rs3: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.SLOWDOWN, rate=0.3)])  # 0.3**8: none gives up
    bodies = make_bodies(120, "storm/")

    put = rs3.batch.put(s3_bucket, bodies, verify_writes="off", data_plane="crt")
    heads = rs3.batch.head(s3_bucket, list(bodies)[:60], data_plane="crt")  # 503 without body

    assert put.ok, put.summary()
    assert heads.ok, heads.summary()
    slowdowns = fault_proxy.counters["slowdown"]
    assert put.stats.throttled + heads.stats.throttled == slowdowns > 30
    assert put.stats.retries["throttled"] + heads.stats.retries["throttled"] == slowdowns
    assert put.stats.adaptive_rate is not None  # the storm made the adaptive rate limit


@pytest.mark.native
def test_permanent_errors_fail_at_once_with_botocores_exceptions(
    rs3: Any, fault_proxy: Any, s3_bucket: str
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED, rate=1.0, key_prefix="deny/")])
    items = {"deny/a": b"1", "ok/b": b"2"}

    put = rs3.batch.put(s3_bucket, items, data_plane="crt")
    missing = rs3.batch.get(s3_bucket, ["ok/b", "never-written"], data_plane="crt")

    (denied,) = put.failed
    assert (denied.key, denied.kind, denied.attempts) == ("deny/a", ErrorKind.PERMANENT, 1)
    assert type(denied.error) is rs3.exceptions.from_code("AccessDenied")  # botocore's class
    assert denied.error.response["Error"]["Code"] == "AccessDenied"
    (absent,) = missing.failed
    assert type(absent.error) is rs3.exceptions.NoSuchKey
    assert absent.kind is ErrorKind.NOT_FOUND


@pytest.mark.native
def test_refreshable_credentials_are_asked_at_each_signing(
    fault_proxy: Any, s3_bucket: str
) -> None:
    refreshes: list[int] = []

    def refresh() -> dict[str, str]:
        refreshes.append(1)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
        return {"access_key": f"key-{len(refreshes)}", "secret_key": "s", "token": "t",
                "expiry_time": expiry.isoformat()}  # fmt: skip

    s3 = _client_with(refresh, dict(fault_proxy.client_kwargs()))
    before = len(refreshes)

    put = s3.batch.put(
        s3_bucket, make_bodies(40, "refresh/"), verify_writes="off", data_plane="crt"
    )

    assert put.ok, put.summary()
    # Expiring within botocore's mandatory window: every signing refreshes them.
    assert len(refreshes) - before >= 40


@pytest.mark.native
def test_https_with_a_ca_bundle(real_s3_server: ManagedServer, tmp_path: Path) -> None:
    if real_s3_server.name != "localstack":
        pytest.skip("LocalStack serves https")
    port = real_s3_server.port
    bundle = tmp_path / "ca.pem"
    bundle.write_text(ssl.get_server_certificate(("127.0.0.1", port)))
    # LocalStack's certificate names localhost (its IP entry is malformed)
    kwargs: dict[str, Any] = {
        **real_s3_server.client_kwargs(),
        "endpoint_url": f"https://localhost:{port}",
    }
    s3 = resilient_s3.client("s3", **kwargs, verify=str(bundle))
    s3.create_bucket(Bucket="tls-bundle")
    bodies = make_bodies(50, "tls/", size=100)

    put = s3.batch.put("tls-bundle", bodies, data_plane="crt")
    got = s3.batch.get("tls-bundle", list(bodies), data_plane="crt")
    quick = Config(connect_timeout=2)
    untrusted = resilient_s3.client("s3", **kwargs, config=quick, retry=RetryPolicy.no_retries())
    refused = untrusted.batch.put("tls-bundle", {"x": b"1"}, data_plane="crt")

    assert put.ok, put.summary()
    assert got.ok
    assert dict(got.data) == bodies
    (failure,) = refused.failed
    assert failure.kind is ErrorKind.PERMANENT  # an untrusted certificate is not retried
    assert type(failure.error).__name__ == "SSLError"
    assert s3.batch.delete("tls-bundle", list(bodies)).ok
    s3.delete_bucket(Bucket="tls-bundle")


@pytest.mark.native
def test_keys_that_change_mid_batch_are_used_from_then_on(
    real_s3_server: ManagedServer, real_s3_bucket: str
) -> None:
    if real_s3_server.name != "seaweedfs":
        pytest.skip("SeaweedFS checks signatures against its identities")
    signings: list[int] = []

    def refresh() -> dict[str, str]:
        signings.append(1)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
        valid = len(signings) <= 20  # then the provider hands out keys the server refuses
        secret = TEST_SECRET_ACCESS_KEY if valid else "not-the-secret"
        return {"access_key": TEST_ACCESS_KEY_ID, "secret_key": secret, "token": "",
                "expiry_time": expiry.isoformat()}  # fmt: skip

    s3 = _client_with(refresh, dict(real_s3_server.client_kwargs()))
    keys = [f"rotate/{i:03d}" for i in range(40)]

    put = s3.batch.put(
        real_s3_bucket, dict.fromkeys(keys, b"x"), verify_writes="off", concurrency=1,
        data_plane="crt",
    )  # fmt: skip

    done = set(keys) - {f.key for f in put.failed}
    assert 0 < len(done) < len(keys)
    assert all(f.kind is ErrorKind.PERMANENT for f in put.failed)
    assert max(done) < min(f.key for f in put.failed)  # in order: the new keys from then on


def test_the_plane_choice_is_logged_once_and_explicit_crt_refuses_what_it_cannot_serve(
    rs3: Any, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="resilient_s3"):
        first = rs3.batch.put(s3_bucket, {"a": b"1"}, verify_writes="object")
        second = rs3.batch.put(s3_bucket, {"b": b"1"}, verify_writes="object")
    with pytest.raises(ValueError, match="verify_writes='object'"):
        rs3.batch.put(s3_bucket, {"c": b"1"}, verify_writes="object", data_plane="crt")
    with pytest.raises(ValueError, match="data_plane"):
        rs3.batch.put(s3_bucket, {"c": b"1"}, data_plane="native")

    assert first.ok
    assert second.ok
    assert first.stats.plane == second.stats.plane == "botocore"
    lines = [r.getMessage() for r in caplog.records if "data plane" in r.getMessage()]
    (line,) = lines
    assert "verify_writes='object'" in line


def _client_with(refresh: Any, kwargs: dict[str, Any]) -> Any:
    """A resilient_s3 client whose session holds refreshable credentials from ``refresh``."""
    core = botocore.session.Session()
    core._credentials = RefreshableCredentials.create_from_metadata(  # type: ignore[attr-defined]
        refresh(), refresh, "custom-refresh"
    )
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("aws_")}
    return resilient_s3.client("s3", session=boto3.Session(botocore_session=core), **kwargs)


@pytest.mark.native
def test_a_client_behind_an_http_proxy_runs_on_the_botocore_plane(
    fault_proxy: Any, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The fault proxy is a plain HTTP forwarder, not a CONNECT proxy: botocore sends absolute
    # URLs to it, which it relays; what matters is that the CRT is not used behind a proxy.
    secret_proxy = "http://user:hunter2@127.0.0.1:9"
    config = Config(proxies={"http": secret_proxy})
    kwargs = fault_proxy.client_kwargs()
    s3 = resilient_s3.client("s3", config=config, retry=RetryPolicy.no_retries(), **kwargs)
    with caplog.at_level(logging.INFO, logger="resilient_s3"):
        with pytest.raises(ValueError, match="HTTP proxy") as refused:
            s3.batch.head(s3_bucket, ["k"], data_plane="crt")
        report = s3.batch.head(s3_bucket, ["k"], data_plane=None, fail_fast=True)

    assert report.stats.plane == "botocore"
    assert "hunter2" not in str(refused.value)
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("plane", PLANES)
def test_a_file_body_from_its_middle_is_sent_from_there(
    rs3: Any, fault_proxy: Any, s3_server_client: Any, s3_bucket: str, plane: str
) -> None:
    data = bytes(range(256)) * 400
    body = io.BytesIO(data)
    body.seek(1234)
    fault_proxy.set_faults([Fault(FaultKind.RESET_BEFORE, limit=1)])  # one resend from there

    put = rs3.batch.put(s3_bucket, [("middle", body)], data_plane=plane)

    assert put.ok, put.summary()
    stored = s3_server_client.get_object(Bucket=s3_bucket, Key="middle")["Body"].read()
    assert stored == data[1234:]
