"""TelemetryPolicy, the attribute builders, and a client without OpenTelemetry installed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import resilient_s3
from resilient_s3 import TelemetryPolicy
from resilient_s3._telemetry.attributes import call_attributes, client_attributes, error_type


def test_coerce() -> None:
    assert TelemetryPolicy.coerce(None) == TelemetryPolicy() == TelemetryPolicy.coerce(True)
    assert TelemetryPolicy.coerce(False).enabled is False
    policy = TelemetryPolicy(record_keys=True)
    assert TelemetryPolicy.coerce(policy) is policy
    with pytest.raises(TypeError, match="telemetry must be"):
        TelemetryPolicy.coerce("on")  # type: ignore[arg-type]


def test_repr_names_provider_types_only() -> None:
    class Provider:
        def __repr__(self) -> str:
            return "Provider(secret=hunter2)"

    text = repr(TelemetryPolicy(tracer_provider=Provider()))
    assert "tracer_provider=Provider" in text
    assert "hunter2" not in text


def test_client_attributes_keep_host_and_port_only() -> None:
    attributes = client_attributes("eu-west-1", "https://user:pa55@s3.example.test:9000/p?x=1")
    assert attributes == {
        "rpc.system": "aws-api",
        "rpc.service": "S3",
        "cloud.region": "eu-west-1",
        "server.address": "s3.example.test",
        "server.port": 9000,
    }


def test_call_attributes_hold_the_key_only_when_asked() -> None:
    params = {"Bucket": "b", "Key": "personal/k", "Body": b"x", "SSECustomerKey": "k" * 32}
    without = call_attributes({}, "PutObject", params, record_keys=False)
    assert without == {"rpc.method": "PutObject", "aws.s3.bucket": "b"}
    with_keys = call_attributes({}, "UploadPart", {**params, "PartNumber": 3}, record_keys=True)
    assert with_keys["aws.s3.key"] == "personal/k"
    assert with_keys["aws.s3.part_number"] == 3
    assert "k" * 32 not in json.dumps(with_keys)


def test_error_type_is_the_code_or_class_never_the_message() -> None:
    answer: Any = {"Error": {"Code": "SlowDown", "Message": "see http://h/?Signature=abc"}}
    assert error_type(ClientError(answer, "PutObject")) == "SlowDown"
    failed = EndpointConnectionError(endpoint_url="http://h/b/k?X-Amz-Signature=abc")
    assert error_type(failed) == "EndpointConnectionError"


def test_without_the_api_a_client_works_and_imports_no_opentelemetry(
    s3_server: Any, s3_bucket: str
) -> None:
    script = textwrap.dedent(
        """
        import json, sys
        sys.modules["opentelemetry"] = None  # as if opentelemetry-api were not installed
        import resilient_s3
        kwargs, bucket = json.loads(sys.argv[1])
        s3 = resilient_s3.client("s3", **kwargs)
        s3.put_object(Bucket=bucket, Key="no-otel", Body=b"x")
        loaded = [m for m, v in sys.modules.items() if m.startswith("opentelemetry") and v]
        print(json.dumps([s3.telemetry_policy is None, s3.stats.calls, loaded]))
        """
    )
    argument = json.dumps([dict(s3_server.client_kwargs()), s3_bucket])
    done = subprocess.run(
        [sys.executable, "-c", script, argument], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, 2, []]


def test_importing_resilient_s3_imports_no_opentelemetry() -> None:
    script = (
        "import sys, resilient_s3, resilient_s3.batch; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert resilient_s3.TelemetryPolicy is TelemetryPolicy
