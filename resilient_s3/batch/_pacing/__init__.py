"""Batch stage 2, pacing: rate limits on the event loop (``limiter``) and the adaptive rate
that backs off on throttling (``adaptive``)."""

__all__: list[str] = []
