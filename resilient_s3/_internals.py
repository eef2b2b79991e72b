"""The one home of every private attribute of botocore, urllib3 and awscrt that we read or set.

A dependency's private attribute can change in any release, so each use is here, named for what
it gives, with what happens when it is missing; ``tests/test_layout.py`` fails on a private
attribute read anywhere else. Public APIs are used wherever one exists (s3transfer's CRT
transfer manager reads ``_get_credentials`` and ``_resolve_endpoint_ruleset`` as we do: boto3
offers nothing public for either).

What is read, and why:

- the HTTP session of a boto3 client (``client._endpoint.http_session``): boto3's ``verify=``
  (kept only there, as ``_verify``), its proxy settings (``_proxy_config``), and the urllib3
  pool classes it builds connection pools from (``_pool_classes_by_scheme``, and its pool
  manager's), where per-attempt timeouts are capped (``_retry/timeouts.py``);
- a client's credentials (``_get_credentials()``), for the native transport's signer;
- a client's endpoint rules (``_resolve_endpoint_ruleset``) and response parser
  (``_response_parser``), so that native requests go where botocore's would and their answers
  parse as botocore's do;
- botocore's table of request checksum classes (``httpchecksum._CHECKSUM_CLS``), so a native
  upload's checksum is computed by the same classes as botocore's;
- a paginator's and a waiter's request method (``_method``, ``_operation_method``), swapped for
  the facade's retried one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.client import BaseClient

__all__ = [
    "can_resolve_endpoints",
    "checksum_class",
    "credentials",
    "install_pool_classes",
    "parse_answer",
    "proxied",
    "resolve_endpoint",
    "retarget_paginator",
    "retarget_waiter",
    "tls_verify",
]


def _http_session(inner: BaseClient) -> Any:
    """The boto3 client's HTTP session (botocore's ``URLLib3Session``), or ``None``."""
    return getattr(getattr(inner, "_endpoint", None), "http_session", None)


def tls_verify(inner: BaseClient) -> bool | str | None:
    """boto3's ``verify=`` of ``inner``: ``True``/``None`` (the default trust store), ``False``,
    or a CA bundle path."""
    verify = getattr(_http_session(inner), "_verify", None)
    return verify if isinstance(verify, (bool, str)) else None


def proxied(inner: BaseClient, url: str) -> bool:
    """Whether ``inner`` sends requests for ``url`` through an HTTP proxy."""
    proxies = getattr(_http_session(inner), "_proxy_config", None)
    return proxies is not None and bool(proxies.proxy_url_for(url))


def install_pool_classes(inner: BaseClient, wrap: Callable[[type], type]) -> bool:
    """Replace each urllib3 pool class of ``inner``'s session with ``wrap(pool_class)`` (applied
    to proxy managers too); ``False`` (nothing done) when the session is not botocore's urllib3
    one."""
    session = _http_session(inner)
    classes = getattr(session, "_pool_classes_by_scheme", None)
    manager = getattr(session, "_manager", None)
    if not isinstance(classes, dict) or manager is None:
        return False
    wrapped = {scheme: wrap(pool) for scheme, pool in classes.items()}
    session._pool_classes_by_scheme = wrapped
    manager.pool_classes_by_scheme = wrapped
    return True


def credentials(inner: BaseClient) -> Any:
    """``inner``'s botocore credentials object (refreshable ones included), or ``None``."""
    client: Any = inner
    return client._get_credentials()


def can_resolve_endpoints(inner: BaseClient) -> bool:
    """Whether ``inner``'s botocore resolves endpoints by rules (every supported botocore)."""
    return hasattr(inner, "_resolve_endpoint_ruleset")


def resolve_endpoint(
    inner: BaseClient, operation: str, params: Mapping[str, Any]
) -> tuple[str, str | None]:
    """``(url, signing_region)`` botocore's endpoint rules give ``operation`` with ``params``
    (the signing region is ``None`` when the rules give none)."""
    model = inner.meta.service_model.operation_model(operation)
    context: dict[str, Any] = {}
    client: Any = inner
    url, _, _ = client._resolve_endpoint_ruleset(model, dict(params), context)
    region = context.get("signing", {}).get("region")
    return str(url), region


def parse_answer(
    inner: BaseClient, operation: str, status: int, headers: Any, body: bytes
) -> dict[str, Any]:
    """An answer of ``operation`` (``headers``: a botocore ``HeadersDict``) parsed by ``inner``'s
    own response parser, as botocore parses it."""
    response = {"headers": headers, "status_code": status, "body": body}
    model = inner.meta.service_model.operation_model(operation)
    client: Any = inner
    parsed: dict[str, Any] = client._response_parser.parse(response, model.output_shape)
    return parsed


def checksum_class(algorithm: str) -> Any:
    """botocore's checksum class for ``algorithm`` (``"crc32"``...), or ``None``."""
    from botocore import httpchecksum

    return vars(httpchecksum)["_CHECKSUM_CLS"].get(algorithm.lower())


def retarget_paginator(paginator: Any, method_for: Callable[[str], Any]) -> Any:
    """Make ``paginator`` call ``method_for(operation_name)`` for each page; returns it."""
    paginator._method = method_for(paginator._model.name)
    return paginator


def retarget_waiter(waiter: Any, method: Callable[..., Any]) -> Any:
    """Make ``waiter`` poll with ``method`` (botocore normalizes its errors); returns it."""
    from botocore.waiter import NormalizedOperationMethod

    waiter._operation_method = NormalizedOperationMethod(method)
    return waiter
