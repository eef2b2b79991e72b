"""The native transport: awscrt's S3 client, its retries off, under our retries."""

__all__: list[str] = []
