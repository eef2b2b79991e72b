"""List-based verification: written keys confirmed by ListObjectsV2 pages, 1,000 at a time.

Writes are sent without the facade's per-object read-back. Each acknowledged write (key, size,
the ETag the server answered) joins its bucket's *window*; a window of 1,000 keys (or 64 MiB of
bodies held in memory) is checked by listing the key ranges it spans, 250 sorted keys each,
at once: ``Prefix`` = the keys' common prefix, ``StartAfter`` just before the smallest, pages
until past the largest. One page confirms a range when its keys are neighbours in key order
(sequential names, a directory tree); when other keys are interleaved, at most
``2 * pages + 2`` pages are read and the keys beyond are checked with HeadObject, so the cost
stays bounded. Pages go through the batch's data plane (``Plane.list_page``: on the CRT plane,
CRT requests read by a lean parser).

What a listing shows of each key (size and ETag, or nothing) is judged by the facade's own
judgment (``_verify/judgment.py``): listed as written, the key is verified; missing, it is
uploaded again with ``IfNoneMatch="*"`` if the listing was answered within
``VerifyPolicy.lost_write_window`` of the write's acknowledgement (later, it fails as
``"absent"``: a delete by another client is not undone), which is why a window is also checked
once its oldest write is half that window old; listed with the ETag we were answered but another
size, the server stored other bytes, and it is uploaded again pinned to that version
(``IfMatch``); listed with another ETag, it is another writer's object: the item fails
(``"mismatch"``) and the object is not overwritten. A conditional re-upload refused (the key
holds an object the condition excludes) is listed again as it was, and judged again. A
re-upload re-joins a window; after ``max_reuploads`` the item fails with
:class:`~resilient_s3.VerificationError`.

A refused read is no verdict on a write (``_verify/refusal.py``): a listing refused (no
``s3:ListBucket``) is checked with HeadObject, and a key whose HeadObject is refused too (no
``s3:GetObject``, an SSE-C object read without its key) succeeds unverified (counted in the
report's and the client's ``unverified``, one WARNING per client) or fails with
``VerificationError`` reason ``"unreadable"``, per ``VerifyPolicy.unreadable``.

An S3 Express One Zone directory bucket (``--x-s3``) lists neither in key order nor from
``StartAfter``: its writes are checked with HeadObject, one per key, and that is logged once
per batch (``listing.lists_in_order``).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..._fields import http_status
from ..._verify.judgment import judge, normal_etag, public_fields
from ..._verify.listing import listing_params, lists_in_order
from ..._verify.policy import VerifyPolicy
from ..._verify.refusal import Refused, read_refusal
from ..._verify.reupload import KeyTaken
from ..._verify.verifier import READ_BACK_PARAMS
from .._pacing.pacer import BatchCancelled
from .._planes.base import Plane
from .._report.report import ItemResult
from .engine import Engine
from .jobs import ITEM_ERRORS, Job

if TYPE_CHECKING:
    from ..._shared import SharedParts

__all__ = ["ListVerifier", "Pending", "list_range"]

logger = logging.getLogger("resilient_s3")
WINDOW_KEYS = 1000
#: Keys per listed range. A listing's time grows with its keys (SeaweedFS here: 1,000 keys
#: ~110 ms, 250 ~35 ms) and the batch waits for the last window's: a window is listed as ranges
#: of 250 keys at once (about 4 list requests per 1,000 writes).
RANGE_KEYS = 250
WINDOW_BYTES = 64 * 1024 * 1024
_PAGE = 1000
#: Keys a page asks for beyond a range's own (a few keys that sort between).
_SLACK = 8
#: What the listing found for a key: (size, ETag).
Found = tuple[int | None, str | None]


@dataclass(frozen=True)
class Pending:
    """A write waiting for verification.

    ``rewrite(extra)`` writes the item again with ``extra`` parameters (``IfNoneMatch``) and
    returns the new result; ``params`` are the write's own parameters;
    ``memory`` is the body bytes held in memory until the key is verified.
    """

    result: ItemResult
    rewrite: Callable[[Mapping[str, Any]], Awaitable[ItemResult]]
    params: Mapping[str, Any]
    round: int = 0
    memory: int = 0
    acked: float = 0.0  # clock time the write was acknowledged (set by ListVerifier.written)


class ListVerifier:
    """Verifies the writes of one batch by listing (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        s3: Any,
        plane: Plane,
        shared: SharedParts,
        policy: VerifyPolicy,
        operation: str = "PutObject",
    ) -> None:
        """``operation``: the writes' (``"PutObject"``, or ``"CopyObject"``: a copy has no
        conditional form, so its re-uploads carry no condition; puts carry the verdict's when
        the policy says so)."""
        self.engine = engine
        self.s3 = s3
        self._plane = plane
        self._operation = operation
        self._unverified = shared.unverified
        self._tables = s3.retry_policy.tables
        self._clock: Callable[[], float] = s3.retry_policy.clock
        self._policy = policy
        self.lost_write_window = policy.lost_write_window
        # A HeadObject check wants the truth now: no read-your-writes retries of a 404
        self._head_s3 = s3.with_options(
            verify_writes=VerifyPolicy(mode="off", read_your_writes=0.0)
        )
        self._writes = shared.writes
        self._conditional = operation != "CopyObject" and policy.conditional_reupload
        self._windows: dict[str, dict[str, Pending]] = {}
        self._memory: dict[str, int] = {}
        self._checking: dict[int, dict[str, Pending]] = {}
        self._tokens = itertools.count()
        self._unordered_logged: set[str] = set()
        engine.leaves(self)

    async def written(self, pending: Pending) -> None:
        """A write was acknowledged: queue it for verification."""
        bucket, key = pending.result.bucket, pending.result.key
        now = self._clock()
        pending = dataclasses.replace(pending, acked=now)
        if key in self._windows.get(bucket, {}):
            self._start(bucket)  # the same key twice: check the first write's window first
        window = self._windows.setdefault(bucket, {})
        window[key] = pending
        self._memory[bucket] = self._memory.get(bucket, 0) + pending.memory
        oldest = next(iter(window.values())).acked
        if (
            len(window) >= WINDOW_KEYS
            or self._memory[bucket] >= WINDOW_BYTES
            or now - oldest >= self.lost_write_window / 2  # listed while a 404 still counts
        ):
            self._start(bucket)

    def flush(self) -> bool:
        """Start checking every partial window; whether there was any."""
        buckets = [bucket for bucket, window in self._windows.items() if window]
        for bucket in buckets:
            self._start(bucket)
        return bool(buckets)

    def pending_keys(self) -> list[str]:
        """Keys written but not verified yet."""
        windows = [*self._windows.values(), *self._checking.values()]
        return [key for window in windows for key in window]

    def _start(self, bucket: str) -> None:
        """Check the bucket's window now: its sorted keys as ranges of at most ``RANGE_KEYS``
        neighbours, listed at once."""
        window = self._windows.pop(bucket, {})
        self._memory.pop(bucket, None)
        keys = sorted(window)
        for start in range(0, len(keys), RANGE_KEYS):
            part = {key: window[key] for key in keys[start : start + RANGE_KEYS]}
            token = next(self._tokens)
            self._checking[token] = part
            self.engine.spawn(self._verify(bucket, part, token))

    async def _verify(self, bucket: str, window: dict[str, Pending], token: int) -> None:
        keys = sorted(window)
        refused = ""  # the listing's refusal, named if HeadObject is refused too
        try:
            if not lists_in_order(bucket):  # a directory bucket: HeadObject for each key
                self._unordered(bucket)
                for key in keys:
                    await self.engine.submit(self._head_job(window[key]))
                return
            try:
                listed, covered = await list_range(self._page, bucket, keys)
            except BatchCancelled:
                return  # the keys stay pending: reported incomplete
            except ITEM_ERRORS as error:
                logger.warning(
                    "list-based verification of %d keys in s3://%s failed (%s): checking "
                    "them with HeadObject",
                    len(keys), bucket, type(error).__name__,
                )  # fmt: skip
                listed, covered = {}, ""
                why = read_refusal(error, self._tables)
                refused = f"ListObjectsV2 {why}, " if why is not None else ""
            listed_at = self._clock()
            for key in keys:
                if covered is None or key <= covered:
                    await self._judge(window[key], listed.get(key), listed_at)
                else:
                    await self.engine.submit(self._head_job(window[key], refused))
        finally:
            self._checking.pop(token, None)

    def _unordered(self, bucket: str) -> None:
        if bucket not in self._unordered_logged:
            self._unordered_logged.add(bucket)
            logger.info(
                "s3://%s is an S3 Express directory bucket, whose listings have no order and no "
                "StartAfter: its writes are verified with HeadObject, one per key",
                bucket,
            )

    async def _page(self, params: dict[str, Any]) -> Mapping[str, Any]:
        """One ListObjectsV2 page through the batch's data plane, holding a slot."""
        plane = self._plane
        page: Mapping[str, Any] = await self.engine.run_in_slot(
            plane.list_page(params), plane.awaited
        )
        return page

    def _head_job(self, pending: Pending, refused: str = "") -> Job:
        """HeadObject of a key no listing judged (``refused``: the listing's refusal)."""
        result, params = pending.result, pending.params
        passed_on = {name: params[name] for name in READ_BACK_PARAMS if name in params}

        def head() -> Found | Refused | None:
            try:
                answer = self._head_s3.head_object(
                    Bucket=result.bucket, Key=result.key, **passed_on
                )
            except ClientError as error:
                if http_status(error) == 404:
                    return None
                why = read_refusal(error, self._tables)
                if why is None:
                    raise
                return Refused(f"{refused}HeadObject {why}", error)
            return answer.get("ContentLength"), answer.get("ETag")

        async def judged(found: Found | Refused | None) -> None:
            if isinstance(found, Refused):
                self._unreadable(pending, found)
            else:
                await self._judge(pending, found, self._clock())

        return Job(result.bucket, (result.key,), head, judged)

    def _unreadable(self, pending: Pending, refused: Refused) -> None:
        """No read-back of the write was allowed: it succeeds unverified, or fails, per
        ``VerifyPolicy.unreadable`` (``_verify/unverified.py``)."""
        result = pending.result
        expected = {"ETag": normal_etag(result.etag), "ContentLength": result.size}
        error = self._unverified.refused(
            self._policy, self._operation, result.bucket, result.key, refused.reason,
            public_fields(expected),
        )  # fmt: skip
        self.engine.unverified += 1
        if error is None:
            self.engine.succeed(result)
        else:
            error.__cause__ = refused.error
            self.engine.fail(result.bucket, result.key, error)

    async def _judge(self, pending: Pending, found: Found | None, answered: float) -> None:
        """Act on the one verdict (``_verify/judgment.py``) on what the listing found."""
        result = pending.result
        expected = {"ETag": normal_etag(result.etag), "ContentLength": result.size}
        seen = None if found is None else {"ETag": found[1], "ContentLength": found[0]}
        late = answered - pending.acked
        verdict = judge(expected, seen, late, pending.round, self._policy)
        if verdict.verified:
            self.engine.verified += 1
            self.engine.succeed(result)
            return
        if verdict.action == "fail":
            error = verdict.error(result.bucket, result.key, expected)
            self.engine.fail(result.bucket, result.key, error)
            return
        logger.warning(
            "list-based verification: s3://%s/%s %s: uploading it again",
            result.bucket, result.key, "missing" if seen is None else "holds other bytes",
        )  # fmt: skip
        self.engine.reuploads += 1
        await self.engine.submit(self._rewrite_job(pending, verdict.condition))

    def _rewrite_job(self, pending: Pending, condition: Mapping[str, str]) -> Job:
        async def rewrite() -> ItemResult:
            asked = condition if self._conditional else None
            again = await self._writes.areupload(pending.rewrite, pending.params, asked)
            if isinstance(again, KeyTaken):
                return pending.result  # it exists after all: check it again as it was
            return again

        async def rewritten(result: ItemResult) -> None:
            again = Pending(
                result, pending.rewrite, pending.params, pending.round + 1, pending.memory
            )
            await self.written(again)

        return Job(pending.result.bucket, (pending.result.key,), rewrite, rewritten, awaited=True)


async def list_range(
    fetch: Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]],
    bucket: str,
    keys: list[str],
    page: int | None = None,
    next_page: int = _PAGE,
) -> tuple[dict[str, Found], str | None]:
    """List the key range of the sorted ``keys`` in pages of ``page`` keys (default: a few more
    than the keys, so that one page covers neighbours; at most 1,000) (``fetch(params)``: one
    ListObjectsV2 page), at most ``2 * (len(keys) // page + 1) + 2`` of them:
    ``(found, covered)``; ``covered`` is ``None`` when the whole range was listed, else the last
    key listed (the page limit was hit). A range the first page did not cover holds other keys
    between the written ones (a sync's changed files among unchanged ones): the next pages are
    of ``next_page`` keys (1,000), a HeadObject per key left being dearer than a longer page."""
    if page is None:
        page = min(_PAGE, len(keys) + _SLACK)
    params = listing_params(bucket, keys, page)
    wanted, found = set(keys), {}
    last = ""
    for _ in range(2 * (len(keys) // page + 1) + 2):
        answer = await fetch(dict(params))
        for entry in answer.get("Contents", []):
            last = entry["Key"]
            if last in wanted:
                found[last] = (entry.get("Size"), entry.get("ETag"))
        if not answer.get("IsTruncated") or last >= keys[-1]:
            return found, None
        params["ContinuationToken"] = answer["NextContinuationToken"]
        params["MaxKeys"] = next_page
    return found, last
