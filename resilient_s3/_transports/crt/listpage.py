"""A ListObjectsV2 page read for list verification: only what it compares.

botocore's parser turns a page of 1,000 keys into dicts with every field converted; most of its
~0.2 ms per key goes to parsing ``LastModified`` (dateutil), which list verification never
reads. This reads a page's XML with ElementTree (the same expat parser botocore uses) and keeps
``Key``, ``Size`` and ``ETag`` of each entry, ``IsTruncated`` and ``NextContinuationToken``: the
subset of botocore's answer that :func:`~resilient_s3.batch._engine.listverify.list_range` reads,
in the same shape. Keys come URL-encoded when the request asked for ``encoding-type=url``
(botocore's handlers add it to every ListObjectsV2 they build), and are decoded as botocore's
``decode_list_object_v2`` does. An error answer never reaches this: it is an ``S3ResponseError``
parsed by botocore (``outcome.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus
from xml.etree import ElementTree

__all__ = ["parse_list_page"]


def parse_list_page(body: bytes) -> dict[str, Any]:
    """``{"Contents": [{"Key", "Size", "ETag"}...], "IsTruncated", "NextContinuationToken"}``
    of a ListObjectsV2 answer's XML ``body``."""
    root = ElementTree.fromstring(body)
    contents: list[dict[str, Any]] = []
    page: dict[str, Any] = {"Contents": contents, "IsTruncated": False}
    encoded = False
    for child in root:
        tag = _local(child.tag)
        if tag == "Contents":
            entry: dict[str, Any] = {}
            for field in child:
                name = _local(field.tag)
                if name == "Key":
                    entry["Key"] = field.text or ""
                elif name == "Size":
                    entry["Size"] = int(field.text or 0)
                elif name == "ETag":
                    entry["ETag"] = field.text
            contents.append(entry)
        elif tag == "IsTruncated":
            page["IsTruncated"] = (child.text or "").strip().lower() == "true"
        elif tag == "NextContinuationToken":
            page["NextContinuationToken"] = child.text or ""
        elif tag == "EncodingType":
            encoded = (child.text or "").strip() == "url"
    if encoded:
        for entry in contents:
            entry["Key"] = unquote_plus(entry.get("Key", ""))
    return page


def _local(tag: str) -> str:
    """``tag`` without its ``{namespace}``."""
    return tag.rpartition("}")[2]
