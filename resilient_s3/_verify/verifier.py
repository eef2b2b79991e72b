"""The facade's verify-after-put: read a write back until it is visible, then act on the one
judgment of ``judgment.py`` (verified; re-upload a lost write or other bytes under a condition
that never overwrites another writer's object; fail naming the object).

The read-back is a HeadObject (``ChecksumMode="ENABLED"`` when the write returned a checksum;
a GetObject whose bytes are hashed in ``"read"`` mode), passing on the write's SSE-C key and
``RequestPayer``. In ``"head"`` mode, while many writes to one bucket are verified at once, a
shared ListObjectsV2 page may confirm a write instead (``VerifyPolicy.coalesce``,
``listing.py``): only a key listed with the ETag and length expected is confirmed that way (the
ETag the server listed is the one it answered for this write); anything else is read back with
HeadObject.

A read-back that answers 404 is retried for ``visibility_timeout`` (stale reads of servers
without read-after-write consistency); when the server first answered 404 decides whether an
absent key is a lost write (``lost_write_window``). Once a read-back has shown our object, the
write is verified and never read again: a later delete is someone else's newer write. A
conditional re-upload refused because the key holds an object settles it: ours (an earlier
attempt landed after all) is verified, another writer's raises ``VerificationError``
(``"conflict"``).

A read-back the server *refuses* (403, 400, 405, 501: ``refusal.py``) is no verdict on the write:
one ListObjectsV2 page of the key (``Prefix`` = the key, ``MaxKeys=1``: it needs only
``s3:ListBucket``) is judged instead, by ETag and length as a shared listing is (a key it does
not show is absent). When the listing is refused too, the write is returned unverified or
raised, per ``VerifyPolicy.unreadable`` (``unverified.py``).

The decisions are written once, as a flow of steps (``_steps.py``): :class:`Verifier` runs it
blocking for the sync door, :class:`AsyncVerifier` awaited for the asyncio door. The steps are
the I/O: a request through the door's send step, a body read, a body hashed, a conditional
re-upload, and a read-back shared through a listing (``listing.py``: the threads' coalescer, or
the event loop's).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from .._errors import VerificationError
from .._fields import error_code
from .._retry.classify import ErrorKind, classify
from .._retry.policy import RetryPolicy
from .._stats import Stats
from .._steps import arun, run
from .judgment import differing, expected_of, judge, public_fields
from .listing import AsyncListingCoalescer, Listed, ListingCoalescer
from .policy import VerifyPolicy
from .refusal import Refused, read_refusal
from .reupload import ConditionalWrites, KeyTaken
from .unverified import Unverified

__all__ = ["READ_BACK_PARAMS", "VERIFIED_OPERATIONS", "AsyncVerifier", "Verifier"]

logger = logging.getLogger("resilient_s3")
T = TypeVar("T")

#: The writes that are read back. UploadPart is not: its object appears at completion.
VERIFIED_OPERATIONS = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})
_CONDITIONAL = frozenset({"PutObject", "CompleteMultipartUpload"})
#: A write's parameters its read-backs need too (an SSE-C object is read with its key).
READ_BACK_PARAMS = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer")
#: What a listing shows of an object, so all a listing can confirm.
_LISTED = ("ETag", "ContentLength")

#: ``send(operation, params, fresh_until)``: the facade's send step (one retried request; a 404
#: retried until ``fresh_until``; a GetObject body resumable).
Send = Callable[[str, dict[str, Any], "float | None"], dict[str, Any]]
#: ``write(extra_params)``: send the same write again (body rewound), retried.
Write = Callable[[Mapping[str, Any]], dict[str, Any]]
#: The awaited halves of :data:`Send` and :data:`Write`.
AsyncSend = Callable[[str, dict[str, Any], "float | None"], Awaitable[dict[str, Any]]]
AsyncWrite = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]


# The steps of the flow: what a driver does for it ------------------------------------------


@dataclass(frozen=True)
class _Request:
    """Send ``operation`` through the door's send step; the answer comes back."""

    operation: str
    params: dict[str, Any]
    fresh_until: float | None


@dataclass(frozen=True)
class _ReadAll:
    """Every byte of a GetObject answer's ``body``."""

    body: Any


@dataclass(frozen=True)
class _Hash:
    """The MD5 (hex) of the bytes a write's ``Body`` sends (a file is read: off the loop)."""

    body: Any


@dataclass(frozen=True)
class _Reupload:
    """The write again under ``condition`` (``ConditionalWrites``): its answer, or KeyTaken."""

    params: Mapping[str, Any]
    condition: Mapping[str, str] | None


@dataclass(frozen=True)
class _Shared:
    """A shared listing's answer for the key, else ``head()``'s flow run (``listing.py``)."""

    bucket: str
    key: str
    head: Callable[[], Steps[Found]]


_Step = _Request | _ReadAll | _Hash | _Reupload | _Shared
#: A verification flow: yields steps, returns ``T``.
Steps = Generator[_Step, Any, T]


class _Verification:
    """The decisions of verify-after-put, as a flow of steps (see the module docstring); one
    per client, sharing its stats."""

    def __init__(
        self,
        policy: VerifyPolicy,
        retry: RetryPolicy,
        stats: Stats,
        writes: ConditionalWrites,
        unverified: Unverified,
        coalesce: bool,
    ) -> None:
        self.policy = policy
        self._clock = retry.clock
        self._tables = retry.tables
        self._stats = stats
        self._writes = writes
        self._unverified = unverified
        self._coalesce = coalesce and policy.mode == "head" and policy.coalesce > 0

    def _verify(
        self,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any],
        length: int | None,
    ) -> Steps[dict[str, Any]]:
        bucket, key = params["Bucket"], params["Key"]
        expected = expected_of(response, length)
        if self.policy.mode == "read" and operation == "PutObject":
            expected["md5"] = yield _Hash(params["Body"])
        acked = self._clock()  # the write was just acknowledged
        for reuploads in itertools.count():
            found: Found
            if reuploads:
                found = yield from self._read_back(params, response, expected)
            else:
                found = yield from self._first_read_back(params, response, expected)
            if isinstance(found, Refused):
                error = self._unverified.refused(
                    self.policy, operation, bucket, key, found.reason, public_fields(expected)
                )
                if error is not None:
                    raise error from found.error
                return response
            if isinstance(found, Listed):
                listed = {name: expected.get(name) for name in _LISTED}
                shown = {"ETag": found.etag, "ContentLength": found.size}
                verdict = judge(listed, shown, 0.0, reuploads, self.policy)
                if verdict.verified:
                    self._stats.add("verified_by_listing")
            elif isinstance(found, Absent):
                verdict = judge(expected, None, found.at - acked, reuploads, self.policy)
            else:
                verdict = judge(expected, found, 0.0, reuploads, self.policy)
            if verdict.verified:
                self._stats.add("verified")
                return response
            if verdict.action == "fail":
                if verdict.reason == "mismatch":
                    self._stats.add("conflicts")
                raise verdict.error(bucket, key, expected)
            logger.warning(
                "%s %s s3://%s/%s: uploading it again",
                "lost write" if isinstance(found, Absent) else "other bytes stored by",
                operation, bucket, key,
            )  # fmt: skip
            self._stats.add("reuploads")
            again = yield from self._reupload(operation, params, expected, verdict.condition)
            if again is None:  # an earlier attempt's write had landed after all: verified
                self._stats.add("verified")
                return response
            response, acked = again, self._clock()
            expected = {**expected_of(response, length), "md5": expected.get("md5")}
        raise AssertionError("judge() fails once max_reuploads re-uploads were made")

    def _first_read_back(
        self, params: Mapping[str, Any], response: Mapping[str, Any], expected: dict[str, Any]
    ) -> Steps[Found]:
        """A shared listing that confirms the write (``Listed``), else :meth:`_read_back`."""
        own: list[bool] = []

        def head() -> Steps[Found]:
            own.append(True)
            return self._read_back(params, response, expected)

        if not self._coalesce or any(name in params for name in READ_BACK_PARAMS):
            return (yield from head())
        found: Found = yield _Shared(params["Bucket"], params["Key"], head)
        if not own and isinstance(found, Listed) and not _listed_as_expected(found, expected):
            return (yield from head())  # the shared page shows another object: HeadObject
        return found

    def _read_back(
        self, params: Mapping[str, Any], response: Mapping[str, Any], expected: dict[str, Any]
    ) -> Steps[Found]:
        """What the server holds now: :meth:`_read_object`, or when the server refuses that
        read, what one listing page shows (:meth:`_list_key`)."""
        try:
            return (yield from self._read_object(params, response, expected))
        except ClientError as error:
            why = read_refusal(error, self._tables)
            if why is None:
                raise
            operation = "GetObject" if expected.get("md5") else "HeadObject"
            return (yield from self._list_key(params, f"{operation} {why}"))

    def _list_key(self, params: Mapping[str, Any], why: str) -> Steps[Found]:
        """The key as one ListObjectsV2 page shows it (``Listed``, or :class:`Absent` at the
        time the page was answered), or :class:`Refused` when the listing is refused too."""
        query: dict[str, Any] = {"Bucket": params["Bucket"], "Prefix": params["Key"], "MaxKeys": 1}
        if "RequestPayer" in params:
            query["RequestPayer"] = params["RequestPayer"]
        try:
            page = yield _Request("ListObjectsV2", query, None)
        except ClientError as error:
            also = read_refusal(error, self._tables)
            if also is None:
                raise
            return Refused(f"{why}, ListObjectsV2 {also}", error)
        answered = self._clock()
        for entry in page.get("Contents", []):  # the key itself sorts first under its prefix
            if entry.get("Key") == params["Key"]:
                return Listed(entry.get("Size"), entry.get("ETag"))
        return Absent(answered)

    def _read_object(
        self, params: Mapping[str, Any], response: Mapping[str, Any], expected: dict[str, Any]
    ) -> Steps[dict[str, Any] | Absent]:
        """What the server holds now (after waiting out stale 404s), or :class:`Absent` with
        the time the server first answered 404."""
        query = {name: params[name] for name in READ_BACK_PARAMS if name in params}
        query.update(Bucket=params["Bucket"], Key=params["Key"])
        version = response.get("VersionId")
        if version and version != "null":
            query["VersionId"] = version
        if any(name.startswith("Checksum") for name in expected):
            query["ChecksumMode"] = "ENABLED"
        operation = "GetObject" if expected.get("md5") else "HeadObject"
        found: dict[str, Any]
        try:  # the first answer, its 404 not retried: when it came matters (_check_lost)
            found = yield _Request(operation, query, self._clock())
        except ClientError as exc:
            if classify(exc) is not ErrorKind.NOT_FOUND:
                raise
            absent = Absent(self._clock())
            if self.policy.visibility_timeout <= 0:
                return absent
            try:  # a stale 404 of a server without read-after-write: wait it out
                found = yield _Request(operation, query, absent.at + self.policy.visibility_timeout)
            except ClientError as again:
                if classify(again) is ErrorKind.NOT_FOUND:
                    return absent
                raise
        if operation == "GetObject":
            data = yield _ReadAll(found["Body"])
            found["md5"] = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return found

    def _reupload(
        self,
        operation: str,
        params: dict[str, Any],
        expected: dict[str, Any],
        condition: Mapping[str, str],
    ) -> Steps[dict[str, Any] | None]:
        """The re-upload's response, or ``None`` when the conditional re-upload found that our
        own object is there after all."""
        conditional = operation in _CONDITIONAL and self.policy.conditional_reupload
        try:
            again = yield _Reupload(params, condition if conditional else None)
        except ClientError as exc:
            if error_code(exc) == "NoSuchUpload":
                raise VerificationError(
                    params["Bucket"], params["Key"], "lost", public_fields(expected), None,
                    "the multipart upload was completed on the client's side but no object "
                    "exists and the upload is gone: upload the object again",
                ) from exc  # fmt: skip
            raise
        if isinstance(again, KeyTaken):
            yield from self._settle_conflict(params, expected, again.error)
            return None
        result: dict[str, Any] = again
        return result

    def _settle_conflict(
        self, params: Mapping[str, Any], expected: dict[str, Any], exc: ClientError
    ) -> Steps[None]:
        """The conditional re-upload found an object: return if it is ours (an earlier attempt
        landed after all), raise a conflict if it is someone else's."""
        found = yield from self._read_back(params, {}, expected)
        if isinstance(found, (Absent, Refused)):
            raise exc
        if isinstance(found, Listed):
            expected = {name: expected.get(name) for name in _LISTED}
            found = {"ETag": found.etag, "ContentLength": found.size}
        different = differing(expected, found)
        if different:
            self._stats.add("conflicts")
            shown = {name: found.get(name) for name in expected}
            raise VerificationError(
                params["Bucket"], params["Key"], "conflict", public_fields(expected),
                public_fields(shown),
                f"the conditional re-upload found another object (it differs in "
                f"{', '.join(different)}): another writer's; it was not overwritten",
            ) from exc  # fmt: skip


class Verifier(_Verification):
    """Verify-after-put, blocking (the sync door): read-backs through ``send``, the door's send
    step; concurrent read-backs of a bucket may share listings (``listing.py``)."""

    def __init__(
        self,
        policy: VerifyPolicy,
        retry: RetryPolicy,
        stats: Stats,
        writes: ConditionalWrites,
        send: Send,
        unverified: Unverified,
    ) -> None:
        super().__init__(policy, retry, stats, writes, unverified, coalesce=True)
        self._send = send
        self._listing = (
            ListingCoalescer(lambda params: send("ListObjectsV2", params, None), policy.coalesce)
            if self._coalesce
            else None
        )

    def verify(
        self,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any],
        write: Write,
        length: int | None,
    ) -> dict[str, Any]:
        """Return ``response`` once the write is verified; re-upload a lost one; else raise.

        ``write`` must be able to send the write again: the facade makes every body replayable
        (rewound, spooled, or refused before the first send).
        """
        started = self._clock()

        def do(step: _Step) -> Any:
            if isinstance(step, _Request):
                return self._send(step.operation, step.params, step.fresh_until)
            if isinstance(step, _ReadAll):
                return step.body.read()
            if isinstance(step, _Hash):
                return _md5_of(step.body)
            if isinstance(step, _Reupload):
                return self._writes.reupload(write, step.params, step.condition)
            assert self._listing is not None
            return self._listing.read_back(step.bucket, step.key, lambda: run(step.head(), do))

        try:
            return run(self._verify(operation, params, response, length), do)
        finally:
            self._stats.add_seconds(self._clock() - started)


class AsyncVerifier(_Verification):
    """Verify-after-put, awaited (the asyncio door): read-backs through ``send``, the door's
    awaited send step; ``offload(fn, *args)`` runs blocking work (hashing a file body) off the
    event loop; concurrent read-backs of a bucket may share listings, as on the sync door."""

    def __init__(
        self,
        policy: VerifyPolicy,
        retry: RetryPolicy,
        stats: Stats,
        writes: ConditionalWrites,
        send: AsyncSend,
        unverified: Unverified,
        offload: Callable[..., Awaitable[Any]],
    ) -> None:
        super().__init__(policy, retry, stats, writes, unverified, coalesce=True)
        self._send = send
        self._offload = offload
        self._listing = (
            AsyncListingCoalescer(
                lambda params: send("ListObjectsV2", params, None), policy.coalesce
            )
            if self._coalesce
            else None
        )

    async def verify(
        self,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any],
        write: AsyncWrite,
        length: int | None,
    ) -> dict[str, Any]:
        """:meth:`Verifier.verify`, awaited."""
        started = self._clock()

        async def do(step: _Step) -> Any:
            if isinstance(step, _Request):
                return await self._send(step.operation, step.params, step.fresh_until)
            if isinstance(step, _ReadAll):
                return await step.body.read()
            if isinstance(step, _Hash):
                if isinstance(step.body, (bytes, bytearray, memoryview, str)):
                    return _md5_of(step.body)
                return await self._offload(_md5_of, step.body)
            if isinstance(step, _Reupload):
                return await self._writes.areupload(write, step.params, step.condition)
            assert self._listing is not None
            return await self._listing.read_back(
                step.bucket, step.key, lambda: arun(step.head(), do)
            )

        try:
            return await arun(self._verify(operation, params, response, length), do)
        finally:
            self._stats.add_seconds(self._clock() - started)


@dataclass(frozen=True)
class Absent:
    """A read-back found no object; ``at``: the clock time the server first answered 404."""

    at: float


#: What a read-back found: the object read, a listing's entry, no object, or nothing readable.
Found = dict[str, Any] | Listed | Absent | Refused


def _listed_as_expected(listed: Listed, expected: Mapping[str, Any]) -> bool:
    shown = {"ETag": expected.get("ETag"), "ContentLength": expected.get("ContentLength")}
    found = {"ETag": listed.etag, "ContentLength": listed.size}
    return shown["ETag"] is not None and not differing(shown, found)


def _md5_of(body: Any) -> str | None:
    """MD5 of the bytes a body sends: a file from its start (position 0 once the core prepared
    it, ``_bodies/request.py``; the write has read it to its end by now), put back where it
    was."""
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, (bytes, bytearray, memoryview)):
        return hashlib.md5(body, usedforsecurity=False).hexdigest()
    here = body.tell()
    body.seek(0)
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := body.read(1024 * 1024):
        digest.update(chunk)
    body.seek(here)
    return digest.hexdigest()
