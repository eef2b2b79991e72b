"""The rule every read-back follows: is its error a verdict on the write, or a refusal to read?

Verification reads an acknowledged write back (HeadObject, GetObject, or a ListObjectsV2 page).
What the server answers is one of:

- the object, or a listing that shows it: compared with what the write returned (a verdict);
- 404: the key is absent (a verdict: a lost write, or a delete since; ``verifier.py``);
- a **refusal**: the server will not let this client read, which says nothing about the write.
  A PERMANENT error (never retried) with one of the statuses of :data:`REFUSED_STATUSES`:
  403 (``AccessDenied``: a principal allowed ``s3:PutObject`` but not ``s3:GetObject`` or
  ``s3:ListBucket``, as an upload-only role, a log shipper or a cross-account drop bucket has
  it), 400 (an SSE-C object read without its key), 405 (``MethodNotAllowed``), 501
  (``NotImplemented``: a server without the operation or one of its options);
- anything else (a transient error once retries ran out, a 404 ``NoSuchBucket``...): raised.

A refused read-back is never turned into an error of the write: the write is verified another
way (a HeadObject refused: one ListObjectsV2 page, which needs only ``s3:ListBucket``), and when
nothing may be read it is returned unverified, or raised as ``VerificationError`` (reason
``"unreadable"``) under ``VerifyPolicy(unreadable="raise")`` (docs/consistency.md). Every path
that reads a write back asks :func:`read_refusal`: the facade's read-back (``verifier.py``) and the
batch's list verification (``batch/_engine/listverify.py``, its pages and its HeadObject), on
either data plane.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from .._fields import error_code, http_status
from .._retry.classify import DEFAULT_TABLES, ErrorKind, ErrorTables, classify

__all__ = ["REFUSED_STATUSES", "Refused", "read_refusal"]

#: HTTP statuses of a PERMANENT read-back error that refuse the read rather than judge the write.
REFUSED_STATUSES = frozenset({400, 403, 405, 501})


def read_refusal(error: BaseException, tables: ErrorTables = DEFAULT_TABLES) -> str | None:
    """``"403 AccessDenied"``: the status and code of ``error``, raised by a read-back, when it
    refuses the read (see the module docstring); ``None`` when it is not a refusal. Pure: the
    error's status and code only (never its message, which may hold a URL)."""
    if not isinstance(error, ClientError) or classify(error, tables) is not ErrorKind.PERMANENT:
        return None
    status = http_status(error)
    if status not in REFUSED_STATUSES:
        return None
    code = error_code(error)
    return f"{status} {code}" if code and code != str(status) else str(status)


@dataclass(frozen=True)
class Refused:
    """The server refused every read-back of a write: ``reason`` names the refusals
    (``"HeadObject 403 AccessDenied, ListObjectsV2 403 AccessDenied"``), ``error`` is the last."""

    reason: str
    error: ClientError
