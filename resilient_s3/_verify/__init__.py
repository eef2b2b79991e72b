"""Pillar 5, verify-after-put: a write is read back until it is visible and matches.

- ``policy``: VerifyPolicy, the frozen value.
- ``verifier``: read back one write (HeadObject, GetObject, or a shared listing), re-upload a
  lost one without undoing a newer write.
- ``listing``: concurrent read-backs of one bucket share ListObjectsV2 pages (group commit).
- ``recent``: the keys a client wrote moments ago (read-your-writes).

The batch verifies many writes at once by listing: ``resilient_s3/batch/_engine/listverify.py``.
"""

__all__: list[str] = []
