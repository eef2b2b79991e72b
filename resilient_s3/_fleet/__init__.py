"""Beyond one process:

- ``recipe``: a facade from ``client()`` pickles as its arguments, rebuilt once per process;
- ``limiter``: ``SharedLimiter``, one rate for many processes through Redis (``bucket``: the Lua
  script; ``local``: the pacing used while Redis is unreachable);
- ``hooks``: ``client(rate_limit=...)``, a token for every HTTP request of the client.

Batches on a Dask cluster live with the batch: ``resilient_s3/batch/_executors/``.
"""

__all__: list[str] = []
