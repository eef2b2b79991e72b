"""``s3.batch.sync``: a local directory and a bucket prefix made alike, in either direction,
sending only what differs (docs/batch.md, "Sync and resumable uploads")."""

__all__: list[str] = []
