"""Pillar 5, verify-after-put: a write is read back until it is visible and matches.

- ``policy``: VerifyPolicy, the frozen value.
- ``verifier``: read back one write (HeadObject, GetObject, or a shared listing), re-upload a
  lost one without undoing a newer write.
- ``listing``: concurrent read-backs of one bucket share ListObjectsV2 pages (group commit).
- ``recent``: the keys a client wrote moments ago (read-your-writes).
- ``refusal``: the rule every read-back follows: is an error a verdict on the write, or a
  refusal to read (403, 400, 405, 501)?
- ``unverified``: writes no read-back was allowed to check (counted, returned or raised).

The batch verifies many writes at once by listing: ``resilient_s3/batch/_engine/listverify.py``.
"""

__all__: list[str] = []
