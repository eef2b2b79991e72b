"""Making a facade: ``client()`` builds the boto3 client as ``boto3.client`` would, ``wrap()``
takes one already built."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from ._checks import check_policy
from ._client import ResilientS3Client
from ._config import disable_botocore_retries, note_small_pool, resilient_config
from ._fleet.rate_hooks import install_rate_limit
from ._fleet.recipe import ClientRecipe, register_original
from ._retry.policy import RetryPolicy
from ._shared import Rebuild
from ._telemetry import TelemetryPolicy
from ._verify.policy import VerifyPolicy

if TYPE_CHECKING:
    from ._fleet.limiter import SharedLimiter

__all__ = ["build_client", "build_inner", "client", "recipe_of", "wrap"]


def client(
    service_name: str = "s3",
    region_name: str | None = None,
    api_version: str | None = None,
    use_ssl: bool = True,
    verify: bool | str | None = None,
    endpoint_url: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
    config: Config | None = None,
    aws_account_id: str | None = None,
    *,
    session: boto3.Session | None = None,
    retry: RetryPolicy | None = None,
    verify_writes: VerifyPolicy | bool | None = None,
    max_pool_connections: int | None = None,
    telemetry: TelemetryPolicy | bool | None = None,
    rate_limit: SharedLimiter | None = None,
) -> ResilientS3Client:
    """Create a resilient S3 client; takes every keyword ``boto3.client`` takes, with boto3's
    meaning: ``verify`` is TLS certificate verification (``None``: on, with ``AWS_CA_BUNDLE``
    or the config file's ``ca_bundle`` if set; ``False``: off; a ``str``: a CA bundle path).

    Keyword-only extras: ``session`` (a ``boto3.Session``; default: boto3's default session),
    ``retry`` (a :class:`~resilient_s3.RetryPolicy`; default ``RetryPolicy()``),
    ``verify_writes`` (verify-after-put: a :class:`~resilient_s3.VerifyPolicy`,
    ``True``/``None`` for the default policy, ``False`` for off), ``max_pool_connections``
    (default 64, or what ``config`` sets) and ``telemetry`` (a
    :class:`~resilient_s3.TelemetryPolicy`; default: OpenTelemetry spans and metrics through the
    global providers when opentelemetry-api is installed; ``False``: off;
    docs/observability.md). botocore's own retries are switched off; see docs/configuration.md.

    ``rate_limit``: a :class:`~resilient_s3.SharedLimiter`; every HTTP request of this client
    (first attempts, retries, verification reads) takes a token from it first
    (docs/distributed.md).

    The client pickles as these arguments and is built again where it is unpickled (explicit
    keys travel with it; the default credential chain is resolved again there).
    """
    recipe = recipe_of(dict(locals()))
    facade = build_client(recipe, session, retry, verify_writes)
    register_original(recipe.token, facade)
    return facade


def recipe_of(arguments: dict[str, Any]) -> ClientRecipe:
    """The recipe of a client from :func:`client`'s ``arguments`` (every parameter by name),
    checked: a front door's (sync or asyncio) boto3 client is built from it."""
    if isinstance(arguments["verify"], VerifyPolicy):
        raise TypeError(
            "verify= is TLS certificate verification, as in boto3 (False, None or a CA bundle "
            "path); pass the VerifyPolicy as verify_writes="
        )
    service_name = arguments["service_name"]
    if service_name != "s3":
        raise ValueError(f"resilient_s3.client() makes S3 clients only, got {service_name!r}")
    telemetry, rate_limit = arguments["telemetry"], arguments["rate_limit"]
    options: dict[str, Any] = {"telemetry": telemetry} if telemetry is not None else {}
    if rate_limit is not None:
        options["rate_limit"] = rate_limit
    kwargs = {name: arguments[name] for name in _BOTO3_KEYWORDS}
    if kwargs["aws_account_id"] is None:  # boto3 1.36 (our floor) has no such keyword
        del kwargs["aws_account_id"]
    kwargs["config"] = resilient_config(arguments["config"], arguments["max_pool_connections"])
    return ClientRecipe.of(kwargs, arguments["session"], options, build_client)


#: ``boto3.client``'s keywords (``service_name`` aside), passed on as they are.
_BOTO3_KEYWORDS = (
    "region_name", "api_version", "use_ssl", "verify", "endpoint_url", "aws_access_key_id",
    "aws_secret_access_key", "aws_session_token", "config", "aws_account_id",
)  # fmt: skip


def build_client(
    recipe: ClientRecipe,
    session: boto3.Session | None,
    retry: RetryPolicy | None,
    verify_writes: VerifyPolicy | bool | None,
) -> ResilientS3Client:
    """A facade over ``session.client("s3", **recipe.kwargs)`` (boto3's default session when
    ``session`` is None) that pickles as ``recipe``."""
    inner, rebuild = build_inner(recipe, session, retry)
    return ResilientS3Client(
        inner,
        retry,
        verify_writes,
        telemetry=recipe.options.get("telemetry"),
        _rebuild=rebuild,
        _recipe=recipe,
    )


def build_inner(
    recipe: ClientRecipe, session: boto3.Session | None, retry: RetryPolicy | None
) -> tuple[BaseClient, Rebuild]:
    """The one inner boto3 client of a front door, ``session.client("s3", **recipe.kwargs)``
    (boto3's default session when ``session`` is None; botocore's retries off, as the recipe's
    ``Config`` says), and how to build it again with another ``Config``."""
    if session is None:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
    assert session is not None
    kwargs = recipe.kwargs
    rate_limit: SharedLimiter | None = recipe.options.get("rate_limit")
    policy = RetryPolicy() if retry is None else check_policy("retry", retry, RetryPolicy)
    tables = policy.tables

    def made(built: BaseClient) -> BaseClient:
        disable_botocore_retries(built)
        if rate_limit is not None:
            install_rate_limit(built, rate_limit, tables)
        return built

    def rebuild(overrides: Config) -> BaseClient:
        """A new boto3 client built as ``inner`` was, its ``Config`` merged with ``overrides``
        (``s3.with_options(max_pool_connections=N)``). A closure, so that no repr, str or log
        line can show its arguments (the credentials)."""
        merged = kwargs["config"].merge(overrides)
        return made(session.client("s3", **{**kwargs, "config": merged}))

    return made(session.client("s3", **kwargs)), rebuild


def wrap(
    inner: BaseClient,
    *,
    retry: RetryPolicy | None = None,
    verify_writes: VerifyPolicy | bool | None = None,
    telemetry: TelemetryPolicy | bool | None = None,
) -> ResilientS3Client:
    """Wrap an existing boto3 S3 client. Its own botocore retries are switched off (they would
    stack with ours), so keep using it through the returned facade. ``verify_writes`` is
    verify-after-put and ``telemetry`` OpenTelemetry, as in :func:`client`; TLS is as the
    client was built."""
    facade = ResilientS3Client(inner, retry, verify_writes, telemetry=telemetry)  # S3 only
    disable_botocore_retries(inner)
    note_small_pool(inner)
    return facade
