"""Shared listings for concurrent read-backs: pure unit tests (threads, an in-memory "server")."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from resilient_s3._verify.listing import (
    MISSES_BEFORE_OFF,
    Listed,
    ListingCoalescer,
    listing_params,
)

BUCKET = "b"


def client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "ListObjectsV2")


class Server:
    """ListObjectsV2 over a dict of key -> size; each call blocks until ``gate`` is set."""

    def __init__(self, keys: Mapping[str, int]) -> None:
        self.keys = dict(keys)
        self.calls: list[dict[str, Any]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.error: Exception | None = None

    def list_page(self, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(params)
        self.gate.wait(5)
        if self.error is not None:
            raise self.error
        after, prefix = params.get("StartAfter", ""), params["Prefix"]
        keys = sorted(k for k in self.keys if k.startswith(prefix) and k > after)
        page = keys[: params["MaxKeys"]]
        contents = [{"Key": k, "Size": self.keys[k], "ETag": f'"{k}"'} for k in page]
        return {"Contents": contents, "IsTruncated": len(keys) > len(page)}


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def queued(coalescer: ListingCoalescer) -> int:
    return len(coalescer._queues.get(BUCKET, []))


def test_a_lone_read_back_is_its_own_head_and_lists_nothing() -> None:
    server = Server({"k": 1})
    coalescer = ListingCoalescer(server.list_page, 2)
    assert coalescer.read_back(BUCKET, "k", lambda: "head") == "head"
    assert server.calls == []


def test_coalesce_zero_never_lists() -> None:
    server = Server({"k": 1})
    coalescer = ListingCoalescer(server.list_page, 0)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: coalescer.read_back(BUCKET, "k", lambda: "h"), range(50)))
    assert results == ["h"] * 50
    assert server.calls == []


class Scene:
    """``least`` = 2. A first read-back parks in its HeadObject, so the second one leads a
    listing, which parks on the server's gate while more read-backs queue behind it."""

    def __init__(self, server: Server, more: list[str]) -> None:
        self.server = server
        self.coalescer = ListingCoalescer(server.list_page, 2)
        self.pool = ThreadPoolExecutor(len(more) + 2)
        self.heads: list[str] = []
        release_first = threading.Event()

        def first_head() -> str:
            release_first.wait(5)
            return "head:first"

        self.first = self.pool.submit(self.coalescer.read_back, BUCKET, "p/first", first_head)
        wait_until(lambda: self.coalescer._inflight.get(BUCKET) == 1)
        server.gate.clear()
        self.leader = self.submit("p/10")
        wait_until(lambda: len(server.calls) == 1)
        self.more = {key: self.submit(key) for key in more}
        wait_until(lambda: queued(self.coalescer) == len(more))
        server.gate.set()
        release_first.set()

    def submit(self, key: str) -> Future[Any]:
        def head() -> str:
            self.heads.append(key)
            return f"head:{key}"

        return self.pool.submit(self.coalescer.read_back, BUCKET, key, head)

    def close(self) -> None:
        self.pool.shutdown()


def test_read_backs_queued_behind_a_listing_share_the_next_one() -> None:
    server = Server({"p/10": 1, "p/11": 2, "p/12": 3, "p/13": 4, "p/other": 9})
    scene = Scene(server, ["p/11", "p/12", "p/13"])
    try:
        assert scene.first.result() == "head:first"
        assert scene.leader.result() == Listed(1, '"p/10"')
        assert {k: f.result() for k, f in scene.more.items()} == {
            "p/11": Listed(2, '"p/11"'),
            "p/12": Listed(3, '"p/12"'),
            "p/13": Listed(4, '"p/13"'),
        }
    finally:
        scene.close()
    assert len(server.calls) == 2  # the leader's own page, then one for the three queued
    assert server.calls[1] == {
        "Bucket": BUCKET,
        "Prefix": "p/1",
        "MaxKeys": 12,
        "StartAfter": "p/10",
    }
    assert scene.heads == []


def test_a_key_the_page_does_not_show_is_read_back_with_head() -> None:
    server = Server({"p/10": 1, "p/11": 2})  # "p/12" was lost
    scene = Scene(server, ["p/11", "p/12"])
    try:
        assert scene.more["p/11"].result() == Listed(2, '"p/11"')
        assert scene.more["p/12"].result() == "head:p/12"
    finally:
        scene.close()
    assert scene.heads == ["p/12"]


def test_a_refused_listing_turns_listing_off_for_the_bucket() -> None:
    server = Server({"p/10": 1, "p/11": 2, "p/12": 3})
    server.error = client_error("AccessDenied", 403)
    scene = Scene(server, ["p/11", "p/12"])
    try:
        results = {k: f.result() for k, f in scene.more.items()}
        assert scene.leader.result() == "head:p/10"
    finally:
        scene.close()
    assert results == {"p/11": "head:p/11", "p/12": "head:p/12"}
    assert len(server.calls) == 1  # those queued behind the refusal did not list again
    assert BUCKET in scene.coalescer._off
    with ThreadPoolExecutor(8) as pool:  # from now on every read-back is its own HeadObject
        heads = pool.map(lambda _: scene.coalescer.read_back(BUCKET, "k", lambda: "h"), range(20))
        assert list(heads) == ["h"] * 20
    assert len(server.calls) == 1


def test_a_failed_listing_falls_back_to_head_and_listing_goes_on() -> None:
    server = Server({"p/10": 1, "p/11": 2})
    server.error = client_error("InternalError", 500)
    scene = Scene(server, ["p/11"])
    try:
        assert scene.more["p/11"].result() == "head:p/11"
    finally:
        scene.close()
    assert len(server.calls) == 2
    assert BUCKET not in scene.coalescer._off


def test_listings_that_keep_missing_their_keys_stop() -> None:
    server = Server({"p/10": 1})  # nothing else is ever listed
    coalescer = ListingCoalescer(server.list_page, 1)
    for _ in range(MISSES_BEFORE_OFF):
        assert coalescer._list(BUCKET, ["p/11", "p/12", "p/13"]) == {}
    assert BUCKET in coalescer._off
    assert coalescer.read_back(BUCKET, "p/14", lambda: "head") == "head"
    assert len(server.calls) == MISSES_BEFORE_OFF


def test_a_listing_that_confirms_resets_the_misses() -> None:
    server = Server({"p/10": 1})
    coalescer = ListingCoalescer(server.list_page, 2)
    for _ in range(MISSES_BEFORE_OFF - 1):
        coalescer._list(BUCKET, ["p/11", "p/12"])
    assert coalescer._list(BUCKET, ["p/10"]) == {"p/10": Listed(1, '"p/10"')}
    coalescer._list(BUCKET, ["p/11", "p/12"])
    assert BUCKET not in coalescer._off


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["p/37", "p/52"], {"Prefix": "p/", "StartAfter": "p/36", "MaxKeys": 8}),
        (["a", "ab"], {"Prefix": "a", "MaxKeys": 8}),  # the smallest key is the prefix
        (["x/\ue000"], {"Prefix": "x/\ue000", "MaxKeys": 4}),
        (["x/\ue000", "x/\ue001"], {"Prefix": "x/", "StartAfter": "x/\ud7ff", "MaxKeys": 8}),
        # no control character (servers echo StartAfter in XML): after the key's stem
        (["o/a ", "o/b"], {"Prefix": "o/", "StartAfter": "o/a", "MaxKeys": 8}),
        (
            [f"k{i:04}" for i in range(400)],
            {"Prefix": "k0", "StartAfter": "k0000"[:-1] + "/", "MaxKeys": 1000},
        ),
    ],
)
def test_listing_params(keys: list[str], expected: dict[str, Any]) -> None:
    assert listing_params(BUCKET, keys) == {"Bucket": BUCKET, **expected}
