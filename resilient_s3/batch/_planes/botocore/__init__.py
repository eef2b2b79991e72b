"""The botocore data plane: one item's calls through the facade in a worker thread (``ops``),
every HTTP request paced and counted (``hooks``), on a pool sized to the batch (``pool``)."""

__all__: list[str] = []
