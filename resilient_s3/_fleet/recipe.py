"""How a facade made by :func:`resilient_s3.client` crosses a process boundary.

A boto3 client cannot be pickled (connections, locks, credential providers), so a facade pickles
as its *recipe*: the arguments :func:`~resilient_s3.client` was called with (endpoint, region,
``Config``, retry and verify policies, ``rate_limit``, the session's profile) and rebuilds from
it in the process that unpickles it:

- **built on first unpickle in a process, then reused**: every later unpickling of the same
  client in that process (every Dask task of a batch ships it) gets a facade over the same
  boto3 client, so its connection pool, retry budget and batch state are shared there. The
  unpickled facade carries the retry and verify policies of the facade that was pickled.
- **credentials**: keys passed explicitly to ``client()`` (or held by a ``boto3.Session`` built
  with explicit keys) travel in the pickle, as they must to be used; default-chain credentials
  (environment, profile, instance role) are resolved again where the pickle lands. Reprs never
  show keys.
- **``random``**: a policy using the process's ``random.random`` gets the new process's, not a
  copy of this one's state (copies would give every worker the same jitter).

A facade made by :func:`~resilient_s3.wrap` has no recipe: pickling it raises ``TypeError``
naming the fix. The facade keeps its recipe (``SharedParts.recipe``) and calls :meth:`ClientRecipe.
reduce`; the recipe holds the factory's ``build_client`` (a reference, pickled by name), so this
module imports neither the facade nor the factory.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

    from .._client import ResilientS3Client
    from .._retry.policy import RetryPolicy
    from .._verify.policy import VerifyPolicy

__all__ = ["ClientRecipe", "process_random", "register_original"]

#: Rebuilt clients kept per process (by recipe token), most recently used last.
_KEPT = 16


@dataclass(frozen=True)
class ClientRecipe:
    """What :func:`resilient_s3.client` was given, enough to build the same client again.

    Attributes:
        token: identifies the client: unpickling the same client twice in a process reuses one
            boto3 client.
        kwargs: ``boto3 Session.client("s3", ...)`` keywords (keys among them; never shown).
        session: ``boto3.Session(...)`` keywords: ``profile_name``, ``region_name`` and, for a
            session made with explicit keys, the keys (never shown).
        options: the other keywords of ``client()`` (``rate_limit``).
        builder: ``build_client(recipe, session, retry, verify)`` of ``resilient_s3._factory``.
    """

    token: str
    kwargs: Mapping[str, Any] = field(repr=False)
    session: Mapping[str, Any] = field(repr=False)
    options: Mapping[str, Any] = field(repr=False)
    builder: Callable[..., Any] = field(repr=False)
    #: The caller's own ``boto3.Session`` in the process that made the client (not pickled:
    #: :attr:`session` is read from it when the recipe is pickled).
    live_session: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"ClientRecipe(endpoint_url={self.kwargs.get('endpoint_url')!r}, "
            f"region_name={self.kwargs.get('region_name')!r}, "
            f"explicit_keys={bool(self.kwargs.get('aws_access_key_id'))})"
        )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        session = self.session
        if self.live_session is not None:
            session = _session_recipe(self.live_session)
        return ClientRecipe, (self.token, self.kwargs, session, self.options, self.builder)

    @classmethod
    def of(
        cls,
        kwargs: Mapping[str, Any],
        session: boto3.Session | None,
        options: Mapping[str, Any],
        builder: Callable[..., Any],
    ) -> ClientRecipe:
        """The recipe of a ``client()`` call (``session``: the caller's, or ``None`` for
        boto3's default session, which is resolved again where the recipe lands)."""
        return cls(uuid.uuid4().hex, dict(kwargs), {}, dict(options), builder, session)

    def reduce(self, retry: RetryPolicy, verify: VerifyPolicy) -> tuple[Any, tuple[Any, ...]]:
        """``__reduce__`` of a facade made from this recipe with these policies."""
        return _unpickle, (self, _portable(retry), verify)

    def build(self, retry: RetryPolicy | None, verify: VerifyPolicy | bool | None) -> Any:
        """A new facade made by :func:`resilient_s3.client` from this recipe."""
        import boto3

        session = self.live_session
        if session is None and self.session:
            session = boto3.Session(**self.session)
        return self.builder(self, session, retry, verify)


def _session_recipe(session: boto3.Session) -> dict[str, Any]:
    """The keywords that make the caller's ``session`` again: its profile and region, and its
    keys if it was made with explicit ones (other credentials are resolved again)."""
    recipe: dict[str, Any] = {}
    if session.profile_name != "default":
        recipe["profile_name"] = session.profile_name
    if session.region_name:
        recipe["region_name"] = session.region_name
    credentials = session.get_credentials()
    if credentials is not None and getattr(credentials, "method", "") == "explicit":
        frozen = credentials.get_frozen_credentials()
        recipe.update(
            aws_access_key_id=frozen.access_key,
            aws_secret_access_key=frozen.secret_key,
            aws_session_token=frozen.token,
        )
    return recipe


# Per process: the facades client() made here, and those rebuilt from pickles --------------------

_lock = threading.Lock()
_originals: weakref.WeakValueDictionary[str, ResilientS3Client] = weakref.WeakValueDictionary()
_rebuilt: OrderedDict[str, ResilientS3Client] = OrderedDict()


def register_original(token: str, facade: ResilientS3Client) -> None:
    """Remember the facade ``client()`` made (unpickling it in this process gives it back)."""
    with _lock:
        _originals[token] = facade


def _portable(policy: RetryPolicy) -> RetryPolicy:
    """``policy`` with this process's ``random.random`` swapped for a reference to whatever
    process runs it (a bound method would pickle the generator's state with it)."""
    if policy.random == random.random:
        return dataclasses.replace(policy, random=process_random)
    return policy


def process_random() -> float:
    """``random.random()`` of the calling process (what a pickled default policy uses)."""
    return random.random()


def _unpickle(recipe: ClientRecipe, retry: RetryPolicy, verify: VerifyPolicy) -> ResilientS3Client:
    with _lock:
        base = _originals.get(recipe.token) or _rebuilt.get(recipe.token)
        if base is None:
            base = recipe.build(retry, verify)
            _rebuilt[recipe.token] = base
            while len(_rebuilt) > _KEPT:
                _rebuilt.popitem(last=False)
        elif recipe.token in _rebuilt:
            _rebuilt.move_to_end(recipe.token)
    if base.retry_policy == retry and base.verify_policy == verify:
        return base
    return base.with_options(retry=retry, verify_writes=verify)
