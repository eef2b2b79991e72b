"""Writes that were acknowledged but could not be read back (the server refused every read).

One :class:`Unverified` per client (its shared parts, so the clients ``with_options`` derives and
its batches share it): each such write is counted (``stats.unverified``, the span marked), and
either returned as boto3 returned it, with one WARNING per client naming the refusal, or turned
into :class:`~resilient_s3.VerificationError` (reason ``"unreadable"``) under
``VerifyPolicy(unreadable="raise")``. Which errors are refusals is ``refusal.py``'s rule.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from .._errors import VerificationError
from .._stats import Stats
from .policy import VerifyPolicy

__all__ = ["Unverified"]

logger = logging.getLogger("resilient_s3")

_NEEDS = (
    "verification needs s3:GetObject (HeadObject) or s3:ListBucket (ListObjectsV2) on the bucket"
)


class Unverified:
    """Counts the writes of one client that no read-back could check (thread-safe)."""

    def __init__(self, stats: Stats) -> None:
        self._stats = stats
        self._lock = threading.Lock()
        self._warned = False

    def refused(
        self,
        policy: VerifyPolicy,
        operation: str,
        bucket: str,
        key: str,
        reason: str,
        expected: Mapping[str, object],
    ) -> VerificationError | None:
        """Count a write whose every read-back was refused (``reason``: the refusals, e.g.
        ``"HeadObject 403 AccessDenied, ListObjectsV2 403 AccessDenied"``). ``None``: return
        the write unverified (the first time, a WARNING); else the error to raise."""
        self._stats.add("unverified")
        if policy.unreadable == "raise":
            return VerificationError(
                bucket, key, "unreadable", dict(expected), None,
                f"the write was acknowledged (it may well be stored) but could not be read back "
                f"to verify it: {reason}; {_NEEDS}",
            )  # fmt: skip
        with self._lock:
            first, self._warned = not self._warned, True
        if first:
            logger.warning(
                "%s s3://%s/%s was acknowledged but this client may not read it back (%s): "
                "returned unverified, counted in stats.unverified; %s, or pass "
                "verify_writes=False to skip the read-back, or VerifyPolicy(unreadable='raise') "
                "to get an error (logged once per client)",
                operation, bucket, key, reason, _NEEDS,
            )  # fmt: skip
        else:
            logger.debug("%s s3://%s/%s returned unverified (%s)", operation, bucket, key, reason)
        return None
