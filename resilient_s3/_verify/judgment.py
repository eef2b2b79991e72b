"""The one judgment of a write read back, for every path: the facade's read-back
(``verifier.py``) and list verification in batches (``batch/_engine/listverify.py``), on every
transport. It is pure: what was expected, what was found and when, how many re-uploads were made
and the policy go in; a :class:`Verdict` comes out. Reading and writing are the callers'.

What is compared (``expected_of`` and ``differing``): the **ETag** the write was answered with
against the ETag read back (both the server's, for one object version: multipart and SSE-KMS
ETags compare as well as MD5s, and nothing is recomputed locally); the **length**, when the
body's length is known locally; the **checksum** (``ChecksumCRC32`` & co.) when the write
returned one and the read-back shows it; the **MD5 of the bytes** read back in ``"read"`` mode.
A listing shows ETag and size only.

The verdicts (docs/consistency.md argues each):

- **verified**: every expected field that the read-back shows matches.
- **absent**, answered within ``lost_write_window`` of the write's acknowledgement: a lost write.
  It is **re-uploaded with** ``IfNoneMatch="*"``, so that a newer object by someone else is
  never overwritten. Answered later: a lost write and a delete by another client since cannot
  be told apart, so it **fails** (reason ``"absent"``) and nothing is uploaded: verification
  never undoes an older delete.
- **the same version, other bytes** (the ETag we were answered, but another length, checksum or
  MD5): the server stored something else than what was sent (a body corrupted on its way, an
  ``aws-chunked`` framing stored as data). Nobody else wrote (the version is ours), so it is
  **re-uploaded pinned to that version** (``IfMatch=<ETag>``): should another writer replace it
  meanwhile, the server refuses, and their object stays.
- **another version** (another ETag): another writer's object, newer than ours, or one we cannot
  attribute. It **fails** (reason ``"mismatch"``) and is **never overwritten**: the caller hears
  of it, and the other writer's data stays.
- after ``max_reuploads`` re-uploads still absent or still other bytes: **fails** (reasons
  ``"lost"`` and ``"mismatch"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import VerificationError
from .policy import VerifyPolicy

__all__ = ["Verdict", "differing", "expected_of", "judge", "normal_etag", "public_fields"]


@dataclass(frozen=True)
class Verdict:
    """What to do with a write read back.

    Attributes:
        action: ``"verified"``, ``"reupload"`` or ``"fail"``.
        condition: for a re-upload, the parameters that keep it from overwriting another
            writer's object (``{"IfNoneMatch": "*"}`` or ``{"IfMatch": etag}``).
        reason: for a failure, :class:`VerificationError`'s reason.
        detail: for a failure, what happened, in words.
        found: the fields read back (for the error).
    """

    action: str
    condition: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""
    detail: str = ""
    found: Mapping[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return self.action == "verified"

    def error(self, bucket: str, key: str, expected: Mapping[str, Any]) -> VerificationError:
        """The :class:`VerificationError` of a failure, naming ``s3://bucket/key``."""
        found = public_fields(self.found) if self.found is not None else None
        return VerificationError(
            bucket, key, self.reason, public_fields(expected), found or None, self.detail
        )


VERIFIED = Verdict("verified")


def expected_of(response: Mapping[str, Any], length: int | None) -> dict[str, Any]:
    """What a read-back must show after a write answered ``response`` (a PutObject's,
    CompleteMultipartUpload's or CopyObject's) whose body was ``length`` bytes."""
    result = response.get("CopyObjectResult", response)
    expected: dict[str, Any] = {"ETag": normal_etag(result.get("ETag")), "ContentLength": length}
    for name, value in result.items():
        if name.startswith("Checksum") and name != "ChecksumType" and isinstance(value, str):
            expected[name] = value
    return expected


def differing(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """The expected fields (those with a value) that ``found`` shows otherwise, or not at all."""
    return [
        name
        for name, value in expected.items()
        if value is not None and _shown(found, name) != value
    ]


def judge(
    expected: Mapping[str, Any],
    found: Mapping[str, Any] | None,
    answered_after: float,
    reuploads: int,
    policy: VerifyPolicy,
) -> Verdict:
    """The verdict on a write (see the module docstring): ``found`` is what the read-back showed
    (``None``: absent), ``answered_after`` the seconds between the write's acknowledgement and
    the read-back's first answer, ``reuploads`` the re-uploads made so far."""
    if found is None:
        return _absent(expected, answered_after, reuploads, policy)
    different = differing(expected, found)
    if not different:
        return VERIFIED
    shown = {name: _shown(found, name) for name in expected if expected[name] is not None}
    names = ", ".join(different)
    if "ETag" in different or expected.get("ETag") is None:
        return Verdict(
            "fail", reason="mismatch", found=shown,
            detail=f"the object read back differs in {names}: another writer's object (a newer "
            "write, or one that cannot be attributed to this write); it was not overwritten",
        )  # fmt: skip
    if reuploads >= policy.max_reuploads:
        return Verdict(
            "fail", reason="mismatch", found=shown,
            detail=f"the server stored other bytes than were sent (same ETag, other {names}), "
            f"still after {reuploads} re-upload(s)",
        )  # fmt: skip
    return Verdict("reupload", {"IfMatch": _quoted(expected["ETag"])}, found=shown)


def _absent(
    expected: Mapping[str, Any], answered_after: float, reuploads: int, policy: VerifyPolicy
) -> Verdict:
    window = policy.lost_write_window
    if answered_after > window or window <= 0:
        return Verdict(
            "fail", reason="absent",
            detail=f"the key was absent {answered_after:.2f}s after the write was acknowledged, "
            f"later than lost_write_window ({window:g}s): a lost write, or a delete by another "
            "client since, which is not undone; it was not uploaded again",
        )  # fmt: skip
    if reuploads >= policy.max_reuploads:
        return Verdict(
            "fail", reason="lost",
            detail=f"still missing after {reuploads} re-upload(s), each read back for "
            f"{policy.visibility_timeout:g}s",
        )  # fmt: skip
    return Verdict("reupload", {"IfNoneMatch": "*"})


def normal_etag(value: Any) -> Any:
    """An ETag compared without quotes or a weak marker (never applied to checksums: a base64
    CRC32 may start with ``W/``)."""
    if isinstance(value, str):
        return value.removeprefix("W/").strip('"')
    return value


def public_fields(fields: Mapping[str, Any]) -> dict[str, object]:
    """The fields that have a value (for VerificationError's expected and found)."""
    return {name: value for name, value in fields.items() if value is not None}


def _shown(found: Mapping[str, Any], name: str) -> Any:
    value = found.get(name)
    return normal_etag(value) if name == "ETag" else value


def _quoted(etag: str) -> str:
    return f'"{etag}"'
