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
  the facade's retried one;
- a client's event handlers (the emitter's ``_handlers`` trie and its ``_lookup_cache``), so
  that a call a caller's handler must see stays on botocore (``_transports/routing.py``);
- for the asyncio door, a paginator's page iterator class: :class:`AsyncPageIterator` runs
  botocore's paging (its private helpers: starting and resume tokens, ``MaxItems`` truncation,
  the next token) with each page's request awaited, as aiobotocore's ``AioPageIterator`` does.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import jmespath  # type: ignore[import-untyped]  # botocore's dependency
from botocore.client import BaseClient
from botocore.exceptions import PaginationError
from botocore.paginate import PageIterator

__all__ = [
    "AsyncPageIterator",
    "async_paginator",
    "botocore_instrumented",
    "can_resolve_endpoints",
    "checksum_class",
    "credentials",
    "event_handlers",
    "events_version",
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
    own response parser, as botocore's endpoint parses it: its ``before-parse`` handlers first,
    on the client's events (S3's: a 200 answer whose body is an XML error, or cut short, is
    made a 500; an ``Expires`` header is kept as ``ExpiresString``)."""
    response = {"headers": headers, "status_code": status, "body": body}
    model = inner.meta.service_model.operation_model(operation)
    customized: dict[str, Any] = {}
    inner.meta.events.emit(
        f"before-parse.{model.service_model.service_id.hyphenize()}.{operation}",
        operation_model=model,
        response_dict=response,
        customized_response_dict=customized,
    )
    client: Any = inner
    parsed: dict[str, Any] = client._response_parser.parse(response, model.output_shape)
    parsed.update(customized)
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


def events_version(inner: BaseClient) -> object:
    """An object that is replaced whenever a handler is registered on or unregistered from
    ``inner.meta.events`` (botocore's emitter then drops its lookup cache, ``_lookup_cache``,
    for a new one); ``None`` when the emitter is not botocore's."""
    events: Any = inner.meta.events
    emitter = getattr(events, "_emitter", events)  # boto3's EventAliaser wraps the emitter
    return getattr(emitter, "_lookup_cache", None)


def event_handlers(inner: BaseClient) -> list[tuple[str, str]] | None:
    """Every handler registered on ``inner.meta.events``: ``(event, "module.qualname")`` (read
    from botocore's emitter, a prefix trie: ``_handlers._root``), or ``None`` when the emitter
    is not botocore's."""
    events: Any = inner.meta.events
    emitter = getattr(events, "_emitter", events)
    root = getattr(getattr(emitter, "_handlers", None), "_root", None)
    if not isinstance(root, dict):
        return None
    found: list[tuple[str, str]] = []
    stack: list[tuple[dict[str, Any], str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        for section in node.get("values") or ():
            found.extend((path, _handler_name(handler)) for handler in section)
        for chunk, child in (node.get("children") or {}).items():
            stack.append((child, f"{path}.{chunk}" if path else str(chunk)))
    return found


def _handler_name(handler: Any) -> str:
    """``module.qualname`` of an event handler (a function, a bound method, a
    ``functools.partial`` or a callable object)."""
    target = getattr(handler, "func", handler)  # functools.partial
    target = getattr(target, "__func__", target)  # a bound method
    if not hasattr(target, "__qualname__"):
        target = type(target)
    return f"{getattr(target, '__module__', '?')}.{target.__qualname__}"


def botocore_instrumented() -> bool:
    """Whether botocore's API calls are wrapped by an instrumentation (OpenTelemetry's
    ``BotocoreInstrumentor`` replaces ``BaseClient._make_api_call`` with a wrapt proxy; botocore's
    own is a plain function, under ``functools.wraps``)."""
    method = vars(BaseClient).get("_make_api_call")
    return (
        method is not None and type(method) is not types.FunctionType
    )  # a proxy passes isinstance


if TYPE_CHECKING:
    _PageIterator = PageIterator[Any]  # generic in botocore-stubs only
else:
    _PageIterator = PageIterator


def async_paginator(paginator: Any, method_for: Callable[[str], Callable[..., Any]]) -> Any:
    """Make ``paginator.paginate()`` return :class:`AsyncPageIterator` s that await
    ``method_for(operation_name)(**params)`` for each page; returns it."""
    paginator._method = method_for(paginator._model.name)
    paginator.PAGE_ITERATOR_CLS = AsyncPageIterator
    return paginator


class AsyncPageIterator(_PageIterator):
    """botocore's page iterator with each page awaited: ``async for page in ...``,
    ``await build_full_result()``, ``async for item in search(expression)``. The paging is
    botocore's own (``PageIterator.__iter__``'s steps, its helpers called as it calls them)."""

    _replay: list[Any] | None = None

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._pages()

    def __iter__(self) -> Iterator[Any]:
        if self._replay is None:
            raise TypeError("an asyncio paginator's pages are awaited: use 'async for'")
        return iter(self._replay)  # build_full_result() going over the pages it fetched

    async def _pages(self) -> AsyncIterator[Any]:
        it: Any = self  # botocore's page iterator: its private helpers and state
        current_kwargs = it._op_kwargs
        previous_next_token = None
        next_token: dict[str, Any] = {key: None for key in it._input_token}
        if it._starting_token is not None:
            next_token = it._parse_starting_token()[0]
        total_items = 0
        first_request = True
        primary_result_key = it.result_keys[0]
        starting_truncation = 0
        it._inject_starting_params(current_kwargs)
        while True:
            method: Callable[..., Awaitable[Any]] = it._method
            response = await method(**current_kwargs)
            parsed = it._extract_parsed_response(response)
            if first_request:
                if it._starting_token is not None:
                    starting_truncation = it._handle_first_request(
                        parsed, primary_result_key, starting_truncation
                    )
                first_request = False
                it._record_non_aggregate_key_values(parsed)
            else:
                starting_truncation = 0
            current_response = primary_result_key.search(parsed) or []
            truncate_amount = 0
            if it._max_items is not None:
                truncate_amount = total_items + len(current_response) - it._max_items
            if truncate_amount > 0:
                it._truncate_response(
                    parsed, primary_result_key, truncate_amount, starting_truncation, next_token
                )
                yield response
                return
            yield response
            total_items += len(current_response)
            next_token = it._get_next_token(parsed)
            if all(token is None for token in next_token.values()):
                return
            if it._max_items is not None and total_items == it._max_items:
                self.resume_token = next_token  # on a page boundary
                return
            if previous_next_token is not None and previous_next_token == next_token:
                raise PaginationError(
                    message=f"The same next token was received twice: {next_token}"
                )
            it._inject_token_into_kwargs(current_kwargs, next_token)
            previous_next_token = next_token

    async def build_full_result(self) -> dict[str, Any]:  # type: ignore[override]
        """Every page merged into one answer, as botocore's ``build_full_result``."""
        self._replay = [page async for page in self]
        try:
            full: dict[str, Any] = PageIterator.build_full_result(self)
            return full
        finally:
            self._replay = None

    async def search(self, expression: str) -> AsyncIterator[Any]:  # type: ignore[override]
        """The JMESPath ``expression`` applied to each page, lists flattened, as botocore's
        ``search``."""
        compiled = jmespath.compile(expression)
        async for page in self:
            results = compiled.search(page)
            if isinstance(results, list):
                for result in results:
                    yield result
            else:
                yield results
