"""The S3 endpoint memo: its proof, its identity with botocore, and that it hits.

No server: requests are built, signed and stopped in a ``before-send`` handler.
botocore >= 1.43.106 already leaves Key/Prefix/CopySource out of its own cache key,
so ``install_endpoint_memo`` declines there; to exercise the memo on any botocore,
``_old_provider`` restores the pre-fix behaviour (a cache keyed on every parameter)
on one client's provider instance.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.endpoint_provider import EndpointProvider

from resilient_s3._endpoint import _unreferenced_params, install_endpoint_memo

_ARN_REGION: Any = {"use_arn_region": True}
_CREDS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
_UNREAD = frozenset({"Key", "Prefix", "CopySource"})
_CLASS_RESOLVE = EndpointProvider.resolve_endpoint

CONFIGS: dict[str, dict[str, Any]] = {
    "us-east-1": {"region_name": "us-east-1"},
    "eu-west-1": {"region_name": "eu-west-1"},
    "cn-north-1": {"region_name": "cn-north-1"},
    "fips": {"region_name": "us-west-2", "config": Config(use_fips_endpoint=True)},
    "dualstack": {"region_name": "us-west-2", "config": Config(use_dualstack_endpoint=True)},
    "fips-dualstack": {
        "region_name": "us-gov-west-1",
        "config": Config(use_fips_endpoint=True, use_dualstack_endpoint=True),
    },
    "path": {"region_name": "us-east-1", "config": Config(s3={"addressing_style": "path"})},
    "virtual": {"region_name": "eu-west-1", "config": Config(s3={"addressing_style": "virtual"})},
    "accelerate": {
        "region_name": "us-east-1",
        "config": Config(s3={"use_accelerate_endpoint": True}),
    },
    "accelerate-fips": {
        "region_name": "us-east-1",
        "config": Config(use_fips_endpoint=True, s3={"use_accelerate_endpoint": True}),
    },
    "arn-region": {"region_name": "us-east-1", "config": Config(s3=_ARN_REGION)},
    "endpoint-url": {"region_name": "us-east-1", "endpoint_url": "http://127.0.0.1:9000"},
    "endpoint-url-virtual": {
        "region_name": "us-east-1",
        "endpoint_url": "https://s3.example.test:8443/base",
        "config": Config(s3={"addressing_style": "virtual"}),
    },
}

BUCKETS = [
    "plain-bucket",
    "dotted.bucket.name",
    "Under_Score_Bucket",  # valid for botocore, never virtual-hostable
    "ab",
    "bad/bucket",  # rejected by botocore before endpoint resolution
    "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap",
    "arn:aws:s3:us-east-1:123456789012:accesspoint/other-ap",
    "arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01234567890123456/accesspoint/rep",
    "arn:aws:s3:us-we$t-2:123456789012:accesspoint/ap",  # invalid region label in the ARN
    "arn:aws:s3:us-west-2:123456789012:accesspoint",  # ARN without a resource name
    "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap",  # multi-region access point
    "arn:aws:s3:us-west-2:123456789012:accesspoint/my.ap",  # invalid name: the rules reject it
    "arn:aws:s3:us-west-2:123456789012:accesspoint:colon-ap",
    "arn:aws:s3-object-lambda:us-west-2:123456789012:accesspoint/banner",
    "arn:aws-cn:s3:cn-north-1:123456789012:accesspoint/cn-ap",
    "192.168.5.4",
    "a..b",
    "express--usw2-az1--x-s3",  # S3 Express: the first request built is CreateSession
]


class _Sent(Exception):
    """Stops a request in ``before-send``, carrying what would have been sent."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(url)
        self.url, self.headers = url, headers


def _stop_before_send(request: Any, **_: Any) -> None:
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    raise _Sent(request.url, headers)


def _provider(client: BaseClient) -> Any:
    return client._ruleset_resolver._provider  # type: ignore[attr-defined]


def _old_provider(client: BaseClient) -> Any:
    """This client's provider, with botocore's own exclusion of Key/Prefix/CopySource off."""
    provider = _provider(client)
    if hasattr(provider, "_excluded_params"):
        provider._excluded_params = frozenset()
    return provider


def _client(service: str = "s3", **kwargs: Any) -> BaseClient:
    client: BaseClient = boto3.client(service, **{"region_name": "us-east-1", **_CREDS, **kwargs})  # type: ignore[call-overload]
    client.meta.events.register("before-send", _stop_before_send)
    return client


def _memo_client(**kwargs: Any) -> BaseClient:
    client = _client(**kwargs)
    _old_provider(client)
    assert install_endpoint_memo(client) is True
    return client


def _normalise(headers: dict[str, str]) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k not in ("X-Amz-Date", "amz-sdk-invocation-id")}
    if "Authorization" in out:  # keep the signing region, name and headers; drop time and MAC
        out["Authorization"] = re.sub(r"\d{8}/|Signature=\w+", "", out["Authorization"])
    return out


def _outcome(call: Callable[[], object]) -> tuple[str, ...]:
    try:
        call()
    except _Sent as sent:
        return ("sent", sent.url, json.dumps(_normalise(sent.headers), sort_keys=True))
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return ("raised", type(exc).__name__, str(exc))
    raise AssertionError("the request was neither sent nor refused")


def _keys(rng: random.Random, n: int) -> Iterator[str]:
    alphabet = "abcXYZ019/-_.~ %+?#&=ü€"
    for _ in range(n):
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))


def _calls(client: BaseClient, bucket: str, key: str) -> list[Callable[[], object]]:
    copy_source: Any = {"Bucket": "src-bucket", "Key": key[::-1], "VersionId": "v1"}
    if len(key) % 2:
        copy_source = f"src-bucket/{key[::-1]}"
    delete = {"Objects": [{"Key": key}, {"Key": key + "2"}]}
    c: Any = client
    return [
        lambda: c.put_object(Bucket=bucket, Key=key, Body=b"payload"),
        lambda: c.get_object(Bucket=bucket, Key=key),
        lambda: c.list_objects_v2(Bucket=bucket, Prefix=key),
        lambda: c.copy_object(Bucket=bucket, Key=key, CopySource=copy_source),
        lambda: c.create_bucket(Bucket=bucket),
        lambda: c.delete_objects(Bucket=bucket, Delete=delete),
    ]


def _count_calls(memo_client: BaseClient) -> dict[str, int]:
    """Count the calls into the memo and those that get past it to botocore."""
    provider = _provider(memo_client)
    memo, counts = vars(provider)["resolve_endpoint"], {"calls": 0, "misses": 0}
    inner = memo._resolve

    def miss(**params: Any) -> Any:
        counts["misses"] += 1
        return inner(**params)

    def call(**params: Any) -> Any:
        counts["calls"] += 1
        return memo(**params)

    memo._resolve, provider.resolve_endpoint = miss, call
    return counts


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_requests_match_a_plain_client(name: str) -> None:
    plain, memo = _client(**CONFIGS[name]), _memo_client(**CONFIGS[name])
    counts, rng, sent = _count_calls(memo), random.Random(name), 0
    for bucket in BUCKETS:
        for key in _keys(rng, 3):
            calls = zip(_calls(plain, bucket, key), _calls(memo, bucket, key), strict=True)
            for plain_call, memo_call in calls:
                expected = _outcome(plain_call)
                assert _outcome(memo_call) == expected, (bucket, key)
                sent += expected[0] == "sent"
    hits = counts["calls"] - counts["misses"]
    if sent:  # different keys shared resolved endpoints
        assert hits > sent // 2
    else:  # every resolution failed: errors are never cached
        assert hits == 0 < counts["calls"]


def test_finds_exactly_the_unread_parameters() -> None:
    provider = _provider(_client())
    found = _unreferenced_params(provider)
    assert found == _UNREAD
    assert found <= set(provider.ruleset.parameters)


def test_proof_agrees_with_the_raw_ruleset_json() -> None:
    client: Any = _client()
    model = client.meta.service_model
    raw = client._loader.load_service_model("s3", "endpoint-rule-set-1", model.api_version)
    text = json.dumps(raw["rules"])
    refs = set(re.findall(r'"(?:ref|assign)": "(\w+)"', text))
    refs |= set(re.findall(r"\{(\w+)[#}]", text))
    assert set(raw["parameters"]) - refs == _UNREAD
    assert set(raw["parameters"]) == set(client._ruleset_resolver._provider.ruleset.parameters)


@pytest.mark.parametrize(
    ("name", "mention"),
    [
        ("Key", {"fn": "isSet", "argv": [{"ref": "Key"}]}),
        ("Prefix", {"fn": "stringEquals", "argv": ["{Prefix}", "x"]}),
        ("CopySource", {"fn": "parseURL", "argv": ["{CopySource#path}"], "assign": "z"}),
        ("CopySource", {"fn": "isSet", "argv": [True], "assign": "CopySource"}),
    ],
)
def test_any_mention_counts_as_a_reference(name: str, mention: dict[str, Any]) -> None:
    provider = _old_provider(_client())
    rule = provider.ruleset.rules[-1]
    rule.conditions = [*rule.conditions, mention]  # a new list: the parsed JSON is shared
    assert _unreferenced_params(provider) == _UNREAD - {name}


def test_refuses_a_rule_tree_it_cannot_read() -> None:
    client = _client()
    provider = _old_provider(client)
    rule = provider.ruleset.rules[-1]
    rule.conditions = [*rule.conditions, lambda: "Key"]
    assert install_endpoint_memo(client) is False
    assert "resolve_endpoint" not in vars(provider)


def test_refuses_a_required_unread_parameter() -> None:
    client = _client()
    provider = _old_provider(client)
    provider.ruleset.parameters["Key"].required = True
    assert install_endpoint_memo(client) is False


def test_declines_non_s3_clients() -> None:
    assert install_endpoint_memo(_client("sts")) is False
    assert install_endpoint_memo(_client("dynamodb")) is False


def test_declines_when_botocore_already_drops_them() -> None:
    client = _client()
    provider = _provider(client)
    expected = not hasattr(provider, "_excluded_params")  # botocore < 1.43.106 lacks it
    assert install_endpoint_memo(client) is expected
    assert ("resolve_endpoint" in vars(provider)) is expected


def test_touches_only_its_own_client() -> None:
    memo, other = _memo_client(), _client()
    assert install_endpoint_memo(memo) is True  # idempotent
    assert "resolve_endpoint" not in vars(_provider(other))
    assert EndpointProvider.resolve_endpoint is _CLASS_RESOLVE


def _count_evaluations(client: BaseClient) -> list[int]:
    """Count full rule-tree evaluations on this client's ruleset."""
    ruleset: Any = _provider(client).ruleset
    evaluate, count = ruleset.evaluate, [0]

    def counted(params: dict[str, Any]) -> Any:
        count[0] += 1
        return evaluate(params)

    ruleset.evaluate = counted
    return count


def test_memo_hits_across_keys_of_one_bucket() -> None:
    old = _client()
    _old_provider(old)
    memo = _memo_client()
    counts = {"memo": _count_evaluations(memo), "old": _count_evaluations(old)}
    for i in range(40):
        for client in (memo, old):
            c: Any = client
            _outcome(lambda: c.put_object(Bucket="one-bucket", Key=f"k/{i}", Body=b""))  # noqa: B023
    assert {name: count[0] for name, count in counts.items()} == {"memo": 1, "old": 40}


def _params(**overrides: Any) -> dict[str, Any]:
    params = {"Region": "us-west-2", "UseFIPS": False, "UseDualStack": False}
    params.update({"ForcePathStyle": False, "Accelerate": False, "UseGlobalEndpoint": False})
    params.update({"DisableMultiRegionAccessPoints": False, **overrides})
    return {k: v for k, v in params.items() if v is not None}


def _provider_outcome(provider: Any, params: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return ("ok", provider.resolve_endpoint(**params))
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return ("raised", type(exc).__name__, str(exc))


@pytest.mark.parametrize(
    "overrides",
    [
        {"Bucket": "b", "Key": 123},  # wrong type for an ignored parameter: botocore's error
        {"Bucket": ["b"], "Key": "k"},  # unhashable
        {"Bucket": "arn:aws:s3:us-we$t-2:123456789012:accesspoint/ap", "Key": "k"},
        {"Bucket": "arn:aws:s3:us-west-2:123456789012:accesspoint", "Prefix": "p"},
        {"Bucket": "b", "Region": None},
        {"Bucket": "b", "UseFIPS": 1, "Key": "k"},  # int where botocore wants a bool
    ],
)
def test_errors_are_botocore_s_and_not_cached(overrides: dict[str, Any]) -> None:
    plain, memo = _old_provider(_client()), _old_provider(_memo_client())
    # Warm the memo with a valid neighbour: a cached True must not answer for 1, nor a
    # cached endpoint for a wrong-typed Key that botocore itself rejects.
    warm = {**overrides, "Key": "warm", "UseFIPS": bool(overrides.get("UseFIPS"))}
    _provider_outcome(memo, _params(**warm))
    for key in ("first", "second", "first"):
        params = _params(**{"Key": key, **overrides})
        expected = _provider_outcome(plain, dict(params))
        assert _provider_outcome(memo, dict(params)) == expected


def test_bounded_and_thread_safe() -> None:
    plain, memo_client = _old_provider(_client()), _client()
    _old_provider(memo_client)
    assert install_endpoint_memo(memo_client, maxsize=2) is True
    memo = _provider(memo_client)
    buckets = ["b1", "b.2", "B_3", "arn:aws:s3:us-west-2:123456789012:accesspoint/ap4", "b5"]
    expected = {b: _provider_outcome(plain, _params(Bucket=b)) for b in buckets}
    failures: list[str] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for i in range(300):
            bucket = rng.choice(buckets)
            got = _provider_outcome(memo, _params(Bucket=bucket, Key=f"{seed}/{i}"))
            if got != expected[bucket]:
                failures.append(bucket)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(vars(memo)["resolve_endpoint"]._cache) <= 2
    with pytest.raises(ValueError, match="maxsize"):
        install_endpoint_memo(memo_client, maxsize=0)
