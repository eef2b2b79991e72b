"""Tests of the ``resilient-s3`` command line: usage errors, failures as one line, stress, bench,
doctor (against moto directly and through the fault proxy) and the demo.

Commands run in-process through ``main(argv)`` against the moto server of the ``s3_server``
fixture, with credentials from the environment like a user's; two run as real subprocesses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from resilient_s3._cli import main
from resilient_s3._cli._args import size
from resilient_s3._cli._bench import Measurement
from resilient_s3.testing import Fault, FaultKind, FaultProxy, S3Server
from resilient_s3.testing._server import free_port

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_s3 import S3Client

#: Credentials the tests put in the environment; none of them may ever be printed.
KEY_ID = "AKIDCLITESTKEYID0001"
SECRET = "cli-test-secret-never-printed-0123456789"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials from the environment only: no shared files, no profile."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask 169.254.169.254


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return the exit code, stdout and stderr (secrets checked absent)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert KEY_ID not in out + err
    return code, out, err


def unused_url() -> str:
    """An endpoint on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def test_help_has_every_command_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("demo", "stress", "bench", "doctor", "examples:"):
        assert command in out
    for command in ("demo", "stress", "bench", "doctor"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert "examples:" in out
        assert f"resilient-s3 {command}" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "required: COMMAND"),
        (["nosuch"], "invalid choice"),
        (["stress"], "--endpoint-url"),
        (["stress", "--endpoint-url", "ftp://x"], "http:// or https://"),
        (["doctor", "--endpoint-url", "http://h:9000/path"], "no path"),
        (["stress", "--endpoint-url", "http://h", "--objects", "0"], "must be >= 1"),
        (["stress", "--endpoint-url", "http://h", "--concurrency", "x"], "whole number"),
        (["stress", "--endpoint-url", "http://h", "--faults", "bogus=1"], "unknown kind"),
        (["stress", "--endpoint-url", "http://h", "--faults", "slowdown=2"], "rate must be"),
        (["bench", "--endpoint-url", "http://h", "--size", "lots"], "expected a size"),
        (["bench", "--endpoint-url", "http://h", "--addressing-style", "x"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert expected in err
    assert "error:" in err
    assert "--help" in err


def test_sizes() -> None:
    assert [size("1024"), size("4KiB"), size("4k"), size("1MiB"), size("1MB")] == [
        1024,
        4096,
        4096,
        1024**2,
        1000**2,
    ]


@pytest.mark.parametrize("command", ["stress", "bench", "doctor"])
def test_unreachable_endpoint_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    url = unused_url()
    code, out, err = run(capsys, command, "--endpoint-url", url)
    assert code == 1
    assert out == ""
    assert err == f"resilient-s3 {command}: error: cannot reach {url}: Connection refused\n"


def test_missing_credentials_and_unknown_profile(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "doctor", "--endpoint-url", unused_url(), "--profile", "nope")
    assert (code, err) == (1, "resilient-s3 doctor: error: AWS profile 'nope' not found in the "
                              "AWS config files\n")  # fmt: skip
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, _, err = run(capsys, "stress", "--endpoint-url", unused_url())
    assert code == 1
    assert "no AWS credentials found" in err


def test_plot_without_matplotlib_fails_before_running(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # "not installed"
    code, _, err = run(capsys, "bench", "--endpoint-url", unused_url(), "--plot", "x.png")
    assert code == 1
    assert "--plot needs matplotlib: pip install 'resilient-s3[plot]'" in err


def test_stress_json_through_faults(
    capsys: pytest.CaptureFixture[str], s3_server: S3Server, s3_server_client: S3Client
) -> None:
    """Both clients under injected faults: resilient_s3 loses nothing and surfaces no error; the
    temporary bucket is gone afterwards."""
    faults = "reset_before=0.05,slowdown=0.05,truncate_body=0.15,reset_after=0.05"
    code, out, err = run(
        capsys,
        "stress",
        "--endpoint-url",
        s3_server.endpoint_url,
        "--objects",
        "80",
        "--concurrency",
        "8",
        "--faults",
        faults,
        "--seed",
        "3",
        "--json",
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["faults"] == faults
    plain, ours = report["results"]
    assert (plain["label"], ours["label"]) == ("plain boto3", "resilient_s3")
    assert ours["lost_nothing"]
    assert report["resilient_s3_lost_nothing"]
    assert (ours["put_errors"], ours["get_errors"], ours["errors"]) == (0, 0, {})
    assert ours["stored"] == ours["readable"] == 80
    assert plain["faults_injected"]
    assert ours["faults_injected"]
    assert sum(ours["stats"]["retries"].values()) > 0
    assert plain["stats"] is None
    assert "plain boto3: 80 puts" in err  # progress, one line per phase off a terminal
    buckets = [b["Name"] for b in s3_server_client.list_buckets()["Buckets"]]
    assert not [b for b in buckets if b.startswith("resilient-s3-stress-")]


def test_stress_table_in_a_given_bucket_leaves_other_objects(
    capsys: pytest.CaptureFixture[str],
    s3_server: S3Server,
    s3_server_client: S3Client,
    s3_bucket: str,
) -> None:
    s3_server_client.put_object(Bucket=s3_bucket, Key="keep-me", Body=b"mine")
    code, out, _ = run(
        capsys,
        "stress",
        "--endpoint-url",
        s3_server.endpoint_url,
        "--bucket",
        s3_bucket,
        "--objects",
        "12",
        "--concurrency",
        "4",
        "--size",
        "2KiB",
    )
    assert code == 0
    assert "12 objects of 2048 bytes, 4 threads sharing one client, faults: none" in out
    assert "objects actually stored                 12              12" in out
    assert "resilient_s3 lost nothing." in out
    listed = s3_server_client.list_objects_v2(Bucket=s3_bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["keep-me"]


def _doctor(capsys: pytest.CaptureFixture[str], url: str) -> tuple[int, dict[str, Any]]:
    """Run ``doctor --json`` against ``url``; the exit code and the report."""
    code, out, err = run(capsys, "doctor", "--endpoint-url", url, "--json")
    assert err == ""
    return code, json.loads(out)


def test_doctor_against_moto_finds_no_problem(
    capsys: pytest.CaptureFixture[str], s3_server: S3Server, s3_server_client: S3Client
) -> None:
    code, report = _doctor(capsys, s3_server.endpoint_url)
    assert code == 0
    found = {f["check"]: f for f in report["findings"]}
    assert list(found) == [
        "reachability",
        "clock skew",
        "aws-chunked uploads",
        "conditional writes",
        "list after write",
        "range reads",
        "multipart ETag",
    ]
    assert {f["status"] for f in found.values()} == {"ok"}, found
    assert found["aws-chunked uploads"]["details"] == {"sent": 1024, "stored": 1024}
    assert found["conditional writes"]["details"] == {"status": 412}
    assert found["multipart ETag"]["details"]["aws_format"] is True
    assert abs(found["clock skew"]["details"]["skew_seconds"]) < 2
    assert report["recommended_config"] == {"s3": {"addressing_style": "path"}}
    assert report["problems"] == 0
    buckets = [b["Name"] for b in s3_server_client.list_buckets()["Buckets"]]
    assert not [b for b in buckets if b.startswith("resilient-s3-doctor-")]


def test_doctor_flags_stored_chunked_framing(
    capsys: pytest.CaptureFixture[str], fault_proxy: FaultProxy
) -> None:
    """Behind a proxy that makes the server store aws-chunked framing: 1,024 in, 1,067 out,
    flagged, fixed by request_checksum_calculation="when_required", which the other checks then
    run with (and so find nothing else)."""
    fault_proxy.set_faults([Fault(FaultKind.CHUNKED_FRAMING)])
    code, report = _doctor(capsys, fault_proxy.endpoint_url)
    assert code == 1
    found = {f["check"]: f for f in report["findings"]}
    chunked = found.pop("aws-chunked uploads")
    assert chunked["status"] == "problem"
    assert chunked["details"] == {
        "sent": 1024,
        "stored": 1067,
        "framing_stored": True,
        "when_required_intact": True,
    }
    assert "1,024 bytes in, 1,067 out" in chunked["summary"]
    assert report["recommended_config"]["request_checksum_calculation"] == "when_required"
    assert {f["status"] for f in found.values()} == {"ok"}, found
    assert found["range reads"]["details"]["ran_with"] == {
        "request_checksum_calculation": "when_required"
    }
    assert fault_proxy.counters["chunked_framing"] == 1  # the default client's upload only
    code, out, _ = run(capsys, "doctor", "--endpoint-url", fault_proxy.endpoint_url)
    assert code == 1
    assert "PROBLEM  aws-chunked uploads  1,024 bytes in, 1,067 out" in out
    assert 'request_checksum_calculation="when_required",' in out
    assert "1 problem found." in out


def test_bench_json_and_plot(
    capsys: pytest.CaptureFixture[str], s3_server: S3Server, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    plot = tmp_path / "bench.png"
    code, out, _ = run(
        capsys,
        "bench",
        "--endpoint-url",
        s3_server.endpoint_url,
        "--requests",
        "12",
        "--concurrency",
        "3",
        "--json",
        "--plot",
        str(plot),
    )
    assert code == 0
    results = json.loads(out)["results"]
    assert [(r["operation"], r["client"]) for r in results] == [
        (op, client) for op in ("put", "get", "head") for client in ("plain boto3", "resilient_s3")
    ]
    for r in results:
        assert (r["requests"], r["errors"]) == (12, 0)
        assert 0 < r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"]
        assert r["throughput"] > 0
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_percentiles_are_nearest_rank() -> None:
    latencies = tuple(i / 1000 for i in range(1, 101))  # 1..100 ms
    m = Measurement("c", "get", latencies, errors=2, seconds=2.0)
    assert (m.percentile_ms(50), m.percentile_ms(90), m.percentile_ms(99)) == pytest.approx(
        (50.0, 90.0, 99.0)
    )
    assert m.throughput == 50.0
    assert m.as_dict()["requests"] == 102


def test_demo_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--objects", "40", "--concurrency", "8")
    assert code == 0
    assert "resilient_s3 lost nothing" in out


def test_entry_point_in_a_subprocess_prints_no_traceback() -> None:
    """``python -m resilient_s3``: an unreachable endpoint is one line on stderr, exit 1."""
    url = unused_url()
    done = subprocess.run(
        [sys.executable, "-m", "resilient_s3", "doctor", "--endpoint-url", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"resilient-s3 doctor: error: cannot reach {url}: Connection refused\n"
