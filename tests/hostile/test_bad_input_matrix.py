"""The bad-input matrix: wrong inputs across the facade and the batch, each refused with the
right error type, a message naming the object, and as many requests as the kind allows: 0 for
a local error (refused before sending), 1 for a permanent one (never retried)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from resilient_s3 import RetryPolicy, UnreplayableBodyError, VerifyPolicy
from resilient_s3.testing import Fault, FaultKind

from .conftest import proxied

Call = Callable[[Any, str, Path], object]


class _Pipe(io.RawIOBase):
    """A readable, non-seekable stream."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:1] = b"x"
        return 1


def _closed() -> io.BytesIO:
    body = io.BytesIO(b"data")
    body.close()
    return body


def _text(tmp: Path) -> Any:
    path = tmp / "text.txt"
    path.write_text("hello")
    return path.open("r")


def _message(error: BaseException) -> str:
    return " ".join([str(error), *getattr(error, "__notes__", [])])


# (id, call(s3, bucket, tmp), error type): refused before any request
FACADE_LOCAL: list[tuple[str, Call, type[BaseException]]] = [
    ("closed file", lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=_closed()), ValueError),
    ("text file", lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=_text(t)), TypeError),
    (
        "big pipe",
        lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=_Pipe()),
        UnreplayableBodyError,
    ),
    ("int body", lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=5), ParamValidationError),
    (
        "ContentLength str",
        lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=b"x", ContentLength="x"),
        ParamValidationError,
    ),
    (
        "Metadata str",
        lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=b"x", Metadata="m"),
        ParamValidationError,
    ),
    (
        "Metadata values",
        lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=b"x", Metadata={"a": 1}),
        AttributeError,
    ),
    (
        "unknown param",
        lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=b"x", Colour="red"),
        ParamValidationError,
    ),
    (
        "ACL int",
        lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=b"x", ACL=5),
        ParamValidationError,
    ),
    (
        "Tagging int",
        lambda s3, b, t: s3.put_object(Bucket=b, Key="k", Body=b"x", Tagging=5),
        ParamValidationError,
    ),
    ("Range int", lambda s3, b, t: s3.get_object(Bucket=b, Key="k", Range=5), ParamValidationError),
    (
        "PartNumber str",
        lambda s3, b, t: s3.get_object(Bucket=b, Key="k", PartNumber="one"),
        ParamValidationError,
    ),
    (
        "VersionId int",
        lambda s3, b, t: s3.head_object(Bucket=b, Key="k", VersionId=5),
        ParamValidationError,
    ),
    (
        "IfMatch int",
        lambda s3, b, t: s3.head_object(Bucket=b, Key="k", IfMatch=5),
        ParamValidationError,
    ),
    (
        "delete VersionId",
        lambda s3, b, t: s3.delete_object(Bucket=b, Key="k", VersionId=5),
        ParamValidationError,
    ),
    (
        "tagging str",
        lambda s3, b, t: s3.put_object_tagging(Bucket=b, Key="k", Tagging="t"),
        ParamValidationError,
    ),
    (
        "copy MetadataDirective",
        lambda s3, b, t: s3.copy_object(
            Bucket=b, Key="k", CopySource=f"{b}/s", MetadataDirective=5
        ),
        ParamValidationError,
    ),
    (
        "upload_part no UploadId",
        lambda s3, b, t: s3.upload_part(Bucket=b, Key="k", PartNumber=1, Body=b"x"),
        ParamValidationError,
    ),
]

# (id, call(s3, bucket), error code): the server refuses, once
FACADE_PERMANENT: list[tuple[str, Callable[[Any, str], object], str]] = [
    ("put denied", lambda s3, b: s3.put_object(Bucket=b, Key="k", Body=b"x"), "AccessDenied"),
    ("get denied", lambda s3, b: s3.get_object(Bucket=b, Key="k"), "AccessDenied"),
    ("head denied", lambda s3, b: s3.head_object(Bucket=b, Key="k"), "403"),
    ("delete denied", lambda s3, b: s3.delete_object(Bucket=b, Key="k"), "AccessDenied"),
    (
        "copy denied",
        lambda s3, b: s3.copy_object(Bucket=b, Key="k", CopySource=f"{b}/s"),
        "AccessDenied",
    ),
    ("tagging denied", lambda s3, b: s3.get_object_tagging(Bucket=b, Key="k"), "AccessDenied"),
    ("acl denied", lambda s3, b: s3.get_object_acl(Bucket=b, Key="k"), "AccessDenied"),
]

# (id, call(s3, bucket), error code): no fault, the answer is final
FACADE_ANSWERS: list[tuple[str, Callable[[Any, str], object], str]] = [
    ("get missing", lambda s3, b: s3.get_object(Bucket=b, Key="k"), "NoSuchKey"),
    ("head missing", lambda s3, b: s3.head_object(Bucket=b, Key="k"), "404"),
    (
        "put no bucket",
        lambda s3, b: s3.put_object(Bucket=b + "-none", Key="k", Body=b"x"),
        "NoSuchBucket",
    ),
    (
        "copy missing source",
        lambda s3, b: s3.copy_object(Bucket=b, Key="k", CopySource=f"{b}/none"),
        "NoSuchKey",
    ),
]

# (id, items(tmp), error type): a collection refused before any request
BATCH_LOCAL: list[tuple[str, Callable[[Path], Any], type[BaseException]]] = [
    ("closed file", lambda t: [("k", _closed())], ValueError),
    ("text file", lambda t: [("k", _text(t))], TypeError),
    ("missing file", lambda t: [("k", t / "none.bin")], FileNotFoundError),
    ("int body", lambda t: [("k", 5)], TypeError),
    ("pipe, verified", lambda t: [("k", _Pipe())], UnreplayableBodyError),
    ("duplicate", lambda t: [("k", b"1"), ("k", b"2")], ValueError),
    ("reserved extra", lambda t: [("k", b"x", {"Bucket": "other"})], ValueError),
    ("extra not a mapping", lambda t: [("k", b"x", "ContentType")], TypeError),
]


@pytest.fixture
def s3(fault_proxy: Any) -> Any:
    policy = RetryPolicy(body_spool_limit=0, deadline=20)
    return proxied(fault_proxy, policy, verify_writes=VerifyPolicy(mode="off"))


@pytest.mark.parametrize(
    ("call", "error"), [c[1:] for c in FACADE_LOCAL], ids=[c[0] for c in FACADE_LOCAL]
)
def test_facade_local_errors_send_nothing(
    s3: Any,
    fault_proxy: Any,
    s3_bucket: str,
    tmp_path: Path,
    call: Call,
    error: type[BaseException],
) -> None:
    with pytest.raises(error) as caught:
        call(s3, s3_bucket, tmp_path)
    assert f"s3://{s3_bucket}/k" in _message(caught.value)
    assert getattr(caught.value, "resilient_s3_attempts", 0) == 0
    assert fault_proxy.counters["requests"] == 0


@pytest.mark.parametrize(
    ("call", "code"), [c[1:] for c in FACADE_PERMANENT], ids=[c[0] for c in FACADE_PERMANENT]
)
def test_facade_permanent_errors_are_sent_once(
    s3: Any, fault_proxy: Any, s3_bucket: str, call: Callable[[Any, str], object], code: str
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED)])
    with pytest.raises(ClientError) as caught:
        call(s3, s3_bucket)
    assert caught.value.response["Error"]["Code"] == code
    assert f"s3://{s3_bucket}/k" in _message(caught.value)
    assert fault_proxy.counters["requests"] == 1


@pytest.mark.parametrize(
    ("call", "code"), [c[1:] for c in FACADE_ANSWERS], ids=[c[0] for c in FACADE_ANSWERS]
)
def test_facade_final_answers_are_sent_once(
    s3: Any, fault_proxy: Any, s3_bucket: str, call: Callable[[Any, str], object], code: str
) -> None:
    with pytest.raises(ClientError) as caught:
        call(s3, s3_bucket)
    assert caught.value.response["Error"]["Code"] == code
    assert "s3://" in _message(caught.value)
    assert "/k " in _message(caught.value)
    assert fault_proxy.counters["requests"] == 1


@pytest.mark.parametrize(
    ("items", "error"), [c[1:] for c in BATCH_LOCAL], ids=[c[0] for c in BATCH_LOCAL]
)
def test_batch_collections_with_a_bad_item_send_nothing(
    s3: Any,
    fault_proxy: Any,
    s3_bucket: str,
    tmp_path: Path,
    items: Callable[[Path], Any],
    error: type[BaseException],
) -> None:
    with pytest.raises(error, match=f"s3://{s3_bucket}/k"):
        s3.batch.put(s3_bucket, items(tmp_path))
    assert fault_proxy.counters["requests"] == 0


@pytest.mark.parametrize(
    ("items", "error"), [c[1:] for c in BATCH_LOCAL[:5]], ids=[c[0] for c in BATCH_LOCAL[:5]]
)
def test_batch_generators_fail_a_bad_item_alone_sending_nothing(
    s3: Any,
    fault_proxy: Any,
    s3_bucket: str,
    tmp_path: Path,
    items: Callable[[Path], Any],
    error: type[BaseException],
) -> None:
    report = s3.batch.put(s3_bucket, iter(items(tmp_path)))
    (failure,) = report.failed
    assert isinstance(failure.error, error)
    assert f"s3://{s3_bucket}/k" in _message(failure.error)
    assert failure.attempts == 0
    assert fault_proxy.counters["requests"] == 0


BATCH_PERMANENT: list[tuple[str, Callable[[Any, str], Any]]] = [
    ("put", lambda s3, b: s3.batch.put(b, [("k", b"x")], verify_writes=False)),
    ("get", lambda s3, b: s3.batch.get(b, ["k"])),
    ("head", lambda s3, b: s3.batch.head(b, ["k"])),
    ("delete", lambda s3, b: s3.batch.delete(b, ["k"])),
    ("copy", lambda s3, b: s3.batch.copy([(b, "s", b, "k")], verify_writes=False)),
]


@pytest.mark.parametrize(
    "call", [c[1] for c in BATCH_PERMANENT], ids=[c[0] for c in BATCH_PERMANENT]
)
def test_batch_permanent_errors_are_sent_once(
    s3: Any, fault_proxy: Any, s3_bucket: str, call: Callable[[Any, str], Any]
) -> None:
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED)])
    report = call(s3, s3_bucket)
    (failure,) = report.failed
    assert isinstance(failure.error, ClientError)
    assert failure.error.response["Error"]["Code"] in ("AccessDenied", "403")  # HEAD: no body
    assert f"s3://{s3_bucket}/k" in f"{failure} {_message(failure.error)}"
    assert failure.attempts == 1
    assert fault_proxy.counters["requests"] == 1
