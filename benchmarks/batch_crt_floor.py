"""The floor under ``s3.batch``'s CRT plane: awscrt's ``S3Client.make_request`` driven with as
little Python as it takes (no retries, no pacing, no verification, no result objects; a
semaphore of 64 requests in flight, bodies kept in a dict), so that ``bench_batch.py`` can show
in one run how much of the plane's client CPU is the CRT's own and how much is resilient_s3's.

Path-style URLs on a plain-http endpoint with the dummy keys only: enough for the local servers
the benchmark starts, not a general client.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["crt_floor_get", "crt_floor_put"]

_IN_FLIGHT = 64


def _client(kwargs: Mapping[str, Any]) -> tuple[Any, str]:
    from awscrt import auth, s3

    provider = auth.AwsCredentialsProvider.new_static(
        kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"]
    )
    region = str(kwargs.get("region_name") or "us-east-1")
    signing = s3.create_default_s3_signing_config(region=region, credential_provider=provider)
    client = s3.S3Client(
        region=region,
        tls_mode=s3.S3RequestTlsMode.DISABLED,
        signing_config=signing,
        max_active_connections_override=_IN_FLIGHT,
        retry_config=s3.S3RetryConfig(retry_mode=s3.S3RetryMode.NONE),
    )
    return client, urlsplit(str(kwargs["endpoint_url"])).netloc


def _run(kwargs: Mapping[str, Any], requests: list[tuple[str, str, bytes | None]]) -> float:
    """Seconds to send ``(method, path, body)`` requests, 64 at a time; raises on a failure."""
    from awscrt import http, s3

    client, host = _client(kwargs)
    gate = threading.BoundedSemaphore(_IN_FLIGHT)
    done = threading.Event()
    left = [len(requests)]
    errors: list[BaseException] = []
    lock = threading.Lock()

    def finished(error: BaseException | None = None, **_: Any) -> None:
        gate.release()
        with lock:
            if error is not None:
                errors.append(error)
            left[0] -= 1
            if left[0] == 0:
                done.set()

    started = time.perf_counter()
    for method, path, body in requests:
        gate.acquire()
        headers = [("Host", host), ("Content-Length", str(len(body or b"")))]
        stream = io.BytesIO(body) if body is not None else None
        request = http.HttpRequest(method, path, http.HttpHeaders(headers), stream)
        kind = s3.S3RequestType.GET_OBJECT if method == "GET" else s3.S3RequestType.DEFAULT
        name = "GetObject" if method == "GET" else "PutObject"
        client.make_request(
            type=kind,
            request=request,
            operation_name=name,
            on_done=finished,
            on_body=lambda **_: None,
        )
    done.wait(600)
    if errors or left[0]:
        raise RuntimeError(f"crt floor: {len(errors)} failed, {left[0]} unfinished: {errors[:1]}")
    return time.perf_counter() - started


def crt_floor_put(kwargs: Mapping[str, Any], bucket: str, bodies: Mapping[str, bytes]) -> float:
    """Seconds to put ``bodies`` with bare CRT requests."""
    return _run(kwargs, [("PUT", f"/{bucket}/{quote(k)}", v) for k, v in bodies.items()])


def crt_floor_get(kwargs: Mapping[str, Any], bucket: str, keys: list[str]) -> float:
    """Seconds to get ``keys`` with bare CRT requests (bodies read and dropped)."""
    return _run(kwargs, [("GET", f"/{bucket}/{quote(k)}", None) for k in keys])
