"""HTTP requests for the CRT, made by botocore's own pieces.

- **Where**: botocore's endpoint rules decide the URL of a bucket (endpoint URL with its scheme,
  port and path prefix, path-style or virtual-hosted addressing, the region's host), asked once
  per bucket with the key left out (S3's rules never read ``Key``), exactly as the boto3 client
  would resolve it. The signing region the rules give (if any) overrides the client's.
- **What**: the operation's parameters go through botocore's ``before-parameter-build`` handlers
  (SSE-C key digests, ``CopySource`` quoting, metadata checks, ListObjectsV2's
  ``EncodingType=url``...) on the client's own event system, with the call's context, then
  botocore's REST-XML serializer: headers, query string, body and the key's percent-encoding
  are botocore's, the caller's ``ContentMD5`` included. Only ``Host`` and ``Content-Length``
  are added here; checksums (CRC32 by default) are ``checksums.py``'s, and signing is the
  CRT's.

A built request carries nothing secret until the CRT signs it, on its own threads.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from awscrt.http import HttpHeaders, HttpRequest
from botocore.client import BaseClient
from botocore.handlers import validate_bucket_name
from botocore.serialize import create_serializer
from botocore.utils import percent_encode, percent_encode_sequence

from ..._errors import describe
from ..._internals import resolve_endpoint

__all__ = ["BucketEndpoint", "RequestBuilder"]

#: Headers botocore's serializer may set that the CRT sets itself (or that must not be sent).
#: ``Content-MD5`` (a caller's ``ContentMD5``) is sent, as botocore sends it.
_DROPPED = frozenset({"expect", "transfer-encoding", "user-agent"})
#: An HTTP header name (RFC 9110's token: the CRT refuses any other, ``x-amz-meta-a b``), and
#: what its value may not hold (a line break that is not a continuation, or NUL).
_LEGAL_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ILLEGAL_VALUE = re.compile(r"\n(?![ \t])|\r(?![ \t\n])|\x00")
#: Parameters of the fast path, and the operations (with their methods) it serves.
_PLAIN = frozenset({"Bucket", "Key"})
_PLAIN_OPERATIONS = {"PutObject": "PUT", "GetObject": "GET", "HeadObject": "HEAD"}


@dataclass(frozen=True)
class BucketEndpoint:
    """Where a bucket's requests go: ``Host`` header, path prefix, signing region."""

    host: str
    path: str
    region: str | None


class RequestBuilder:
    """Builds ``HttpRequest`` objects for one boto3 client's settings (thread-safe)."""

    def __init__(self, inner: BaseClient) -> None:
        self._inner = inner
        self._model = inner.meta.service_model
        self._serializer = create_serializer("rest-xml", include_validation=True)
        self._events = inner.meta.events
        self._endpoints: dict[str, BucketEndpoint] = {}
        self._lock = threading.Lock()

    def endpoint(self, bucket: str) -> BucketEndpoint:
        """The bucket's endpoint, resolved by botocore's rules once; a bucket name botocore
        refuses (``"bkt/evil"``) raises its ``ParamValidationError`` before any request."""
        found = self._endpoints.get(bucket)
        if found is not None:
            return found
        validate_bucket_name({"Bucket": bucket})  # botocore's check (a handler the fast path skips)
        url, region = resolve_endpoint(self._inner, "HeadObject", {"Bucket": bucket, "Key": "k"})
        parts = urlsplit(url)
        found = BucketEndpoint(parts.netloc, parts.path.rstrip("/"), region)
        with self._lock:
            self._endpoints[bucket] = found
        return found

    def build(
        self,
        operation: str,
        params: Mapping[str, Any],
        body: IO[bytes] | None = None,
        length: int = 0,
        context: dict[str, Any] | None = None,
    ) -> tuple[HttpRequest, BucketEndpoint]:
        """The request for ``operation`` with ``params`` (``Body`` excluded: pass ``body`` and
        its ``length``), and the bucket's endpoint. ``context`` is the call's context for
        botocore's handlers, which note in it what they did (``encoding_type_auto_set``: the
        answer's keys are decoded after the call, ``outcome.botocore_answer``)."""
        endpoint = self.endpoint(str(params["Bucket"]))
        if params.keys() <= _PLAIN and operation in _PLAIN_OPERATIONS:
            # Bucket and Key only: no handler acts and the serializer adds nothing but the
            # key's percent-encoding ({Key+}: '/' and '~' kept), so skip them (~0.4 ms here).
            path = endpoint.path + "/" + percent_encode(str(params["Key"]), safe="/~")
            headers = [("Host", endpoint.host), ("Content-Length", str(length))]
            method = _PLAIN_OPERATIONS[operation]
            return HttpRequest(method, path, HttpHeaders(headers), body), endpoint
        model = self._model.operation_model(operation)
        params = dict(params)
        self._events.emit(
            f"before-parameter-build.s3.{operation}",
            params=params,
            model=model,
            context={} if context is None else context,
        )
        serialized = self._serializer.serialize_to_request(params, model)
        path = endpoint.path + serialized["url_path"]
        query = serialized["query_string"]
        if query:  # joined as botocore's prepare_request_dict joins it ("/{Bucket}?list-type=2")
            path += "&" if "?" in path else "?"
            path += percent_encode_sequence(query) if isinstance(query, dict) else query
        headers = [("Host", endpoint.host), ("Content-Length", str(length))]
        for name, value in serialized["headers"].items():
            if name.lower() not in _DROPPED and name.lower() != "content-length":
                text = value if isinstance(value, str) else value.decode()
                _check_header(operation, params, name, text)
                headers.append((name, text))
        stream = body
        if stream is None and not length and serialized.get("body"):
            data = serialized["body"]
            data = data.encode() if isinstance(data, str) else data
            stream, headers[1] = io.BytesIO(data), ("Content-Length", str(len(data)))
        request = HttpRequest(model.http["method"], path, HttpHeaders(headers), stream)
        return request, endpoint


def _check_header(operation: str, params: Mapping[str, Any], name: str, value: str) -> None:
    """Refuse, before any request, a header the CRT would fail the request for, nothing sent
    (http.client refuses the same values when botocore sends; it lets a space in a name
    through); the message names the object and the header, never its value (it may be a
    key)."""
    if _LEGAL_NAME.fullmatch(name) and not _ILLEGAL_VALUE.search(value):
        return
    what = "name" if not _LEGAL_NAME.fullmatch(name) else "value (a line break or NUL)"
    target = describe(params.get("Bucket"), params.get("Key"))
    raise ValueError(f"{operation} {target}: invalid header {what}: {name!r}; no request was sent")
