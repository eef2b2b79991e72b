"""The one verification judgment (pure): each verdict from what was expected, found and when."""

from __future__ import annotations

from typing import Any

import pytest

from resilient_s3 import VerificationError, VerifyPolicy
from resilient_s3._verify.judgment import expected_of, judge

POLICY = VerifyPolicy(max_reuploads=2, lost_write_window=10.0)
EXPECTED = {"ETag": "abc", "ContentLength": 5, "ChecksumCRC32": "AAAA=="}
SAME = {"ETag": '"abc"', "ContentLength": 5, "ChecksumCRC32": "AAAA=="}


@pytest.mark.parametrize(
    ("found", "after", "reuploads", "action", "condition", "reason"),
    [
        (SAME, 0.0, 0, "verified", {}, ""),
        (None, 1.0, 0, "reupload", {"IfNoneMatch": "*"}, ""),  # lost
        (None, 11.0, 0, "fail", {}, "absent"),  # a delete since: not undone
        (None, 1.0, 2, "fail", {}, "lost"),  # still missing after max_reuploads
        ({**SAME, "ContentLength": 9}, 0.0, 0, "reupload", {"IfMatch": '"abc"'}, ""),
        ({**SAME, "ChecksumCRC32": "BBBB=="}, 0.0, 1, "reupload", {"IfMatch": '"abc"'}, ""),
        ({**SAME, "ContentLength": 9}, 0.0, 2, "fail", {}, "mismatch"),  # other bytes, again
        ({**SAME, "ETag": '"zzz"'}, 0.0, 0, "fail", {}, "mismatch"),  # another writer's
        ({"ETag": '"abc"', "ContentLength": 5}, 0.0, 0, "reupload", {"IfMatch": '"abc"'}, ""),
    ],
)
def test_verdicts(
    found: dict[str, Any] | None,
    after: float,
    reuploads: int,
    action: str,
    condition: dict[str, str],
    reason: str,
) -> None:
    verdict = judge(EXPECTED, found, after, reuploads, POLICY)
    assert (verdict.action, dict(verdict.condition), verdict.reason) == (action, condition, reason)


def test_another_writers_object_is_never_overwritten_whatever_the_reuploads_left() -> None:
    verdict = judge(EXPECTED, {**SAME, "ETag": "other", "ContentLength": 9}, 0.0, 0, POLICY)
    assert verdict.action == "fail"
    error = verdict.error("b", "k", EXPECTED)
    assert isinstance(error, VerificationError)
    assert "s3://b/k" in str(error)
    assert "not overwritten" in str(error)
    assert error.found == {"ETag": "other", "ContentLength": 9, "ChecksumCRC32": "AAAA=="}


def test_a_window_of_zero_never_uploads_an_absent_key_again() -> None:
    policy = VerifyPolicy(lost_write_window=0.0)
    assert judge(EXPECTED, None, 0.0, 0, policy).reason == "absent"


def test_expected_of_a_copy_and_of_a_put() -> None:
    copy = {"CopyObjectResult": {"ETag": '"c"', "ChecksumCRC32": "X=="}}
    assert expected_of(copy, None) == {"ETag": "c", "ContentLength": None, "ChecksumCRC32": "X=="}
    put = {"ETag": 'W/"p"', "ChecksumType": "FULL_OBJECT"}
    assert expected_of(put, 3) == {"ETag": "p", "ContentLength": 3}
