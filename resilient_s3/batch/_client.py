"""``s3.batch``: put, get, delete, copy and head many objects; sync methods and ``_async`` twins.

``s3.batch`` is the facade's :class:`BatchClient`, made on first use; the state its batches
share (limiters, adaptive rate, background loop) is the facade's too, shared with the clients
``with_options`` derives.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._engine.plans import copy_plan, delete_plan, get_plan, head_plan, put_plan
from ._engine.runner import Plan, run_plan, run_sync
from ._inputs.items import Body, CopyItem, PutItem, check_extra
from ._inputs.sources import listed_keys, walk_files
from ._options import Options, VerifyArg, resolve_verify
from ._planes.base import check_multipart
from ._report.report import BatchReport
from ._resume.state import ResumeArg, state_dir
from ._sync.locations import sides
from ._sync.record import SyncSettings
from ._sync.report import SyncReport
from ._sync.run import sync

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._client import ResilientS3Client
    from .._shared import SharedParts
    from ._options import BatchOptions

__all__ = ["BatchClient", "CopyItems", "Keys", "PutItems"]

#: put's ``items``.
PutItems = (
    Mapping[str, Body]
    | Iterable[PutItem | tuple[str, Body] | tuple[str, Body, Mapping[str, Any]]]
    | AsyncIterable[PutItem | tuple[str, Body] | tuple[str, Body, Mapping[str, Any]]]
)
#: get/head/delete's ``keys``.
Keys = Iterable[str] | AsyncIterable[str]
#: copy's ``pairs``.
CopyItems = (
    Iterable[CopyItem | tuple[str, str, str, str]]
    | AsyncIterable[CopyItem | tuple[str, str, str, str]]
)
_MIB = 1024 * 1024


class BatchClient:
    """Batch operations over one resilient_s3 client (docs/batch.md).

    Every method takes the :class:`BatchOptions` keywords (``concurrency``, ``rate_limit``,
    ``bytes_per_second``, ``adaptive``, ``progress``, ``keep_results``, ``fail_fast``,
    ``cancel_grace``; the sync methods also ``executor`` and ``chunk_size``: run on a Dask
    cluster, docs/distributed.md) and returns a :class:`BatchReport`; a failed item never raises
    (call ``report.raise_for_failures()``). Bad arguments raise before any request.
    """

    def __init__(self, s3: ResilientS3Client, shared: SharedParts) -> None:
        self._s3 = s3
        self._shared = shared

    def __repr__(self) -> str:
        return f"<BatchClient over {self._s3!r}>"

    # put ------------------------------------------------------------------------------------

    def put(
        self,
        bucket: str,
        items: PutItems,
        *,
        verify_writes: VerifyArg = "list",
        multipart_threshold: int = 64 * _MIB,
        part_size: int = 16 * _MIB,
        resume: ResumeArg = False,
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """Upload ``items`` (mapping key -> body, ``(key, body[, extra_args])`` tuples or
        :class:`PutItem`; a body is bytes, str, a path or a binary file object).

        ``verify_writes``: ``"list"`` (default: confirmed by ListObjectsV2 pages, missing or
        different keys uploaded again), ``"object"`` (the facade's read-back after each put,
        or pass a :class:`~resilient_s3.VerifyPolicy`), ``"off"``/``False``. Bodies of
        ``multipart_threshold`` bytes or more go up in parts of ``part_size``. ``resume``:
        ``True`` (the default state directory) or a directory: files given by path go up in
        journaled parts, and an upload interrupted by a crash or a cancellation is resumed by
        the next run (docs/batch.md); ``False`` (default): nothing is written locally.
        """
        if options.get("executor") is not None:
            kwargs = dict(
                verify_writes=verify_writes,
                multipart_threshold=multipart_threshold,
                part_size=part_size,
                resume=resume,
            )
            return self._on_cluster("put", (bucket,), items, (), {**kwargs, **options})
        plan = self._put(
            bucket, items, verify_writes, multipart_threshold, part_size, resume, options
        )
        return self._sync(plan)

    async def put_async(
        self,
        bucket: str,
        items: PutItems,
        *,
        verify_writes: VerifyArg = "list",
        multipart_threshold: int = 64 * _MIB,
        part_size: int = 16 * _MIB,
        resume: ResumeArg = False,
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """:meth:`put` on the running event loop."""
        plan = self._put(
            bucket, items, verify_writes, multipart_threshold, part_size, resume, options
        )
        return await self._async(plan)

    def upload_dir(
        self,
        path: str | os.PathLike[str],
        bucket: str,
        prefix: str = "",
        *,
        verify_writes: VerifyArg = "list",
        resume: ResumeArg = False,
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """Upload every file under the directory ``path`` to ``prefix`` + its relative path
        (``/``-separated), walking the tree lazily (``resume``: as :meth:`put`'s)."""
        items = self._walk(path, prefix)
        return self.put(bucket, items, verify_writes=verify_writes, resume=resume, **options)

    async def upload_dir_async(
        self,
        path: str | os.PathLike[str],
        bucket: str,
        prefix: str = "",
        *,
        verify_writes: VerifyArg = "list",
        resume: ResumeArg = False,
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """:meth:`upload_dir` on the running event loop."""
        items = self._walk(path, prefix)
        return await self.put_async(
            bucket, items, verify_writes=verify_writes, resume=resume, **options
        )

    # get ------------------------------------------------------------------------------------

    def get(
        self,
        bucket: str,
        keys: Keys,
        dest: str | os.PathLike[str] | None = None,
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """Download ``keys``: into the directory ``dest`` (``dest/<key>``, created if missing;
        written to a temporary name, then renamed), or, with ``dest=None``, into
        ``report.data`` (key -> bytes)."""
        if options.get("executor") is not None:
            return self._on_cluster("get", (bucket,), keys, (dest,), options)
        return self._sync(get_plan(bucket, keys, dest, Options.of(options)))

    async def get_async(
        self,
        bucket: str,
        keys: Keys,
        dest: str | os.PathLike[str] | None = None,
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """:meth:`get` on the running event loop."""
        return await self._async(get_plan(bucket, keys, dest, Options.of(options)))

    def download_prefix(
        self,
        bucket: str,
        prefix: str,
        path: str | os.PathLike[str],
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """Download every object under ``prefix`` to ``path/<key without prefix>``, listing
        as it goes."""
        return self._sync(self._download(bucket, prefix, path, options))

    async def download_prefix_async(
        self,
        bucket: str,
        prefix: str,
        path: str | os.PathLike[str],
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """:meth:`download_prefix` on the running event loop."""
        return await self._async(self._download(bucket, prefix, path, options))

    # sync -----------------------------------------------------------------------------------

    def sync(
        self,
        source: str | os.PathLike[str],
        dest: str | os.PathLike[str],
        *,
        delete: bool = False,
        dry_run: bool = False,
        resume: ResumeArg = True,
        verify_writes: VerifyArg = "list",
        multipart_threshold: int = 64 * _MIB,
        part_size: int = 16 * _MIB,
        extra_args: Mapping[str, Any] | None = None,
        **options: Unpack[BatchOptions],
    ) -> SyncReport:
        """Make ``dest`` like ``source``: one a local directory, the other
        ``"s3://bucket/prefix"``; only what is missing or different (by size and content) is
        transferred, and no request is sent per unchanged object (docs/batch.md).

        ``delete``: also delete what the source does not have, once every transfer succeeded
        and was verified. ``dry_run``: send nothing, write nothing; the report lists what
        would be done. ``resume``: where the sync index and the journals of large uploads
        live (``True``: the default state directory; ``False``: nowhere, files are compared
        by reading them). ``extra_args``: PutObject parameters for every upload
        (``ContentType``, ``ServerSideEncryption``...). Uploads are verified as :meth:`put`'s
        (``verify_writes``), large files go up in parts of ``part_size`` from
        ``multipart_threshold``.
        """
        run = self._syncing(
            source, dest, delete, dry_run, resume, verify_writes, multipart_threshold,
            part_size, extra_args, options,
        )  # fmt: skip
        return run_sync(self._shared.batch_state(), run)

    async def sync_async(
        self,
        source: str | os.PathLike[str],
        dest: str | os.PathLike[str],
        *,
        delete: bool = False,
        dry_run: bool = False,
        resume: ResumeArg = True,
        verify_writes: VerifyArg = "list",
        multipart_threshold: int = 64 * _MIB,
        part_size: int = 16 * _MIB,
        extra_args: Mapping[str, Any] | None = None,
        **options: Unpack[BatchOptions],
    ) -> SyncReport:
        """:meth:`sync` on the running event loop."""
        return await self._syncing(
            source, dest, delete, dry_run, resume, verify_writes, multipart_threshold,
            part_size, extra_args, options,
        )  # fmt: skip

    # delete, copy, head ---------------------------------------------------------------------

    def delete(self, bucket: str, keys: Keys, **options: Unpack[BatchOptions]) -> BatchReport:
        """Delete ``keys`` with DeleteObjects, 1,000 per request, pulled 1,000 at a time
        (transient per-key errors are retried by the facade; the keys left are the failures)."""
        if options.get("executor") is not None:
            return self._on_cluster("delete", (bucket,), keys, (), options)
        return self._sync(delete_plan(bucket, keys, Options.of(options)))

    async def delete_async(
        self, bucket: str, keys: Keys, **options: Unpack[BatchOptions]
    ) -> BatchReport:
        """:meth:`delete` on the running event loop; ``keys`` may be an async iterable."""
        return await self._async(delete_plan(bucket, keys, Options.of(options)))

    def copy(
        self,
        pairs: CopyItems,
        *,
        verify_writes: VerifyArg = "list",
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """Copy ``(src_bucket, src_key, dst_bucket, dst_key)`` items (or :class:`CopyItem`)
        with CopyObject (objects up to 5 GiB), verified like :meth:`put`."""
        if options.get("executor") is not None:
            kwargs = {"verify_writes": verify_writes, **options}
            return self._on_cluster("copy", (), pairs, (), kwargs)
        return self._sync(
            copy_plan(self._s3, self._shared, pairs, verify_writes, Options.of(options))
        )

    async def copy_async(
        self,
        pairs: CopyItems,
        *,
        verify_writes: VerifyArg = "list",
        **options: Unpack[BatchOptions],
    ) -> BatchReport:
        """:meth:`copy` on the running event loop."""
        return await self._async(
            copy_plan(self._s3, self._shared, pairs, verify_writes, Options.of(options))
        )

    def head(self, bucket: str, keys: Keys, **options: Unpack[BatchOptions]) -> BatchReport:
        """HeadObject ``keys`` (metadata in ``report.results`` with ``keep_results=True``;
        a missing key is a NOT_FOUND failure)."""
        if options.get("executor") is not None:
            return self._on_cluster("head", (bucket,), keys, (), options)
        return self._sync(head_plan(bucket, keys, Options.of(options)))

    async def head_async(
        self, bucket: str, keys: Keys, **options: Unpack[BatchOptions]
    ) -> BatchReport:
        """:meth:`head` on the running event loop."""
        return await self._async(head_plan(bucket, keys, Options.of(options)))

    # plumbing -------------------------------------------------------------------------------

    def _put(
        self,
        bucket: str,
        items: Any,
        verify: VerifyArg,
        threshold: int,
        part_size: int,
        resume: ResumeArg,
        options: Mapping[str, Any],
    ) -> Plan:
        multipart = check_multipart(threshold, part_size)
        return put_plan(
            self._s3, self._shared, bucket, items, verify, multipart, Options.of(options),
            state_dir(resume),
        )  # fmt: skip

    def _syncing(
        self,
        source: str | os.PathLike[str],
        dest: str | os.PathLike[str],
        delete: bool,
        dry_run: bool,
        resume: ResumeArg,
        verify: VerifyArg,
        threshold: int,
        part_size: int,
        extra_args: Mapping[str, Any] | None,
        options: Mapping[str, Any],
    ) -> Coroutine[Any, Any, SyncReport]:
        """The checked sync, ready to await (everything checked before any request)."""
        where = sides(source, dest)
        extra = dict(extra_args or {})
        check_extra(extra)
        resolve_verify(verify, self._s3.verify_policy)
        settings = SyncSettings(
            bool(delete), bool(dry_run), state_dir(resume), verify,
            check_multipart(threshold, part_size), extra,
        )  # fmt: skip
        return sync(self._s3, self._shared, where, settings, Options.of(options))

    def _download(
        self, bucket: str, prefix: str, path: str | os.PathLike[str], options: Mapping[str, Any]
    ) -> Plan:
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
        listing = listed_keys(bucket, prefix)
        return get_plan(bucket, (), path, Options.of(options), strip=prefix, listing=listing)

    @staticmethod
    def _walk(path: str | os.PathLike[str], prefix: str) -> Any:
        root = Path(path)
        if not root.is_dir():
            raise NotADirectoryError(f"upload_dir: {str(root)!r} is not a directory")
        return walk_files(root, prefix)

    def _on_cluster(
        self,
        operation: str,
        head: tuple[Any, ...],
        items: Any,
        tail: tuple[Any, ...],
        options: Mapping[str, Any],
    ) -> BatchReport:
        from ._executors.dask import run_on_cluster  # distributed is imported on use only

        return run_on_cluster(self._s3, operation, head, items, tail, options)

    def _sync(self, plan: Plan) -> BatchReport:
        return run_sync(self._shared.batch_state(), run_plan(self._s3, self._shared, plan))

    async def _async(self, plan: Plan) -> BatchReport:
        return await run_plan(self._s3, self._shared, plan)
