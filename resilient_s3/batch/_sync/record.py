"""What one sync run was asked (:class:`SyncSettings`) and what it found and did
(:class:`SyncRun`): shared by its steps and its jobs, on the batch's loop."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._options import VerifyArg
from .._planes.base import Multipart
from .._report.report import BatchReport
from .._resume.upload import ResumableUploads
from .decide import Step
from .index import SyncIndex
from .locations import Sides
from .names import SkippedName
from .report import SyncAction, SyncReport

__all__ = ["SyncRun", "SyncSettings"]

logger = logging.getLogger("resilient_s3")


@dataclass(frozen=True)
class SyncSettings:
    """What ``sync`` was asked besides its sides and batch options."""

    delete: bool = False
    dry_run: bool = False
    state: Path | None = None
    verify: VerifyArg = "list"
    multipart: Multipart = field(default_factory=Multipart)
    extra_args: Mapping[str, Any] = field(default_factory=dict)


class SyncRun:
    """What one run found and did, shared by its generator and its jobs (on the loop)."""

    def __init__(self, sides: Sides, settings: SyncSettings, index: SyncIndex) -> None:
        self.sides, self.settings, self.index = sides, settings, index
        self.actions: list[SyncAction] = []
        self.skipped: list[SkippedName] = []
        self.unchanged = 0
        self.doomed: list[tuple[str, str]] = []  # (relative name, key or local path)
        self.kept: set[str] = set()  # downloading: the names the prefix has
        self.uploads: ResumableUploads | None = None

    def skip(self, name: SkippedName) -> None:
        """``name`` cannot be mirrored: reported (and logged), never silently left out."""
        self.skipped.append(name)
        logger.warning("sync: skipped %s", name)

    def act(self, action: str, step: Step, reason: str) -> None:
        size = step.size if action != "delete" else None
        bucket = self.sides.remote.bucket
        self.actions.append(
            SyncAction(action, step.relative, bucket, step.key, step.path, size, reason)
        )

    def report(
        self, transfers: BatchReport, deletes: BatchReport | None = None, held: str | None = None
    ) -> SyncReport:
        uploads = self.uploads
        resumed = (uploads.resumed, uploads.parts_kept) if uploads is not None else (0, 0)
        return SyncReport(
            self.sides.source, self.sides.dest, self.settings.dry_run, tuple(self.actions),
            self.unchanged, tuple(self.skipped), transfers, deletes, held, resumed,
        )  # fmt: skip
