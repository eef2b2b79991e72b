"""Pillar 2, classified retries: every error sorted into an ErrorKind, retried per kind.

- ``classify``: the pure function and its frozen error tables (ErrorKind, ErrorTables).
- ``policy``: the frozen policies (RetryPolicy, Backoff, BudgetPolicy, RetryEvent).
- ``strategies``: the small tenacity callables that read one call's state.
- ``budget``: the per-client retry budget (a token bucket: state, not a checker).
- ``retrier``: runs one call under a policy (tenacity drives; this wires and reports).
- ``deletes``: DeleteObjects whose per-key failures are retried, not silently returned.
"""

__all__: list[str] = []
