"""Transports: how one request of an S3 operation reaches the server and its answer comes back.

- ``crt/``: awscrt's native S3 client (the ``[crt]`` extra), requests built by botocore's
  serializer and endpoint rules, answers and failures in botocore's shapes.
"""

__all__: list[str] = []
