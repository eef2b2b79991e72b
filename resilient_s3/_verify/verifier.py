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
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .._errors import VerificationError
from .._fields import error_code
from .._retry.classify import ErrorKind, classify
from .._retry.policy import RetryPolicy
from .._stats import Stats
from .judgment import differing, expected_of, judge, public_fields
from .listing import Listed, ListingCoalescer
from .policy import VerifyPolicy
from .refusal import Refused, read_refusal
from .reupload import ConditionalWrites, KeyTaken
from .unverified import Unverified

__all__ = ["READ_BACK_PARAMS", "VERIFIED_OPERATIONS", "Verifier"]

logger = logging.getLogger("resilient_s3")

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


class Verifier:
    """Checks the writes of one client; shares its stats."""

    def __init__(
        self,
        policy: VerifyPolicy,
        retry: RetryPolicy,
        stats: Stats,
        writes: ConditionalWrites,
        send: Send,
        unverified: Unverified,
    ) -> None:
        self.policy = policy
        self._clock = retry.clock
        self._tables = retry.tables
        self._stats = stats
        self._send = send
        self._writes = writes
        self._unverified = unverified
        self._listing = (
            ListingCoalescer(lambda params: send("ListObjectsV2", params, None), policy.coalesce)
            if policy.mode == "head" and policy.coalesce
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
        try:
            return self._verify(operation, params, response, write, length)
        finally:
            self._stats.add_seconds(self._clock() - started)

    def _verify(
        self,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any],
        write: Write,
        length: int | None,
    ) -> dict[str, Any]:
        bucket, key = params["Bucket"], params["Key"]
        expected = expected_of(response, length)
        if self.policy.mode == "read" and operation == "PutObject":
            expected["md5"] = _md5_of(params["Body"])
        acked = self._clock()  # the write was just acknowledged
        for reuploads in itertools.count():
            found: Found
            if reuploads:
                found = self._read_back(params, response, expected)
            else:
                found = self._first_read_back(params, response, expected)
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
            again = self._reupload(operation, params, write, expected, verdict.condition)
            if again is None:  # an earlier attempt's write had landed after all: verified
                self._stats.add("verified")
                return response
            response, acked = again, self._clock()
            expected = {**expected_of(response, length), "md5": expected.get("md5")}
        raise AssertionError("judge() fails once max_reuploads re-uploads were made")

    def _first_read_back(
        self, params: Mapping[str, Any], response: Mapping[str, Any], expected: dict[str, Any]
    ) -> Found:
        """A shared listing that confirms the write (``Listed``), else :meth:`_read_back`."""
        own: list[Found] = []

        def head() -> Found:
            own.append(self._read_back(params, response, expected))
            return own[-1]

        if self._listing is None or any(name in params for name in READ_BACK_PARAMS):
            return head()
        found = self._listing.read_back(params["Bucket"], params["Key"], head)
        if not own and isinstance(found, Listed) and not _listed_as_expected(found, expected):
            return head()  # the shared page shows another object: HeadObject judges it
        return found

    def _read_back(
        self, params: Mapping[str, Any], response: Mapping[str, Any], expected: dict[str, Any]
    ) -> Found:
        """What the server holds now: :meth:`_read_object`, or when the server refuses that
        read, what one listing page shows (:meth:`_list_key`)."""
        try:
            return self._read_object(params, response, expected)
        except ClientError as error:
            why = read_refusal(error, self._tables)
            if why is None:
                raise
            operation = "GetObject" if expected.get("md5") else "HeadObject"
            return self._list_key(params, f"{operation} {why}")

    def _list_key(self, params: Mapping[str, Any], why: str) -> Found:
        """The key as one ListObjectsV2 page shows it (``Listed``, or :class:`Absent` at the
        time the page was answered), or :class:`Refused` when the listing is refused too."""
        query: dict[str, Any] = {"Bucket": params["Bucket"], "Prefix": params["Key"], "MaxKeys": 1}
        if "RequestPayer" in params:
            query["RequestPayer"] = params["RequestPayer"]
        try:
            page = self._send("ListObjectsV2", query, None)
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
    ) -> dict[str, Any] | Absent:
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
        try:  # the first answer, its 404 not retried: when it came matters (_check_lost)
            found = self._send(operation, query, self._clock())
        except ClientError as exc:
            if classify(exc) is not ErrorKind.NOT_FOUND:
                raise
            absent = Absent(self._clock())
            if self.policy.visibility_timeout <= 0:
                return absent
            try:  # a stale 404 of a server without read-after-write: wait it out
                found = self._send(operation, query, absent.at + self.policy.visibility_timeout)
            except ClientError as again:
                if classify(again) is ErrorKind.NOT_FOUND:
                    return absent
                raise
        if operation == "GetObject":
            found["md5"] = hashlib.md5(found["Body"].read(), usedforsecurity=False).hexdigest()
        return found

    def _reupload(
        self,
        operation: str,
        params: dict[str, Any],
        write: Write,
        expected: dict[str, Any],
        condition: Mapping[str, str],
    ) -> dict[str, Any] | None:
        """The re-upload's response, or ``None`` when the conditional re-upload found that our
        own object is there after all."""
        conditional = operation in _CONDITIONAL and self.policy.conditional_reupload
        try:
            again = self._writes.reupload(write, params, condition if conditional else None)
        except ClientError as exc:
            if error_code(exc) == "NoSuchUpload":
                raise VerificationError(
                    params["Bucket"], params["Key"], "lost", public_fields(expected), None,
                    "the multipart upload was completed on the client's side but no object "
                    "exists and the upload is gone: upload the object again",
                ) from exc  # fmt: skip
            raise
        if isinstance(again, KeyTaken):
            self._settle_conflict(params, expected, again.error)
            return None
        return again

    def _settle_conflict(
        self, params: Mapping[str, Any], expected: dict[str, Any], exc: ClientError
    ) -> None:
        """The conditional re-upload found an object: return if it is ours (an earlier attempt
        landed after all), raise a conflict if it is someone else's."""
        found = self._read_back(params, {}, expected)
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
    """MD5 of the bytes a body sends (a seekable file is read and put back where it was)."""
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, (bytes, bytearray, memoryview)):
        return hashlib.md5(body, usedforsecurity=False).hexdigest()
    start = body.tell()
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := body.read(1024 * 1024):
        digest.update(chunk)
    body.seek(start)
    return digest.hexdigest()
