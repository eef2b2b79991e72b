"""List verification on the CRT plane: its ListObjectsV2 pages are CRT requests, read by a lean
parser that must agree with botocore's on what verification compares (keys, sizes, ETags)."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

import resilient_s3
from resilient_s3._transports.crt.listpage import parse_list_page

#: Keys that URL encoding changes (list pages carry them encoded: encoding-type=url).
ODD_KEYS = [
    "plain/key",
    "with space/a b",
    "plus/a+b",
    "percent/100%25 sure%",
    "unicode/été-日本",
    "tilde~and&amp/x?y=z",
    "trailing space ",
]


def test_a_page_parses_as_botocore_parses_it(s3_server_client: Any, s3_bucket: str) -> None:
    for i, key in enumerate(ODD_KEYS):
        s3_server_client.put_object(Bucket=s3_bucket, Key=key, Body=b"x" * i)
    params = {"Bucket": s3_bucket, "MaxKeys": 4, "EncodingType": "url"}
    url = s3_server_client.generate_presigned_url("list_objects_v2", Params=params)
    with urllib.request.urlopen(url, timeout=10) as answer:
        ours = parse_list_page(answer.read())
    theirs = s3_server_client.list_objects_v2(Bucket=s3_bucket, MaxKeys=4)

    fields = ("Key", "Size", "ETag")
    assert ours["Contents"] == [{f: e[f] for f in fields} for e in theirs["Contents"]]
    assert ours["IsTruncated"] is theirs["IsTruncated"] is True
    assert ours["NextContinuationToken"] == theirs["NextContinuationToken"]


def test_an_empty_page_has_no_contents() -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
        b"</ListBucketResult>"
    )
    assert parse_list_page(body) == {"Contents": [], "IsTruncated": False}


def _verified_put(kwargs: dict[str, Any], bucket: str) -> None:
    bodies = {key: key.encode() * 3 for key in ODD_KEYS}
    with resilient_s3.client("s3", **kwargs) as s3:
        report = s3.batch.put(bucket, bodies, data_plane="crt")
        assert report.ok, report.summary()
        assert report.stats.plane == "crt"
        assert report.stats.list_requests >= 1
        # A key the listing misread would be "missing" and uploaded again.
        assert (report.stats.verified, report.stats.reuploads) == (len(bodies), 0)
        got = s3.batch.get(bucket, list(bodies), data_plane="crt")
        assert dict(got.data) == bodies


@pytest.mark.native
def test_odd_keys_are_verified_by_a_crt_listing(s3_server: Any, s3_bucket: str) -> None:
    _verified_put(dict(s3_server.client_kwargs()), s3_bucket)


@pytest.mark.native
def test_odd_keys_are_verified_by_a_crt_listing_on_a_real_server(
    real_s3_server: Any, real_s3_bucket: str
) -> None:
    _verified_put(dict(real_s3_server.client_kwargs()), real_s3_bucket)


@pytest.mark.native
def test_a_window_listed_over_several_pages_follows_the_continuation_token(
    s3_server: Any, s3_bucket: str
) -> None:
    with resilient_s3.client("s3", **s3_server.client_kwargs()) as s3:
        others = {f"k/{i:04d}-other": b"o" for i in range(1000)}
        assert s3.batch.put(s3_bucket, others, verify_writes="off").ok
        mine = {f"k/{i:04d}": b"m" * 5 for i in range(1000)}  # interleaved with the others
        report = s3.batch.put(s3_bucket, mine, data_plane="crt")
    assert report.ok, report.summary()
    assert report.stats.list_requests >= 2  # 2,000 keys in the window's range: 2 pages or more
    assert (report.stats.verified, report.stats.reuploads) == (1000, 0)
