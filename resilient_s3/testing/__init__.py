"""A test bench for S3 clients: real S3 server processes and a fault-injecting proxy.

Use :class:`S3Server` for a throwaway S3 endpoint (moto; :class:`LocalStackServer` and
:class:`SeaweedFSServer` run those servers the same way), put a :class:`FaultProxy` in front of it
(or of any S3 endpoint) and give the proxy :class:`Fault` values to inject resets, throttling, 5xx
errors, lost writes, stale reads, truncated, corrupted, overlong or slow downloads, ignored
``If-Match`` conditions, latency and stored aws-chunked framing. The pytest plugin
(:mod:`resilient_s3.testing.pytest_plugin`) provides them as fixtures. See ``docs/testing.md``.
"""

from ._endpoint import TEST_ACCESS_KEY_ID, TEST_REGION, TEST_SECRET_ACCESS_KEY, ClientKwargs
from ._faults import Fault, FaultKind, mixed_faults
from ._localstack import LocalStackServer
from ._operations import OPERATION_NAMES
from ._process import ServerUnavailable
from ._proxy import FaultProxy
from ._redis import RedisServer
from ._seaweedfs import SeaweedFSServer
from ._server import S3Server
from ._spec import parse_faults

__all__ = [
    "OPERATION_NAMES",
    "TEST_ACCESS_KEY_ID",
    "TEST_REGION",
    "TEST_SECRET_ACCESS_KEY",
    "ClientKwargs",
    "Fault",
    "FaultKind",
    "FaultProxy",
    "LocalStackServer",
    "RedisServer",
    "S3Server",
    "SeaweedFSServer",
    "ServerUnavailable",
    "mixed_faults",
    "parse_faults",
]

# One home per public name: resilient_s3.testing.FaultProxy, not its private module.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) or callable(_value):
        _value.__module__ = __name__
del _name, _value
