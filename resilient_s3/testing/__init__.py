"""A test bench for S3 clients: a real moto S3 server process and a fault-injecting proxy.

Use :class:`S3Server` for a throwaway S3 endpoint, put a :class:`FaultProxy` in front of it (or of
any S3 endpoint) and give the proxy :class:`Fault` values to inject resets, throttling, 5xx errors,
lost writes, stale reads, truncated downloads and latency. The pytest plugin
(:mod:`resilient_s3.testing.pytest_plugin`) provides them as fixtures. See ``docs/testing.md``.
"""

from ._faults import Fault, FaultKind, mixed_faults, parse_faults
from ._operations import OPERATION_NAMES
from ._proxy import FaultProxy
from ._server import (
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    ClientKwargs,
    S3Server,
)

__all__ = [
    "OPERATION_NAMES",
    "TEST_ACCESS_KEY_ID",
    "TEST_REGION",
    "TEST_SECRET_ACCESS_KEY",
    "ClientKwargs",
    "Fault",
    "FaultKind",
    "FaultProxy",
    "S3Server",
    "mixed_faults",
    "parse_faults",
]
