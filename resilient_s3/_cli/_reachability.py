"""The doctor's first checks, which need no bucket: reachability, latency and clock skew."""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import ssl
import statistics
import time
from urllib.parse import urlsplit

from ._args import CliError
from ._probes import Finding
from ._session import Endpoint

__all__ = ["reachability"]


def reachability(endpoint: Endpoint, samples: int = 5) -> list[Finding]:
    """Time unsigned ``GET /`` requests on one connection; compare the server's ``Date`` with
    the local clock. Returns the reachability and the clock-skew findings."""
    parts = urlsplit(endpoint.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        if not endpoint.verify:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn = http.client.HTTPSConnection(parts.hostname or "", port, timeout=10, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", port, timeout=10)
    timings: list[float] = []
    skews: list[float] = []
    with contextlib.closing(conn):
        for _ in range(samples + 1):
            started, wall = time.perf_counter(), time.time()
            try:
                conn.request("GET", "/")
                response = conn.getresponse()
                response.read()
            except ssl.SSLCertVerificationError as exc:
                raise CliError(
                    f"cannot reach {endpoint.url}: {exc} (a self-signed test server? "
                    "--no-verify-ssl skips the check, as boto3's verify=False)"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                raise CliError(f"cannot reach {endpoint.url}: {exc}") from None
            elapsed = time.perf_counter() - started
            timings.append(elapsed)
            date = response.getheader("Date")
            if date:
                with contextlib.suppress(TypeError, ValueError):
                    server = email.utils.parsedate_to_datetime(date).timestamp() + 0.5
                    skews.append(server - (wall + elapsed / 2))
    first, median = 1000 * timings[0], 1000 * statistics.median(timings[1:])
    server_name = response.getheader("Server") or "the server"
    found = [
        Finding(
            "reachability",
            "warn" if median > 200 else "ok",
            f"HTTP {response.status} from {server_name}: first request {first:.1f} ms (with "
            f"connect), then median {median:.1f} ms over {samples}",
            {"status": response.status, "first_ms": round(first, 2), "median_ms": round(median, 2)},
            note="high latency: raise read timeouts and concurrency" if median > 200 else None,
        )
    ]
    found.append(_clock(skews))
    return found


def _clock(skews: list[float]) -> Finding:
    """The clock-skew finding from (server - local) estimates in seconds."""
    if not skews:
        return Finding("clock skew", "info", "the server sends no Date header: skew unknown")
    skew = statistics.median(skews)
    status = "ok" if abs(skew) <= 2 else "warn" if abs(skew) <= 300 else "problem"
    direction = "ahead of" if skew >= 0 else "behind"
    return Finding(
        "clock skew",
        status,
        f"server clock {abs(skew):.1f} s {direction} the local clock (±1 s: Date has whole "
        "seconds)",
        {"skew_seconds": round(skew, 2)},
        note=None
        if status == "ok"
        else "sync the clocks (NTP): S3 refuses requests signed over 15 minutes off",
    )
