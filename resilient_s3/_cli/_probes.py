"""The checks ``resilient-s3 doctor`` runs in a bucket, each returning a :class:`Finding` (the
reachability and clock checks, which need none, are in :mod:`._reachability`).

Every probe writes only under the run's prefix (deleted afterwards by the caller) and uses plain
boto3 clients, because they observe the server, not resilient_s3. The aws-chunked probe uses
boto3's defaults on purpose: that is the configuration which meets the problem.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import botocore.exceptions

from .._fields import error_code, http_status
from ._session import Endpoint

__all__ = [
    "PROBES",
    "Finding",
    "Target",
    "aws_chunked",
    "conditional_writes",
    "list_after_write",
    "multipart_etag",
    "range_reads",
]

#: The size of the aws-chunked probe's object: 1,024 bytes, stored as 1,067 by a broken server.
CHUNKED_PROBE_SIZE = 1024


@dataclass(frozen=True)
class Finding:
    """What one check found.

    Attributes:
        check: The check's name.
        status: ``"ok"``, ``"info"``, ``"warn"`` or ``"problem"`` (doctor exits 1 on a problem).
        summary: One or two sentences for a person.
        details: Measured values (JSON-ready).
        config: botocore ``Config`` settings this finding recommends.
        note: Advice that is not a setting.
    """

    check: str
    status: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Target:
    """Where the probes work: a default boto3 client, the bucket and this run's key prefix."""

    endpoint: Endpoint
    client: Any
    bucket: str
    prefix: str


def aws_chunked(target: Target) -> Finding:
    """Upload 1,024 bytes with boto3's default checksum setting; read back the length and bytes.

    If the server stored something else, upload again with
    ``request_checksum_calculation="when_required"`` to see whether that avoids it.
    """
    data = bytes(range(256)) * (CHUNKED_PROBE_SIZE // 256)
    default = target.endpoint.boto3_client()
    stored = _round_trip(target, default, "aws-chunked/default", data)
    default.close()
    details: dict[str, Any] = {"sent": len(data), "stored": len(stored)}
    if stored == data:
        scheme = urlsplit(target.endpoint.url).scheme
        tail = (
            " (over http boto3 sends the checksum in a header, not aws-chunked: check the "
            "https endpoint too)"
            if scheme == "http"
            else " with boto3's default aws-chunked upload"
        )
        return Finding("aws-chunked uploads", "ok", f"1,024 bytes in, 1,024 out{tail}", details)
    framed = stored.startswith(b"%x\r\n" % len(data)) and b"x-amz-checksum-" in stored
    fixed_client = target.endpoint.boto3_client(request_checksum_calculation="when_required")
    fixed = _round_trip(target, fixed_client, "aws-chunked/when-required", data) == data
    fixed_client.close()
    details["framing_stored"], details["when_required_intact"] = framed, fixed
    what = "the aws-chunked framing as object data" if framed else "other bytes than were sent"
    summary = f"1,024 bytes in, {len(stored):,} out: the server stores {what}"
    if fixed:
        summary += '; with request_checksum_calculation="when_required": 1,024 in, 1,024 out'
    return Finding(
        "aws-chunked uploads",
        "problem",
        summary,
        details,
        config={"request_checksum_calculation": "when_required"} if fixed else {},
        note=None if fixed else "uploads are corrupted even without checksums: do not use it",
    )


def _round_trip(target: Target, client: Any, name: str, data: bytes) -> bytes:
    """Put ``data`` with ``client``, read it back with a client that validates no checksum."""
    key = target.prefix + name
    client.put_object(Bucket=target.bucket, Key=key, Body=data)
    reader = target.endpoint.boto3_client(response_checksum_validation="when_required")
    try:
        return bytes(reader.get_object(Bucket=target.bucket, Key=key)["Body"].read())
    finally:
        reader.close()


def conditional_writes(target: Target) -> Finding:
    """PutObject with ``IfNoneMatch="*"`` on an existing key: S3 answers 412."""
    s3, key = target.client, target.prefix + "conditional"
    s3.put_object(Bucket=target.bucket, Key=key, Body=b"first")
    try:
        s3.put_object(Bucket=target.bucket, Key=key, Body=b"second", IfNoneMatch="*")
    except botocore.exceptions.ClientError as exc:
        status, code = http_status(exc), error_code(exc) or "?"
        if status == 412:
            return Finding(
                "conditional writes",
                "ok",
                f'PutObject IfNoneMatch="*" on an existing key: 412 {code}',
                {"status": status},
            )
        return Finding(
            "conditional writes",
            "warn",
            f'PutObject IfNoneMatch="*" on an existing key: {status} {code}: not supported',
            {"status": status, "code": code},
            note="conditional writes (IfNoneMatch) are not supported: do not rely on them",
        )
    now = s3.get_object(Bucket=target.bucket, Key=key)["Body"].read()
    overwritten = now == b"second"
    return Finding(
        "conditional writes",
        "warn",
        'PutObject IfNoneMatch="*" on an existing key succeeded'
        + (": the object was overwritten" if overwritten else ""),
        {"status": 200, "overwritten": overwritten},
        note="the server ignores If-None-Match: a conditional create can overwrite silently",
    )


def list_after_write(target: Target, count: int = 10, wait: float = 5.0) -> Finding:
    """Put ``count`` new keys, list them at once, then every 0.1 s for up to ``wait`` s."""
    s3, prefix = target.client, target.prefix + "list-after-write/"
    for i in range(count):
        s3.put_object(Bucket=target.bucket, Key=f"{prefix}{i:03d}", Body=b"x")
    started = time.monotonic()

    def listed() -> int:
        return int(s3.list_objects_v2(Bucket=target.bucket, Prefix=prefix).get("KeyCount", 0))

    first = seen = listed()
    while seen < count and time.monotonic() - started < wait:
        time.sleep(0.1)
        seen = listed()
    delay = time.monotonic() - started
    details = {"written": count, "listed_at_once": first, "listed_finally": seen}
    if first == count:
        return Finding(
            "list after write", "ok", f"{count} of {count} new keys listed at once", details
        )
    note = "listings lag behind writes: check objects with HEAD/GET, not by listing"
    if seen == count:
        summary = f"{first} of {count} new keys listed at once, all after {delay:.1f} s"
        return Finding("list after write", "warn", summary, details, note=note)
    summary = f"{first} of {count} new keys listed at once, {seen} after {wait:g} s"
    return Finding("list after write", "problem", summary, details, note=note)


def range_reads(target: Target) -> Finding:
    """GetObject with ``Range: bytes=100-199`` of a 1,000-byte object: 206 and those bytes."""
    s3, key = target.client, target.prefix + "range"
    data = bytes((i * 7) % 256 for i in range(1000))
    s3.put_object(Bucket=target.bucket, Key=key, Body=data)
    response = s3.get_object(Bucket=target.bucket, Key=key, Range="bytes=100-199")
    body = response["Body"].read()
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    details = {"status": status, "length": len(body), "content_range": response.get("ContentRange")}
    if status == 206 and body == data[100:200]:
        return Finding(
            "range reads",
            "ok",
            f"bytes=100-199: 206, 100 bytes, Content-Range {response.get('ContentRange')}",
            details,
        )
    what = "the whole object" if body == data else f"{len(body)} wrong bytes"
    return Finding(
        "range reads",
        "problem",
        f"bytes=100-199: {status} with {what}",
        details,
        note="Range requests are not honoured: interrupted downloads cannot resume here",
    )


def multipart_etag(target: Target) -> Finding:
    """Upload two parts (5 MiB + 1 KiB); the ETag should be ``"<md5 of part md5s>-2"``."""
    s3, key = target.client, target.prefix + "multipart"
    rng = random.Random(1)
    parts = [rng.randbytes(5 * 1024 * 1024), rng.randbytes(1024)]
    upload = s3.create_multipart_upload(Bucket=target.bucket, Key=key)["UploadId"]
    try:
        done = []
        for number, part in enumerate(parts, start=1):
            etag = s3.upload_part(
                Bucket=target.bucket, Key=key, UploadId=upload, PartNumber=number, Body=part
            )["ETag"]
            done.append({"PartNumber": number, "ETag": etag})
        etag = s3.complete_multipart_upload(
            Bucket=target.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}
        )["ETag"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        with contextlib.suppress(botocore.exceptions.ClientError):
            s3.abort_multipart_upload(Bucket=target.bucket, Key=key, UploadId=upload)
        raise
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-2"
    length = s3.head_object(Bucket=target.bucket, Key=key)["ContentLength"]
    plain = etag.strip('"')
    sent = sum(map(len, parts))
    details = {"etag": etag, "aws_format": plain == expected, "stored": length, "sent": sent}
    if length != sent:
        summary = f"{sent:,} bytes uploaded in 2 parts, {length:,} stored"
        return Finding("multipart ETag", "problem", summary, details)
    if plain == expected:
        summary = f'{etag}: "-2" suffix, MD5 of the part MD5s, as AWS computes it'
        return Finding("multipart ETag", "ok", summary, details)
    if re.fullmatch(r"[0-9a-f]{32}-2", plain):
        summary = f'{etag}: "-2" suffix, but not the MD5 of the part MD5s'
        return Finding("multipart ETag", "info", summary, details)
    return Finding(
        "multipart ETag",
        "warn",
        f'{etag}: no "-N" suffix after a 2-part upload',
        details,
        note="multipart ETags do not follow AWS's format: never compare them with a body MD5",
    )


#: The checks that need a bucket, in the order doctor runs them.
PROBES: tuple[tuple[str, Callable[[Target], Finding]], ...] = (
    ("aws-chunked uploads", aws_chunked),
    ("conditional writes", conditional_writes),
    ("list after write", list_after_write),
    ("range reads", range_reads),
    ("multipart ETag", multipart_etag),
)
