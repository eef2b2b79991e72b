"""Argument parsing shared by the commands: one-line usage errors, value types, common options."""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn
from urllib.parse import urlsplit

from ..testing import Fault, parse_faults

__all__ = [
    "CliError",
    "Parser",
    "add_endpoint_options",
    "endpoint_url",
    "fault_spec",
    "positive",
    "size",
]

#: Exit code of a usage error (bad flags or values), as argparse uses it.
USAGE = 2


class CliError(Exception):
    """A failure to report as one line on stderr, with exit code :attr:`code` (1 by default)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: what is wrong and where help is."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit with code 2."""
        self.exit(USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Print ``message`` to stderr and raise ``SystemExit(status)``."""
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def positive(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


_SIZE = re.compile(r"^\s*(\d+)\s*(|b|k|kb|kib|m|mb|mib)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1024**2, "mb": 1000**2}


def size(text: str) -> int:
    """A byte count >= 1: ``1024``, ``4KiB``, ``1MiB`` (``K``/``M`` are binary, ``KB``/``MB``
    decimal)."""
    match = _SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 1024, 4KiB or 1MiB, got {text!r}"
        )
    value = int(match.group(1)) * _UNITS.get(match.group(2).lower(), 1024**2)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte, got {text!r}")
    return value


def endpoint_url(text: str) -> str:
    """An ``http://`` or ``https://`` URL with a host and no path, returned without a final
    ``/``."""
    parts = urlsplit(text.strip())
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise argparse.ArgumentTypeError(
            f"expected an http:// or https:// URL such as http://127.0.0.1:9000, got {text!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(f"the endpoint URL must have no path or query: {text!r}")
    return f"{parts.scheme}://{parts.netloc}"


def fault_spec(text: str) -> tuple[Fault, ...]:
    """A fault spec for ``resilient_s3.testing.parse_faults``, e.g. ``reset_before=0.05``."""
    try:
        return parse_faults(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_endpoint_options(parser: argparse.ArgumentParser, *, bucket_help: str) -> None:
    """Add ``--endpoint-url`` (required), ``--region``, ``--profile``, ``--bucket``,
    ``--addressing-style`` and ``--no-verify-ssl``."""
    group = parser.add_argument_group("endpoint and credentials")
    group.add_argument(
        "--endpoint-url",
        type=endpoint_url,
        required=True,
        metavar="URL",
        help="the S3 endpoint, e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com",
    )
    group.add_argument(
        "--region",
        metavar="R",
        help="region to sign for (default: the profile's or AWS_DEFAULT_REGION, else us-east-1)",
    )
    group.add_argument(
        "--profile",
        metavar="NAME",
        help="AWS profile for credentials (default: the usual sources: environment, "
        "~/.aws/credentials, ~/.aws/config; credentials are never printed)",
    )
    group.add_argument("--bucket", metavar="B", help=bucket_help)
    group.add_argument(
        "--addressing-style",
        choices=("path", "virtual"),
        default="path",
        help="S3 addressing style (default: path, which every server and the fault proxy take)",
    )
    group.add_argument(
        "--no-verify-ssl",
        action="store_true",
        help="do not verify the endpoint's TLS certificate (self-signed test servers)",
    )
