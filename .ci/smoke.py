"""An installed resilient-s3, checked as a new user would meet it, in a fresh virtual environment
(``.ci/package`` makes one for the plain wheel and one for ``[crt]``).

    python smoke.py plain   # no awscrt, botocore.compat.HAS_CRT False, the batch on botocore
    python smoke.py crt     # awscrt installed, HAS_CRT True, the batch on the native plane

Both put and get 20 objects through ``s3.batch`` on a moto server (the ``[server]`` extra) on
127.0.0.1, and print what they found.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys


def main(install: str) -> int:
    import botocore.compat

    import resilient_s3
    from resilient_s3.testing import S3Server

    awscrt = importlib.util.find_spec("awscrt") is not None
    print(
        f"smoke {install}: resilient-s3 {resilient_s3.__version__}, botocore "
        f"{importlib.metadata.version('botocore')}, awscrt "
        f"{importlib.metadata.version('awscrt') if awscrt else 'absent'}, "
        f"HAS_CRT={botocore.compat.HAS_CRT}"
    )
    bodies = {f"smoke/{i:02d}": bytes([i]) * 1024 for i in range(20)}
    with S3Server() as server, resilient_s3.client("s3", **server.client_kwargs()) as s3:
        s3.create_bucket(Bucket="smoke")
        put = s3.batch.put("smoke", bodies)
        got = s3.batch.get("smoke", list(bodies))
    print(f"smoke {install}: batch put on the {put.stats.plane} plane, ok={put.ok and got.ok}")
    expected = {"plain": (False, False, "botocore"), "crt": (True, True, "crt")}[install]
    found = (awscrt, botocore.compat.HAS_CRT, put.stats.plane)
    if found != expected or not (put.ok and got.ok) or dict(got.data) != bodies:
        print(f"smoke {install}: expected (awscrt, HAS_CRT, plane) = {expected}, found {found}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
