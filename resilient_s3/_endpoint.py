"""Memoize S3 endpoint resolution on the parameters the ruleset actually reads.

botocore evaluates the S3 endpoint rules (``endpoint-rule-set-1.json``) in
``EndpointProvider.resolve_endpoint`` behind an LRU keyed on *every* parameter,
``Key``, ``Prefix`` and ``CopySource`` included, so before botocore learnt to drop
those itself (1.43.106 has the fix, 1.43.11 has not) each new key paid a full rule
evaluation: 0.2 of 0.6 ms client CPU per PutObject (benchmarks/bench_endpoint.py).

The proof, made per client on the parsed rules its provider evaluates: the engine
reads a parameter only through ``{"ref": name}``, a ``{name}`` or ``{name#path}``
template inside a string, or by refusing an ``"assign": name`` that would shadow
it; each time ``name`` is an identifier token of some string in the rule tree. We
walk every attribute, key and value of the tree (refusing any type we do not know)
and call *unreferenced* each declared parameter whose name is a token of no string.
Its value cannot change which rule matches, the URL, properties, headers or rule
error. Its only other use is botocore's input check: we refuse required or
deprecated ones, and hand a call straight to botocore when one has the wrong type.

The memo is a thread-safe LRU keyed on all other parameters (with their types). It
stores only what botocore returned, never an exception (a failing call is not
cached, so botocore raises the same error every time), and shares that result as
botocore's own cache does (botocore only reads it). It replaces ``resolve_endpoint``
on this client's provider instance only; the class and other clients are untouched.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from botocore.client import BaseClient

__all__ = ["install_endpoint_memo"]

logger = logging.getLogger("resilient_s3")

_TOKEN = re.compile(r"\w+")
_SCALARS = (str, bool, int, float, type(None))


class _Refused(Exception):
    """The ruleset or the client is not shaped as the proof expects."""


def _unreferenced_params(provider: Any) -> frozenset[str]:
    """Names declared in ``provider.ruleset.parameters`` that no rule string mentions."""
    from botocore.endpoint_provider import BaseRule

    declared = provider.ruleset.parameters
    if not isinstance(declared, dict) or not all(isinstance(n, str) for n in declared):
        raise _Refused("ruleset parameters are not a dict of names")
    tokens: set[str] = set()
    stack: list[object] = [provider.ruleset.rules]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            tokens.update(_TOKEN.findall(node))
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, BaseRule) and not hasattr(type(node), "__slots__"):
            stack.extend(vars(node).keys())
            stack.extend(vars(node).values())
        elif not isinstance(node, _SCALARS):
            raise _Refused(f"unknown object in the rule tree: {type(node).__name__}")
    return frozenset(declared) - tokens


class _EndpointMemo:
    """Thread-safe LRU over ``resolve_endpoint`` that ignores proven-unread params."""

    __slots__ = ("_cache", "_dropped", "_lock", "_maxsize", "_resolve")

    def __init__(self, resolve: Callable[..., Any], dropped: dict[str, type], maxsize: int) -> None:
        self._resolve = resolve
        self._dropped = dropped  # name -> type botocore requires of a non-None value
        self._maxsize = maxsize
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, **params: Any) -> Any:
        key_parts: list[tuple[str, type, Any]] = []
        for name, value in params.items():
            if name in self._dropped:
                if value is not None and not isinstance(value, self._dropped[name]):
                    return self._resolve(**params)  # botocore raises its own error
            else:
                key_parts.append((name, type(value), value))
        key = tuple(key_parts)
        try:
            hash(key)
        except TypeError:
            return self._resolve(**params)  # botocore decides what an unhashable value does
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = self._resolve(**params)  # an exception propagates and is not cached
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > self._maxsize:
                self._cache.popitem(last=False)
        return result


def install_endpoint_memo(client: BaseClient, maxsize: int = 256) -> bool:
    """Memoize ``client``'s S3 endpoint resolution, ignoring parameters no rule reads.

    Returns True if the memo is in place on this client's provider (also when it
    already was). Returns False, changing nothing, when the client is not S3, when
    botocore's internals are not as expected, when no parameter is provably unread,
    or when botocore already drops every unread parameter from its own cache key
    (botocore >= 1.43.106): then a memo would gain nothing. ``maxsize`` (>= 1) bounds
    the number of distinct endpoints kept.
    """
    if maxsize < 1:
        raise ValueError(f"maxsize must be at least 1, got {maxsize}")
    try:
        from botocore.endpoint_provider import EndpointProvider, ParameterType

        if client.meta.service_model.service_name != "s3":
            raise _Refused("not an S3 client")
        provider = getattr(client, "_ruleset_resolver", None)
        provider = getattr(provider, "_provider", None)
        if type(provider) is not EndpointProvider:
            raise _Refused(f"unexpected endpoint provider {type(provider).__name__}")
        installed = vars(provider).get("resolve_endpoint")
        if isinstance(installed, _EndpointMemo):
            return True
        if installed is not None:
            raise _Refused("resolve_endpoint is already replaced on this provider")
        unread = _unreferenced_params(provider)
        dropped: dict[str, type] = {}
        for name in sorted(unread):
            spec = provider.ruleset.parameters[name]
            if spec.required or spec.deprecated is not None:
                raise _Refused(f"parameter {name} is required or deprecated")
            if spec.parameter_type not in (ParameterType.string.value, ParameterType.boolean.value):
                raise _Refused(f"parameter {name} has type {spec.parameter_type!r}")
            dropped[name] = spec.parameter_type
        if not dropped:
            raise _Refused("every declared parameter is referenced")
        excluded: Any = getattr(provider, "_excluded_params", ())
        if unread <= frozenset(excluded):
            raise _Refused(f"botocore already leaves {sorted(unread)} out of its cache key")
    except (_Refused, AttributeError, ImportError, KeyError, TypeError) as exc:
        logger.debug("S3 endpoint memo not installed: %s", exc)
        return False
    memo = _EndpointMemo(provider.resolve_endpoint, dropped, maxsize)
    provider.resolve_endpoint = memo  # type: ignore[method-assign]
    logger.debug("S3 endpoint memo installed; key ignores %s", sorted(dropped))
    return True
