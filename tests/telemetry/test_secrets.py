"""Nothing secret reaches telemetry: every exported span and metric, ours and the botocore
instrumentation's, is searched for the credentials and for signatures."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import resilient_s3
from resilient_s3 import RetryPolicy
from resilient_s3.testing import Fault, FaultKind

from ..conftest import FakeTime
from .conftest import Otel

ACCESS_KEY = "AKIAOTELSECRETKEY042"
SECRET_KEY = "otel/secret+access/key/never/exported/0042"
SESSION_TOKEN = "otel-session-token-never-exported-FQoGZXIvYXdzE"
SIGNATURE_MARKS = ("Signature=", "X-Amz-Signature", "X-Amz-Credential", "Credential=")


def test_no_credential_or_signature_in_any_span_event_or_metric(
    otel: Otel,
    botocore_spans: None,
    fault_proxy: Any,
    s3_bucket: str,
    fake_time: FakeTime,
) -> None:
    kwargs = {
        **fault_proxy.client_kwargs(),
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
        "aws_session_token": SESSION_TOKEN,
    }
    retry = RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 1.0)
    s3 = resilient_s3.client("s3", retry=retry, telemetry=otel.policy(record_keys=True), **kwargs)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": s3_bucket, "Key": "s/0"})
    assert "X-Amz-Signature" in url or "Signature=" in url
    fault_proxy.set_faults(
        [
            Fault(FaultKind.SLOWDOWN, rate=0.2),
            Fault(FaultKind.RESET_BEFORE, rate=0.1),
            Fault(FaultKind.LOST_WRITE, rate=0.1),
            Fault(FaultKind.TRUNCATE_BODY, rate=0.2),
        ]
    )
    for i in range(10):
        s3.put_object(Bucket=s3_bucket, Key=f"s/{i}", Body=os.urandom(3000), Metadata={"u": url})
        s3.get_object(Bucket=s3_bucket, Key=f"s/{i}")["Body"].read()
    fault_proxy.set_faults([Fault(FaultKind.ACCESS_DENIED, rate=1.0, limit=1)])
    with contextlib.suppress(s3.exceptions.ClientError):
        s3.head_object(Bucket=s3_bucket, Key="s/0")
    report = s3.batch.put(s3_bucket, {f"t/{i}": b"x" for i in range(20)})
    assert report.ok

    spans = otel.spans()
    assert {"S3.PutObject", "S3.GetObject", "S3.HeadObject", "resilient_s3.batch.put"} <= {
        s.name for s in spans
    }
    assert len(spans) > len(otel.ours())  # the botocore instrumentation's spans are searched too
    exported = "\n".join(s.to_json() for s in spans)
    data = otel.reader.get_metrics_data()
    assert data is not None
    exported += data.to_json()
    exported += json.dumps(s3.stats.as_dict()) + repr(s3.telemetry_policy)
    assert "resilient_s3.retry" in exported
    assert "resilient_s3.attempts" in exported
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, *SIGNATURE_MARKS):
        assert secret not in exported, secret
