"""A resilient_s3 client answered without a server: every request gets a canned 200 with an
ETag from a ``before-send`` handler, so a benchmark measures the client's own CPU alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["canned_client"]


class _Canned:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


def _answer(request: Any, **_: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    headers: Any = {"ETag": '"d41d8cd98f00b204e9800998ecf8427e"', "x-amz-request-id": "R1"}
    return AWSResponse(request.url, 200, headers, _Canned())


def canned_client(**options: Any) -> Any:
    """``resilient_s3.client("s3", ...)`` (verify-after-put off, ``options`` added) whose
    requests are answered at once by a canned 200."""
    import resilient_s3

    s3 = resilient_s3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        endpoint_url="http://127.0.0.1:9",
        verify_writes=False,
        **options,
    )
    s3.inner.meta.events.register("before-send.s3", _answer)
    return s3
