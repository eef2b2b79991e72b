"""Credentials, clients and endpoint checks for the commands that talk to an endpoint.

Credentials come from boto3's usual chain (environment, shared files, ``--profile``) and are only
ever handed to boto3: nothing here prints or logs them.
"""

from __future__ import annotations

import argparse
import logging
import socket
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
from botocore.config import Config

from .._client import ResilientS3Client
from .._factory import client as resilient_client
from .._fields import error_code
from ._args import CliError

__all__ = [
    "Endpoint",
    "PoolFullCounter",
    "check_reachable",
    "credentials_session",
    "open_endpoint",
    "temporary_bucket",
]

#: Region used when neither --region, the profile nor the environment sets one.
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect: the session holds the credentials."""

    url: str
    session: boto3.Session
    region: str
    addressing_style: str
    verify: bool

    def config(self, **kwargs: Any) -> Config:
        """A botocore ``Config`` with this addressing style, plus ``kwargs``."""
        s3: Any = {"addressing_style": self.addressing_style}
        return Config(s3=s3, **kwargs)

    def boto3_client(self, url: str | None = None, **config: Any) -> Any:
        """A plain boto3 S3 client (boto3's defaults, unless ``config`` says otherwise)."""
        return self.session.client(
            "s3",
            endpoint_url=url or self.url,
            region_name=self.region,
            verify=self.verify,
            config=self.config(**config),
        )

    def resilient_client(self, url: str | None = None, **config: Any) -> ResilientS3Client:
        """A resilient_s3 client with its defaults (verification after put included)."""
        return resilient_client(
            "s3",
            endpoint_url=url or self.url,
            region_name=self.region,
            config=self.config(**config),
            session=self.session,
            verify=self.verify,
        )


def open_endpoint(args: argparse.Namespace) -> Endpoint:
    """Resolve credentials and region for ``args`` and check that the endpoint is reachable.

    Raises:
        CliError: For an unknown profile, no credentials, or an unreachable endpoint.
    """
    session = credentials_session(args.profile)
    if args.no_verify_ssl:
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    check_reachable(args.endpoint_url)
    return Endpoint(
        url=args.endpoint_url,
        session=session,
        region=args.region or session.region_name or DEFAULT_REGION,
        addressing_style=args.addressing_style,
        verify=not args.no_verify_ssl,
    )


def credentials_session(profile: str | None) -> boto3.Session:
    """A boto3 session of ``profile`` (``None``: the default chain) that has credentials.

    Raises:
        CliError: For an unknown profile or no credentials.
    """
    try:
        session = boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise CliError(f"AWS profile {profile!r} not found in the AWS config files") from None
    try:
        credentials = session.get_credentials()
    except botocore.exceptions.BotoCoreError as exc:
        raise CliError(f"cannot load AWS credentials: {exc}") from None
    if credentials is None:
        raise CliError(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or use --profile NAME"
        )
    return session


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """Open (and close) a TCP connection to the endpoint's host and port.

    Raises:
        CliError: ``cannot reach URL: reason`` if the connection fails.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, socket.gaierror):
            reason = f"cannot resolve {host!r}"
        raise CliError(f"cannot reach {url}: {reason}") from None


@contextmanager
def temporary_bucket(s3: Any, bucket: str | None, purpose: str) -> Iterator[tuple[str, str]]:
    """Yield ``(bucket, prefix)``: ``bucket``, or a new bucket ``resilient-s3-PURPOSE-XXXXXXXX``
    that is deleted afterwards; ``prefix`` is unique to this run. Every object under ``prefix`` is
    deleted afterwards either way."""
    run = uuid.uuid4().hex[:8]
    prefix = f"resilient-s3-{purpose}-{run}/"
    created = bucket is None
    name = bucket or f"resilient-s3-{purpose}-{run}"
    if created:
        try:
            s3.create_bucket(Bucket=name)
        except botocore.exceptions.ClientError as exc:
            code = error_code(exc) or "error"
            raise CliError(
                f"cannot create a bucket ({code}); pass --bucket NAME of a bucket you can write to"
            ) from None
    else:
        try:
            s3.head_bucket(Bucket=name)
        except botocore.exceptions.ClientError as exc:
            code = error_code(exc) or "error"
            raise CliError(f"bucket {name!r} is not usable ({code})") from None
    try:
        yield name, prefix
    finally:
        delete_prefix(s3, name, prefix)
        if created:
            s3.delete_bucket(Bucket=name)


def delete_prefix(s3: Any, bucket: str, prefix: str) -> None:
    """Delete every object under ``prefix`` and abort the multipart uploads there."""
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        for start in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[start : start + 1000]})


class PoolFullCounter(logging.Filter):
    """Counts, and keeps off the terminal, urllib3's "Connection pool is full" warnings: boto3's
    pool of 10 connections discards one each time more threads than that share a client."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        """Count and drop the pool-full warnings; pass every other record."""
        if record.getMessage().startswith("Connection pool is full"):
            with self._lock:
                self.count += 1
            return False
        return True

    @contextmanager
    def installed(self) -> Iterator[PoolFullCounter]:
        """Attach to the ``urllib3.connectionpool`` logger for the duration of a ``with``."""
        logger = logging.getLogger("urllib3.connectionpool")
        logger.addFilter(self)
        try:
            yield self
        finally:
            logger.removeFilter(self)
