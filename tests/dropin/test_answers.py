"""Calls that work with boto3 and answer as boto3 answers, side by side on moto and LocalStack:
a file-like body whose ``seek()`` returns ``None``, and DeleteObjects' answer when nothing was
deleted (issue 22, found by a conformance suite run through the facade)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from typing import Any

import boto3

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.testing._process import ManagedServer

from ..conftest import PLANES

DATA = bytes(range(256)) * 40


class SeekReturnsNone:
    """A file-like whose ``seek()`` returns ``None`` (the standard says the new position; some
    real file-likes return nothing), as a conformance suite's upload body did."""

    def __init__(self, data: bytes, start: int) -> None:
        self._file = io.BytesIO(data)
        self._file.seek(start)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> None:
        self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


def _kept(answer: Mapping[str, Any]) -> set[str]:
    return set(answer) - {"ResponseMetadata"}


def _body(start: int) -> Any:
    return SeekReturnsNone(DATA, start)  # typed Any: boto3's stubs ask for IO[Any]


def test_a_body_whose_seek_returns_none_is_sent_from_where_it_stands(
    dropin_server: ManagedServer, dropin_admin: Any, dropin_bucket: str, quick_policy: RetryPolicy
) -> None:
    plain = boto3.client("s3", **dropin_server.client_kwargs())
    theirs = plain.put_object(Bucket=dropin_bucket, Key="plain", Body=_body(0))
    # (boto3 is given the body at 0: from 100, with awscrt installed, its CRT signer seeks the
    # body to 0 and sends the 100 bytes before the start too, under the checksum of the rest:
    # LocalStack answers BadDigest, moto stores 10,240 bytes)
    with resilient_s3.client("s3", retry=quick_policy, **dropin_server.client_kwargs()) as s3:
        for start in (0, 100):
            body = _body(start)
            ours = s3.put_object(Bucket=dropin_bucket, Key=f"ours-{start}", Body=body)
            assert _kept(ours) == _kept(theirs)
        for plane in PLANES:
            key = f"batch-{plane}"
            report = s3.batch.put(dropin_bucket, [(key, _body(100))], data_plane=plane)
            assert report.ok, report.failed
    for key in ("plain", "ours-0"):
        assert dropin_admin.get_object(Bucket=dropin_bucket, Key=key)["Body"].read() == DATA
    for key in ("ours-100", *(f"batch-{plane}" for plane in PLANES)):
        assert dropin_admin.get_object(Bucket=dropin_bucket, Key=key)["Body"].read() == DATA[100:]


def test_delete_objects_answers_boto3s_keys_when_nothing_is_deleted(
    dropin_server: ManagedServer, dropin_admin: Any, quick_policy: RetryPolicy
) -> None:
    """Under an object-lock legal hold, deleting a version deletes nothing: boto3's answer has
    ``Errors`` and no ``Deleted`` key at all."""
    bucket = f"dropin-locked-{uuid.uuid4().hex[:12]}"
    dropin_admin.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    put = dropin_admin.put_object(
        Bucket=bucket, Key="held", Body=b"x", ObjectLockLegalHoldStatus="ON"
    )
    delete: Any = {"Objects": [{"Key": "held", "VersionId": put["VersionId"]}]}
    try:
        plain = boto3.client("s3", **dropin_server.client_kwargs())
        theirs = plain.delete_objects(Bucket=bucket, Delete=delete)
        assert "Deleted" not in theirs
        assert theirs["Errors"][0]["Code"] == "AccessDenied"
        with resilient_s3.client("s3", retry=quick_policy, **dropin_server.client_kwargs()) as s3:
            ours = s3.delete_objects(Bucket=bucket, Delete=delete)
            assert _kept(ours) == _kept(theirs)
            assert ours["Errors"] == theirs["Errors"]
            quiet = s3.delete_objects(Bucket=bucket, Delete={**delete, "Quiet": True})
            assert _kept(quiet) == {"Errors"}
    finally:
        dropin_admin.put_object_legal_hold(
            Bucket=bucket, Key="held", VersionId=put["VersionId"], LegalHold={"Status": "OFF"}
        )
        dropin_admin.delete_object(Bucket=bucket, Key="held", VersionId=put["VersionId"])
        dropin_admin.delete_bucket(Bucket=bucket)
