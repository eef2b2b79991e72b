"""resilient_s3's asyncio front door: the facade's twin, every operation awaited.

    import resilient_s3.aio

    async with resilient_s3.aio.client("s3", endpoint_url=..., region_name=...) as s3:
        await s3.put_object(Bucket="b", Key="k", Body=b"data")       # verified, retried
        body = (await s3.get_object(Bucket="b", Key="k"))["Body"]
        data = await body.read()                                       # resumes mid-body

:func:`client` takes exactly :func:`resilient_s3.client`'s arguments (boto3's, with boto3's
meaning, and the same extras); answers and errors are boto3's own. How it runs (worker threads,
cancellation, what is native): docs/asyncio.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec

from .._factory import build_inner, recipe_of
from .._factory import client as _sync_client
from ._client import AsyncResilientS3Client

__all__ = ["AsyncResilientS3Client", "client"]

_P = ParamSpec("_P")
_ARGUMENTS = inspect.signature(_sync_client)


def _arguments_of(
    sync: Callable[_P, object],
) -> Callable[[Callable[..., AsyncResilientS3Client]], Callable[_P, AsyncResilientS3Client]]:
    """Give the decorated function ``sync``'s parameters (for type checkers and ``help()``)."""

    def take(door: Callable[..., AsyncResilientS3Client]) -> Callable[_P, AsyncResilientS3Client]:
        signature = inspect.signature(sync).replace(return_annotation=AsyncResilientS3Client)
        door.__signature__ = signature  # type: ignore[attr-defined]
        return door

    return take


@_arguments_of(_sync_client)
def client(*args: Any, **kwargs: Any) -> AsyncResilientS3Client:
    """Create an asyncio resilient S3 client; takes exactly :func:`resilient_s3.client`'s
    arguments, with the same meaning (``service_name``, ``region_name``, ``endpoint_url``,
    ``verify``, ``config``... and the keyword-only ``session``, ``retry``, ``verify_writes``,
    ``max_pool_connections``, ``telemetry``, ``rate_limit``).

    Use it in ``async with`` (or ``await s3.close()`` when done). ``max_pool_connections``
    (default 64) is both the connection pool and the number of worker threads its botocore
    calls run in.
    """
    bound = _ARGUMENTS.bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = bound.arguments
    recipe = recipe_of(dict(arguments))
    inner, rebuild = build_inner(recipe, arguments["session"], arguments["retry"])
    s3 = AsyncResilientS3Client(
        inner,
        arguments["retry"],
        arguments["verify_writes"],
        telemetry=recipe.options.get("telemetry"),
        _rebuild=rebuild,
        _recipe=recipe,
    )
    return s3


# One home per public name: shown as resilient_s3.aio.client (as resilient_s3/__init__.py does).
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
