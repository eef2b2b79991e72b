"""The options every batch method takes, checked before anything is sent.

See :class:`BatchOptions` for each option, its default, and what ``0``/``None`` mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from .._adaptive import AdaptivePolicy
from .._checks import check_limit, check_seconds
from .._fleet.limiter import SharedLimiter
from .._verify.policy import VerifyPolicy
from ._report.progress import ProgressArg

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BatchOptions",
    "Options",
    "VerifyArg",
    "resolve_verify",
]

#: Items in flight at once by default (the facade's pool holds 64 connections).
DEFAULT_CONCURRENCY = 32
#: The data planes ``data_plane=`` names.
DataPlane = Literal["crt", "botocore"]
#: What ``verify_writes=`` takes for put and copy.
VerifyArg = Literal["list", "object", "off"] | bool | VerifyPolicy | None


class BatchOptions(TypedDict, total=False):
    """Keyword options of every batch method.

    Attributes:
        concurrency: items in flight at once, and worker threads (default 32). The connection
            pool is made at least this large.
        rate_limit: requests per second for the batch, every HTTP request counted (retries,
            verification, list pages); ``None`` (default): no limit. Batches of one client on
            one event loop with the same rate_limit share one limiter. A
            :class:`~resilient_s3.SharedLimiter` shares the rate with other processes.
        bytes_per_second: request and response body bytes per second; ``None`` (or ``inf``):
            no limit.
        adaptive: lower the rate when the server throttles (AIMD, see AdaptivePolicy); ``True``
            (default), ``False``, or an :class:`AdaptivePolicy`.
        progress: ``False`` (default: prints nothing), ``True`` (a bar on stderr) or a callable
            receiving each :class:`BatchEvent`.
        keep_results: keep an :class:`ItemResult` per completed item in ``report.results``
            (default ``False``: counted only, memory independent of the item count).
        fail_fast: stop pulling new items after the first failure (default ``False``).
        cancel_grace: seconds requests in flight may take to finish once the batch is cancelled
            (default 5.0; ``0``: abandon them at once).
        data_plane: which client sends the items' requests: ``"crt"`` (awscrt's native S3
            client, with resilient_s3's retries, pacing and verification), ``"botocore"`` (the
            facade in worker threads), or ``None`` (default: the CRT when awscrt is importable
            and the batch asks for nothing it cannot serve; see docs/batch.md).
        executor: a ``distributed.Client``: run the batch on its Dask cluster, in chunks
            (docs/distributed.md); ``None`` (default): in this process.
        chunk_size: items per Dask task with ``executor`` (default 250).
    """

    concurrency: int
    rate_limit: float | SharedLimiter | None
    bytes_per_second: float | None
    adaptive: bool | AdaptivePolicy
    progress: ProgressArg
    keep_results: bool
    fail_fast: bool
    cancel_grace: float
    data_plane: DataPlane | None
    executor: Any
    chunk_size: int


@dataclass(frozen=True)
class Options:
    """Checked :class:`BatchOptions`: what the plans, the runner and the engine read."""

    concurrency: int = DEFAULT_CONCURRENCY
    rate_limit: float | None = None
    bytes_per_second: float | None = None
    adaptive: AdaptivePolicy | None = field(default_factory=AdaptivePolicy)
    progress: ProgressArg = False
    keep_results: bool = False
    fail_fast: bool = False
    cancel_grace: float = 5.0
    data_plane: DataPlane | None = None
    shared: SharedLimiter | None = None

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> Options:
        """Check ``options`` (the keyword arguments); raise ``TypeError``/``ValueError``."""
        unknown = set(options) - set(BatchOptions.__annotations__)
        if unknown:
            raise TypeError(f"unknown batch option(s): {', '.join(sorted(unknown))}")
        concurrency = options.get("concurrency", DEFAULT_CONCURRENCY)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
        adaptive = options.get("adaptive", True)
        if not isinstance(adaptive, (bool, AdaptivePolicy)):
            raise TypeError(f"adaptive must be a bool or an AdaptivePolicy, got {adaptive!r}")
        progress = options.get("progress", False)
        if not isinstance(progress, bool) and not callable(progress):
            raise TypeError(f"progress must be a bool or a callable, got {progress!r}")
        plane = options.get("data_plane")
        if plane not in (None, "crt", "botocore"):
            raise ValueError(f"data_plane must be 'crt', 'botocore' or None, got {plane!r}")
        if options.get("executor") is not None:
            raise TypeError(
                "executor= works with the sync put, get, delete, copy and head methods only"
            )
        chunk_size = options.get("chunk_size", 250)  # used with executor=, checked always
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
        shared = options.get("rate_limit")
        if isinstance(shared, SharedLimiter):
            options = {**options, "rate_limit": None}
        else:
            shared = None
        return cls(
            shared=shared,
            concurrency=concurrency,
            rate_limit=check_limit("rate_limit", options.get("rate_limit")),
            bytes_per_second=check_limit("bytes_per_second", options.get("bytes_per_second")),
            adaptive=AdaptivePolicy() if adaptive is True else (adaptive or None),
            progress=progress,
            keep_results=_flag("keep_results", options.get("keep_results", False)),
            fail_fast=_flag("fail_fast", options.get("fail_fast", False)),
            cancel_grace=check_seconds("cancel_grace", options.get("cancel_grace", 5.0)),
            data_plane=plane,
        )


def _flag(name: str, value: object) -> bool:
    """A boolean option, refused unless it is one (``"no"`` is not ``False``)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def resolve_verify(verify: VerifyArg, client_policy: VerifyPolicy) -> tuple[str, VerifyPolicy]:
    """``(mode, policy)``: mode ``"list"``, ``"object"`` or ``"off"``; the policy gives the
    re-upload limit and conditional re-uploads (the client's own, if it verifies)."""
    base = client_policy if client_policy.enabled else VerifyPolicy()
    if isinstance(verify, VerifyPolicy):
        return ("object" if verify.enabled else "off"), verify
    if verify is True or verify == "list":
        return "list", base
    if verify == "object":
        return "object", base
    if verify is False or verify is None or verify == "off":
        return "off", VerifyPolicy(mode="off")
    raise ValueError(
        f"verify_writes must be 'list', 'object', 'off', a bool or a VerifyPolicy, got {verify!r}"
    )
