"""Client CPU per PutObject with fresh keys, with and without the S3 endpoint memo.

No server: a ``before-send`` hook answers every request with a canned 200, so only
client-side work (parameter handling, endpoint resolution, signing, parsing) is
measured with ``time.process_time``. Rounds of the variants are interleaved, in a
rotating order, to spread the noise of a shared machine evenly.

botocore >= 1.43.106 already leaves Key/Prefix/CopySource out of its own cache key,
so there the memo declines to install. To measure what the memo does for an older
botocore on any botocore, the "no memo" and "memo" variants switch that exclusion off
on their own provider (which makes it behave like botocore 1.43.11); "stock" is the
installed botocore untouched, with the memo offered (and declined if not needed).

    python benchmarks/bench_endpoint.py [--requests 4000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore
from botocore.awsrequest import AWSResponse

from resilient_s3._endpoint import install_endpoint_memo


class _CannedBody:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


def _answer_200(request: Any, **_: Any) -> AWSResponse:
    headers: Any = {"ETag": '"d41d8cd98f00b204e9800998ecf8427e"'}
    return AWSResponse(request.url, 200, headers, _CannedBody())


def _client(variant: str) -> Any:
    client: Any = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    client.meta.events.register("before-send.s3", _answer_200)
    provider = client._ruleset_resolver._provider
    if variant != "stock" and hasattr(provider, "_excluded_params"):
        provider._excluded_params = frozenset()  # behave like botocore < 1.43.106
    if variant != "no memo":
        installed = install_endpoint_memo(client)
        print(f"{variant:>8}: install_endpoint_memo -> {installed}")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="per variant")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    variants = ["no memo", "memo", "stock"]
    clients = {v: _client(v) for v in variants}
    cpu = dict.fromkeys(variants, 0.0)
    keys = (f"bench/{i:08d}" for i in itertools.count())
    per_round = max(1, args.requests // args.rounds)
    for client in clients.values():  # warm-up, not counted
        for _ in range(50):
            client.put_object(Bucket="bench-bucket", Key=next(keys), Body=b"x")
    for r in range(args.rounds):
        order = variants[r % len(variants) :] + variants[: r % len(variants)]
        for variant in order:
            client = clients[variant]
            start = time.process_time()
            for _ in range(per_round):
                client.put_object(Bucket="bench-bucket", Key=next(keys), Body=b"x")
            cpu[variant] += time.process_time() - start
    n = per_round * args.rounds
    print(f"botocore {botocore.__version__}, {n} PutObject per variant, {args.rounds} rounds")
    for variant in variants:
        print(f"{variant:>8}: {cpu[variant] / n * 1e3:.3f} ms CPU per request")
    print(f"no memo / memo: {cpu['no memo'] / cpu['memo']:.2f}x")


if __name__ == "__main__":
    main()
