"""Each batch operation as a :class:`Plan`: its input checked, its items turned into jobs.

Checks that need no request happen here, in the caller's call, before anything is sent: the
options, the bucket, ``dest``, and every item of a collection input (a generator is checked
item by item as it is consumed: a bad item then fails alone).
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._errors import describe
from ..._verify.policy import VerifyPolicy
from .._inputs.checks import body_position, check_all, check_bucket, check_dest, key_of
from .._inputs.items import (
    to_copy_item,
    to_key,
    to_put_item,
)
from .._inputs.sources import after, chunks, source
from .._options import Options, VerifyArg, resolve_verify
from .._planes.base import Multipart, Plane
from .._planes.threaded import delete_chunk, local_path
from .._report.report import ItemResult
from .engine import Engine
from .jobs import BadItem, Job
from .listverify import ListVerifier, Pending
from .runner import Plan
from .writes import (
    facade_verify,
    native_refusal,
    put_job,
    resumable,
    run_call,
    verified_by_facade,
)

if TYPE_CHECKING:
    from ..._client import ResilientS3Client
    from ..._shared import SharedParts

__all__ = ["copy_plan", "delete_plan", "get_plan", "head_plan", "put_plan"]

_LOCAL_ERRORS = (TypeError, ValueError, OSError)
_DELETE_CHUNK = 1000


def put_plan(
    client: ResilientS3Client,
    shared: SharedParts,
    bucket: str,
    items: Any,
    verify: VerifyArg,
    multipart: Multipart,
    options: Options,
    resume: Path | None = None,
) -> Plan:
    """put: a write per item, verified per ``verify``; with a state directory ``resume``,
    files by path of a multipart size go up journaled (``_resume/``)."""
    check_bucket(bucket)
    mode, policy = resolve_verify(verify, client.verify_policy)
    replayable = mode != "off"
    seen: set[str] = set()

    def check(raw: Any) -> None:  # a collection: every item, and each key once
        key = to_put_item(raw, replayable, bucket).key
        if key in seen:
            raise ValueError(_duplicate(bucket, key))
        seen.add(key)

    total = check_all(items, check)
    seen.clear()

    def setup(
        engine: Engine, s3: ResilientS3Client, plane: Plane
    ) -> tuple[Any, Callable[[Any], Job]]:
        verifier = ListVerifier(engine, s3, plane, shared, policy) if mode == "list" else None
        uploads = resumable(engine, s3, plane, resume)

        def make_job(raw: Any) -> Job:
            try:
                item = to_put_item(raw, replayable, bucket)
                position = body_position(item.body)
            except Exception as error:  # whatever a bad item raises, it fails alone
                raise BadItem(bucket, key_of(raw), error) from error
            if not engine.claim(bucket, item.key):  # from a generator: checked as it comes
                raise BadItem(bucket, item.key, ValueError(_duplicate(bucket, item.key)))
            job = put_job(engine, plane, uploads, verifier, bucket, item, position, multipart)
            if mode == "object":
                job.done = verified_by_facade(engine)  # verified by the facade's read-back
            return job

        items_source = source(items)
        if uploads is not None:
            items_source = after(uploads.clean_up, items_source)
        return items_source, make_job

    return Plan(
        "put", options, facade_verify(mode, policy), total, setup, bucket,
        crt_refusal=native_refusal(mode),
    )  # fmt: skip


def copy_plan(
    client: ResilientS3Client,
    shared: SharedParts,
    pairs: Any,
    verify: VerifyArg,
    options: Options,
) -> Plan:
    """copy: CopyObject per item, verified per ``verify``."""
    mode, policy = resolve_verify(verify, client.verify_policy)
    total = check_all(pairs, to_copy_item)

    def setup(
        engine: Engine, s3: ResilientS3Client, plane: Plane
    ) -> tuple[Any, Callable[[Any], Job]]:
        verifier = (
            ListVerifier(engine, s3, plane, shared, policy, operation="CopyObject")
            if mode == "list"
            else None
        )

        def make_job(raw: Any) -> Job:
            try:
                item = to_copy_item(raw)
            except _LOCAL_ERRORS as error:
                raise BadItem(None, key_of(raw, 3), error) from error
            call = plane.copy(item)
            if verifier is None:
                done = verified_by_facade(engine) if mode == "object" else None
                return Job(item.dst_bucket, (item.dst_key,), call, done, plane.awaited)

            async def again(_extra: Mapping[str, Any]) -> ItemResult:
                result: ItemResult = await run_call(engine, plane, plane.copy(item))
                return result

            async def written(result: ItemResult) -> None:
                await verifier.written(Pending(result, again, {}, 0, 0))

            return Job(item.dst_bucket, (item.dst_key,), call, written, plane.awaited)

        return source(pairs), make_job

    return Plan(
        "copy", options, facade_verify(mode, policy), total, setup, crt_refusal=native_refusal(mode)
    )


def get_plan(
    bucket: str,
    keys: Any,
    dest: str | os.PathLike[str] | None,
    options: Options,
    strip: str = "",
    listing: Callable[[Engine, ResilientS3Client], AsyncIterator[str]] | None = None,
) -> Plan:
    """get: GetObject per key, into ``dest`` (a directory) or into the report."""
    check_bucket(bucket)
    root = check_dest(dest)

    def check(raw: Any) -> tuple[str, Path | None]:
        key = to_key(raw)
        return key, local_path(root, key, strip) if root is not None else None

    total = None if listing is not None else check_all(keys, check)

    def setup(
        engine: Engine, s3: ResilientS3Client, plane: Plane
    ) -> tuple[Any, Callable[[Any], Job]]:
        def make_job(raw: Any) -> Job:
            try:
                key, target = check(raw)
            except _LOCAL_ERRORS as error:
                raise BadItem(bucket, key_of(raw), error) from error
            return Job(bucket, (key,), plane.get(bucket, key, target), None, plane.awaited)

        items = listing(engine, s3) if listing is not None else source(keys)
        return items, make_job

    return Plan("get", options, VerifyPolicy(mode="off"), total, setup, bucket)


def head_plan(bucket: str, keys: Any, options: Options) -> Plan:
    """head: HeadObject per key."""
    check_bucket(bucket)
    total = check_all(keys, to_key)

    def setup(
        engine: Engine, s3: ResilientS3Client, plane: Plane
    ) -> tuple[Any, Callable[[Any], Job]]:
        def make_job(raw: Any) -> Job:
            try:
                key = to_key(raw)
            except _LOCAL_ERRORS as error:
                raise BadItem(bucket, key_of(raw), error) from error
            return Job(bucket, (key,), plane.head(bucket, key), None, plane.awaited)

        return source(keys), make_job

    return Plan("head", options, VerifyPolicy(mode="off"), total, setup, bucket)


def delete_plan(bucket: str, keys: Any, options: Options) -> Plan:
    """delete: DeleteObjects per chunk of 1,000 keys."""
    check_bucket(bucket)
    total = check_all(keys, to_key)

    def setup(
        engine: Engine, s3: ResilientS3Client, plane: Plane
    ) -> tuple[Any, Callable[[Any], Job]]:
        def make_job(chunk: list[Any]) -> Job:
            valid: list[str] = []
            for raw in chunk:
                try:
                    valid.append(to_key(raw))
                except _LOCAL_ERRORS as error:
                    engine.fail(bucket, key_of(raw), error)

            async def settle(outcomes: list[tuple[str, Exception | None]]) -> None:
                for key, error in outcomes:
                    if error is None:
                        engine.succeed(ItemResult(key, bucket))
                    else:
                        engine.fail(bucket, key, error)

            call = functools.partial(delete_chunk, s3, bucket, valid) if valid else list
            return Job(bucket, tuple(valid), call, settle)

        return chunks(source(keys), _DELETE_CHUNK), make_job

    return Plan("delete", options, VerifyPolicy(mode="off"), total, setup, bucket)


def _duplicate(bucket: str, key: str) -> str:
    return (
        f"put {describe(bucket, key)}: the key appears more than once in the batch (while "
        "its earlier item is still being written or verified); concurrent uploads of one key "
        "leave whichever lands last, so pass each key once"
    )
