"""A facade from client() pickles as its recipe and is rebuilt where it is unpickled."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import random
from typing import Any

import boto3
import pytest

import resilient_s3
from resilient_s3 import RetryPolicy, VerifyPolicy
from resilient_s3._fleet import recipe as recipes

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI-SECRET"}


def _client(**kwargs: Any) -> resilient_s3.ResilientS3Client:
    return resilient_s3.client(
        "s3", endpoint_url="http://127.0.0.1:9", region_name="eu-west-3", **kwargs
    )


def test_unpickled_in_another_process_is_rebuilt_from_the_recipe() -> None:
    s3 = _client(
        **KEYS, retry=RetryPolicy(deadline=7.0), verify_writes=VerifyPolicy(max_reuploads=5)
    )
    data = pickle.dumps(s3)
    recipes._originals.clear()  # as if unpickled in a fresh process
    copy = pickle.loads(data)
    assert copy is not s3
    assert copy.inner is not s3.inner
    assert copy.meta.endpoint_url == "http://127.0.0.1:9"
    assert copy.meta.region_name == "eu-west-3"
    assert copy.retry_policy.deadline == 7.0
    assert copy.verify_policy.max_reuploads == 5
    config: Any = copy.inner.meta.config
    assert config.max_pool_connections == 64
    # explicit keys travel with it (docs/distributed.md says so)
    credentials = copy.inner._request_signer._credentials
    assert credentials.access_key == KEYS["aws_access_key_id"]
    assert credentials.secret_key == KEYS["aws_secret_access_key"]
    # a second unpickling in the same process reuses the rebuilt boto3 client
    assert pickle.loads(data).inner is copy.inner


def test_unpickled_where_it_was_made_is_the_same_client() -> None:
    s3 = _client(**KEYS)
    assert pickle.loads(pickle.dumps(s3)).inner is s3.inner


def test_default_credentials_are_resolved_again_not_shipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-never-pickled")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    data = pickle.dumps(_client())
    assert b"env-secret-never-pickled" not in data
    assert b"AKIDFROMENV" not in data


def test_a_session_with_explicit_keys_ships_them_and_its_region() -> None:
    session = boto3.Session(
        KEYS["aws_access_key_id"], KEYS["aws_secret_access_key"], region_name="ap-south-1"
    )
    data = pickle.dumps(_client(session=session))
    recipes._originals.clear()
    copy = pickle.loads(data)
    assert copy.inner._request_signer._credentials.access_key == KEYS["aws_access_key_id"]
    recipe = copy._shared.recipe
    assert recipe.session["region_name"] == "ap-south-1"


def test_secrets_never_in_reprs() -> None:
    s3 = _client(**KEYS)
    recipe = s3._shared.recipe
    for text in (repr(s3), repr(recipe), str(recipe)):
        assert KEYS["aws_secret_access_key"] not in text
        assert KEYS["aws_access_key_id"] not in text


def test_the_default_random_is_the_new_process_s_own() -> None:
    s3 = _client()
    assert s3.retry_policy.random == random.random
    recipes._originals.clear()
    copy = pickle.loads(pickle.dumps(s3))
    assert copy.retry_policy.random is recipes.process_random  # no copy of this generator


def test_a_wrapped_client_refuses_to_pickle_naming_the_fix() -> None:
    inner = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id=KEYS["aws_access_key_id"],
        aws_secret_access_key=KEYS["aws_secret_access_key"],
    )
    with pytest.raises(TypeError, match=r"resilient_s3\.client\(") as raised:
        pickle.dumps(resilient_s3.wrap(inner))
    assert KEYS["aws_secret_access_key"] not in str(raised.value)


def _put_and_read(s3: resilient_s3.ResilientS3Client, bucket: str) -> tuple[bytes, int]:
    s3.put_object(Bucket=bucket, Key="from-a-spawned-process", Body=b"hello")
    body = s3.get_object(Bucket=bucket, Key="from-a-spawned-process")["Body"].read()
    return body, s3.stats.verified


def test_works_in_a_spawned_process_pool(s3_server: Any, s3_bucket: str) -> None:
    s3 = resilient_s3.client("s3", **s3_server.client_kwargs())
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        body, verified = pool.submit(_put_and_read, s3, s3_bucket).result(timeout=120)
    assert body == b"hello"
    assert verified == 1  # the policies came along: the write was verified over there
    assert s3.stats.verified == 0  # and counted there, not here
