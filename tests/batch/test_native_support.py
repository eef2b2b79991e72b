"""Whether the native transport can run, decided by what it uses of awscrt (``support.py``),
and the batch's fall-back to the threaded plane with one log line when it cannot."""

from __future__ import annotations

import ast
import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

import resilient_s3._transports.crt as native
from resilient_s3._transports.crt import crt_unavailable
from resilient_s3._transports.crt.support import KEYWORDS, NEEDED, missing
from resilient_s3.batch._planes import native as native_plane

CRT_DIR = Path(native.__file__).parent


def _enum(*members: str) -> Any:
    return SimpleNamespace(**dict.fromkeys(members, object()))


def _fake_awscrt(
    *, without: tuple[str, str] | None = None, version: str = "9.9.9", **refused: str
) -> dict[str, Any]:
    """Modules holding every name and keyword argument the transport needs, less ``without``
    (module, dotted name); ``refused``: a callable's dotted name (``.`` as ``__``) -> a keyword
    argument it does not take."""
    modules: dict[str, Any] = {"awscrt": SimpleNamespace(__version__=version)}
    for module, names in NEEDED.items():
        space = modules[module] = SimpleNamespace()
        for name in names:
            if (module, name) == without:
                continue
            head, _, member = name.partition(".")
            if member:
                owner = getattr(space, head, None) or SimpleNamespace()
                setattr(space, head, owner)
                setattr(owner, member, object())
            elif not hasattr(space, head):
                setattr(space, head, object())
    for (module, name), keywords in KEYWORDS.items():
        dropped = refused.get(name.replace(".", "__"))
        function = _function_taking([k for k in keywords if k != dropped])
        head, _, method = name.partition(".")
        if method:
            setattr(getattr(modules[module], head), method, function)
        else:
            setattr(modules[module], head, function)
    return modules


def _function_taking(keywords: list[str]) -> Any:
    """A callable whose signature takes exactly ``keywords``."""

    def function(**kwargs: Any) -> None:
        pass

    parameters = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY) for k in keywords]
    function.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return function


def _loader(modules: dict[str, Any]) -> Any:
    def load(name: str) -> ModuleType:
        return modules[name]  # type: ignore[no-any-return]

    return load


def test_an_awscrt_with_everything_the_transport_uses_can_carry_it() -> None:
    assert missing(_loader(_fake_awscrt())) is None


def test_a_missing_enum_member_is_named_with_the_version() -> None:
    modules = _fake_awscrt(without=("awscrt.s3", "S3RetryMode.NONE"), version="0.37.0")
    reason = missing(_loader(modules))
    assert reason == (
        "awscrt 0.37.0 has no awscrt.s3.S3RetryMode.NONE, which the native transport uses"
    )


def test_a_missing_keyword_argument_is_named() -> None:
    modules = _fake_awscrt(S3Client__make_request="send_filepath")
    reason = missing(_loader(modules))
    assert reason is not None
    assert "awscrt.s3.S3Client.make_request() takes no send_filepath=" in reason


def test_a_callable_taking_any_keyword_is_accepted() -> None:
    modules = _fake_awscrt()
    modules["awscrt.s3"].S3RetryConfig = lambda **kwargs: kwargs
    assert missing(_loader(modules)) is None


def test_awscrt_not_installed_says_which_extra_brings_it() -> None:
    def load(name: str) -> ModuleType:
        raise ModuleNotFoundError(f"No module named {name!r}", name="awscrt")

    assert missing(load) == (
        "awscrt is not installed (pip install 'resilient-s3[crt]' for the native transport)"
    )


def test_an_awscrt_whose_native_library_fails_to_load_is_reported() -> None:
    def load(name: str) -> ModuleType:
        raise ImportError("libcrypto.so.3: cannot open shared object file")

    reason = missing(load)
    assert reason == "awscrt does not import (libcrypto.so.3: cannot open shared object file)"


@pytest.mark.native
def test_the_installed_awscrt_has_everything() -> None:
    assert missing() is None


@dataclass
class _Uses:
    """What the native transport's modules use of awscrt, read from their source."""

    #: (awscrt module, dotted name) of every awscrt name read
    names: set[tuple[str, str]] = field(default_factory=set)
    #: (awscrt module, dotted callable) -> keyword arguments passed to it where called by name
    keywords: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: every string constant (``S3ChecksumAlgorithm[name]`` looks an enum member up by its name)
    strings: set[str] = field(default_factory=set)


def _chain(node: ast.expr, aliases: dict[str, str]) -> tuple[str, str] | None:
    """``crt_s3.S3Client.make_request`` -> ("awscrt.s3", "S3Client.make_request")."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases and parts:
        return aliases[node.id], ".".join(parts)
    return None


def _awscrt_uses() -> _Uses:
    uses = _Uses()
    for path in CRT_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        aliases: dict[str, str] = {}
        imported: dict[str, tuple[str, str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("awscrt"):
                for alias in node.names:
                    if node.module == "awscrt":  # from awscrt import s3 as crt_s3
                        aliases[alias.asname or alias.name] = f"awscrt.{alias.name}"
                    else:  # from awscrt.http import HttpRequest
                        imported[alias.asname or alias.name] = (str(node.module), alias.name)
                        uses.names.add((str(node.module), alias.name))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):  # inner chains too: a prefix of a listed name
                found = _chain(node, aliases)
                if found is not None:
                    uses.names.add(found)
            elif isinstance(node, ast.Call):
                func = node.func
                found = imported.get(func.id) if isinstance(func, ast.Name) else None
                found = found or _chain(func, aliases)
                if found is not None:
                    passed = {k.arg for k in node.keywords if k.arg is not None}
                    uses.keywords.setdefault(found, set()).update(passed)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                uses.strings.add(node.value)
    return uses


def test_every_awscrt_name_the_transport_uses_is_checked() -> None:
    used = _awscrt_uses().names
    assert ("awscrt.s3", "S3RetryMode.NONE") in used  # the scan sees through the aliases
    unchecked = {
        (module, name)
        for module, name in used
        if not any(
            entry == name or entry.startswith(f"{name}.") for entry in NEEDED.get(module, ())
        )
        and not name.endswith(".__version__")
    }
    assert not unchecked, f"add these to support.NEEDED: {sorted(unchecked)}"


def test_every_name_checked_is_used() -> None:
    # a name checked but no longer used would send an awscrt without it to botocore for nothing
    uses = _awscrt_uses()
    unused = {
        (module, name)
        for module, names in NEEDED.items()
        for name in names
        if (module, name) not in uses.names
        and not (  # an enum member looked up by its name: S3ChecksumAlgorithm["CRC32"]
            (module, name.partition(".")[0]) in uses.names
            and name.partition(".")[2] in uses.strings
        )
    }
    assert not unused, f"remove these from support.NEEDED: {sorted(unused)}"


def test_every_keyword_argument_passed_by_name_is_checked() -> None:
    passed = _awscrt_uses().keywords
    assert ("awscrt.s3", "S3Client") in passed  # the scan sees the calls
    unchecked = {
        (callable_, keyword)
        for callable_, keywords in passed.items()
        for keyword in keywords
        if keyword not in KEYWORDS.get(callable_, ())
    }
    assert not unchecked, f"add these to support.KEYWORDS: {sorted(unchecked)}"


def test_without_the_native_transport_a_batch_runs_on_botocore_with_one_log_line(
    rs3: Any, s3_bucket: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = crt_unavailable()
    if reason is None:  # awscrt can carry it here: make it one that cannot
        reason = "awscrt 0.37.0 has no awscrt.s3.S3RetryMode.NONE, which the native transport uses"
        monkeypatch.setattr(native_plane, "crt_unavailable", lambda: reason)
    with caplog.at_level(logging.INFO, logger="resilient_s3"):
        first = rs3.batch.put(s3_bucket, {"a": b"1", "b": b"2"})
        second = rs3.batch.get(s3_bucket, ["a", "b"])
    with pytest.raises(ValueError, match="data_plane='crt' cannot run this batch"):
        rs3.batch.put(s3_bucket, {"c": b"3"}, data_plane="crt")

    assert first.ok, first.summary()
    assert second.ok
    assert first.stats.plane == second.stats.plane == "botocore"
    lines = [r.getMessage() for r in caplog.records if "data plane" in r.getMessage()]
    assert lines == [f"s3.batch: the botocore data plane runs: {reason}"]


@pytest.mark.parametrize(("value", "off"), [("true", True), ("TRUE", True), ("false", False)])
def test_boto_disable_crt_turns_the_native_transport_off_as_botocore_reads_it(
    monkeypatch: pytest.MonkeyPatch, value: str, off: bool
) -> None:
    monkeypatch.setenv("BOTO_DISABLE_CRT", value)
    reason = crt_unavailable()
    assert (reason is not None and reason.startswith("BOTO_DISABLE_CRT=true")) is off


@pytest.mark.native
def test_a_callers_event_handlers_keep_a_batch_on_botocore(
    rs3: Any, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    """As in boto3, a handler the caller registered on ``s3.meta.events`` runs for every request
    of a batch: botocore runs the batch (the native transport runs no handler)."""
    seen: list[str] = []
    rs3.meta.events.register("before-call.s3", lambda model, **_: seen.append(model.name))
    with caplog.at_level(logging.INFO, logger="resilient_s3"):
        report = rs3.batch.put(s3_bucket, {"a": b"1", "b": b"2"}, verify_writes="off")
    assert report.ok, report.summary()
    assert report.stats.plane == "botocore"
    assert seen.count("PutObject") == 2
    assert "handlers are registered on s3.meta.events" in caplog.text
    with pytest.raises(ValueError, match="data_plane='crt' cannot run this batch: handlers"):
        rs3.batch.put(s3_bucket, {"c": b"3"}, data_plane="crt")
