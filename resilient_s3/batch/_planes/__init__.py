"""Data planes: how one item's requests reach the server.

- ``botocore``: through the facade (retried, verified), paced by botocore event hooks, on a
  connection pool sized to the batch.
"""

__all__: list[str] = []
