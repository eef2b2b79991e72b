"""Data planes: how one batch item's requests reach the server.

- ``threaded``: items through the facade (retried, verified) in worker threads, paced by
  botocore event hooks (``_pacing/worker_hooks.py``), on a connection pool sized to the batch
  (``pool``).
- ``native``: items as coroutines on the batch's loop over the native transport
  (``resilient_s3/_transports/crt/``), and the choice between the two.
"""

__all__: list[str] = []
