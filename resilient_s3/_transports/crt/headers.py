"""Response fields from a successful answer's headers, by botocore's own output model.

botocore's response parser costs 0.4-1.3 ms per HeadObject/GetObject answer here (mostly
timestamp parsing), more than the CRT's whole request. The same result comes from a table made
once per operation from the operation's output shape in botocore's model: each member bound to
a header (``ETag``, ``VersionId``, ``ContentLength``, ``x-amz-checksum-*``, ``LastModified``...)
or to a header prefix (``Metadata``: ``x-amz-meta-*``), converted by the member's type as
botocore's REST parser does (integers, booleans, RFC 1123 timestamps as aware datetimes).
An XML body (CopyObject, DeleteObjects) is left to botocore's parser: those answers are few.
"""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable, Iterable
from typing import Any

from botocore.client import BaseClient

__all__ = ["FieldTable", "fields_of", "joined"]

_Convert = Callable[[str], Any]


def _boolean(value: str) -> bool:
    return value.strip().lower() == "true"


def _timestamp(value: str) -> Any:
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return value


_CONVERTERS: dict[str, _Convert] = {
    "integer": int,
    "long": int,
    "boolean": _boolean,
    "timestamp": _timestamp,
}


class FieldTable:
    """Header name (lower case) -> (member, converter), and prefixed header maps."""

    def __init__(self, shape: Any) -> None:
        self.single: dict[str, tuple[str, _Convert]] = {}
        self.prefixed: list[tuple[str, str]] = []
        members = shape.members if shape is not None else {}
        for member, child in members.items():
            location = child.serialization.get("location")
            name = str(child.serialization.get("name", member)).lower()
            if location == "header":
                self.single[name] = (member, _CONVERTERS.get(child.type_name, str))
            elif location == "headers":
                self.prefixed.append((name, member))

    def parse(self, status: int, headers: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """The operation's fields from ``headers``, plus ``ResponseMetadata``."""
        lowered = joined(headers)
        result: dict[str, Any] = {}
        for name, value in lowered.items():
            found = self.single.get(name)
            if found is not None:
                member, convert = found
                try:
                    result[member] = convert(value)
                except ValueError:
                    result[member] = value
        for prefix, member in self.prefixed:
            result[member] = {
                name[len(prefix) :]: value
                for name, value in lowered.items()
                if name.startswith(prefix)
            }
        result["ResponseMetadata"] = {
            "RequestId": lowered.get("x-amz-request-id") or lowered.get("x-amzn-requestid", ""),
            "HostId": lowered.get("x-amz-id-2", ""),
            "HTTPStatusCode": status,
            "HTTPHeaders": lowered,
            "RetryAttempts": 0,
        }
        return result


def joined(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names in lower case, a repeated header's values joined by ``", "``, as botocore
    gets them from urllib3 (moto sends two ``Server`` headers)."""
    found: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        found[key] = f"{found[key]}, {value}" if key in found else value
    return found


_tables: dict[tuple[int, str], FieldTable] = {}
_lock = threading.Lock()


def fields_of(inner: BaseClient, operation: str) -> FieldTable:
    """The (cached) field table of ``operation`` in ``inner``'s model."""
    model = inner.meta.service_model
    cache_key = (id(model), operation)
    table = _tables.get(cache_key)
    if table is None:
        table = FieldTable(model.operation_model(operation).output_shape)
        with _lock:
            _tables[cache_key] = table
    return table
