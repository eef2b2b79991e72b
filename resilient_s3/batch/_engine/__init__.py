"""Batch stage 3, the engine: each operation planned (``plans``), its items run as jobs
(``jobs``) at most ``concurrency`` at a time (``engine``) on the caller's or the client's loop
(``runner``), writes confirmed by listing (``listverify``), and the state the batches of one
client share (``state``).
"""

__all__: list[str] = []
