"""Batch stage 4, the report: counts, per-item failures and stats (``report``) and the
progress events and bars drawn from them (``progress``)."""

__all__: list[str] = []
