"""Batch stage 2, pacing: rate limits on the event loop (``limiter``) and the adaptive rate
that backs off on throttling (``adaptive``), and what every request of a batch goes
through on either plane: tokens, counts, answers (``context``)."""

__all__: list[str] = []
