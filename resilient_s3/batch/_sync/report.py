"""What a sync hands back: what it did (or, in a dry run, would do) and why, what it left alone,
the names it could not mirror, and the reports of its transfers and deletes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..._errors import ResilientS3Error
from .._report.report import BatchReport, ItemFailure
from .names import SkippedName

__all__ = ["SyncAction", "SyncError", "SyncReport"]


@dataclass(frozen=True)
class SyncAction:
    """One thing a sync did or would do.

    Attributes:
        action: ``"upload"``, ``"download"``, ``"delete"`` (an object or a local file) or
            ``"mkdir"`` (a folder marker's local folder).
        name: the name relative to the synced folder (``/``-separated).
        bucket, key: the object; path: the local file.
        size: the bytes to transfer (``None`` for a delete).
        reason: why: ``"new"``, ``"size differs (...)"``, ``"content differs (MD5)"``,
            ``"undecided: ..."`` (transferred: a doubt is never skipped), ``"not in the
            source"``.
    """

    action: str
    name: str
    bucket: str
    key: str
    path: str
    size: int | None
    reason: str

    def __str__(self) -> str:
        url = f"s3://{self.bucket}/{self.key}"
        if self.action == "upload":
            what = f"{self.path} -> {url}"
        elif self.action == "delete":
            what = self.path or url
        else:
            what = f"{url} -> {self.path}"
        return f"{self.action}: {what} ({self.reason})"


@dataclass(frozen=True)
class SyncReport:
    """The outcome of one sync.

    Attributes:
        source, dest: the two sides (a local path, ``s3://bucket/prefix``).
        dry_run: nothing was written; :attr:`actions` is what would have been done.
        actions: every transfer and delete, done or (``dry_run``) planned, with its reason.
        unchanged: pairs found equal (nothing sent).
        skipped: names that could not be mirrored, each with its reason.
        transfers: the :class:`BatchReport` of the uploads or downloads (``operation``
            ``"upload"``/``"download"``); its ``stats`` count every request of the run but the
            deletes' (listing pages, HeadObject checks, multipart steps).
        deletes: the deletes' report; ``None`` when none ran (``delete=False``, a dry run,
            nothing to delete, or held back: :attr:`deletes_held`).
        deletes_held: why ``delete=True`` deleted nothing (a transfer failed, or the run was
            cancelled), else ``None``.
        resumed: journaled uploads resumed from an earlier run, and the parts they found on
            the server (not sent again).
    """

    source: str
    dest: str
    dry_run: bool
    actions: tuple[SyncAction, ...]
    unchanged: int
    skipped: tuple[SkippedName, ...]
    transfers: BatchReport
    deletes: BatchReport | None = None
    deletes_held: str | None = None
    resumed: tuple[int, int] = (0, 0)

    @property
    def failed(self) -> tuple[ItemFailure, ...]:
        """Every failed transfer and delete."""
        return self.transfers.failed + (self.deletes.failed if self.deletes else ())

    @property
    def stopped(self) -> str | None:
        """Why the run stopped early (``"cancelled"``...), or ``None``."""
        return self.transfers.stopped or (self.deletes.stopped if self.deletes else None)

    @property
    def ok(self) -> bool:
        """The destination mirrors the source: nothing failed, skipped or stopped early."""
        return not self.failed and not self.skipped and self.stopped is None

    def counts(self) -> dict[str, int]:
        """How many actions of each kind, with ``unchanged`` and ``skipped``."""
        counted: dict[str, int] = {}
        for action in self.actions:
            counted[action.action] = counted.get(action.action, 0) + 1
        return {**counted, "unchanged": self.unchanged, "skipped": len(self.skipped)}

    def summary(self) -> str:
        """One line: what was done (or would be), unchanged, skipped, failed, stopped."""
        verb = "would " if self.dry_run else ""
        done = ", ".join(
            f"{verb}{name} {count}"
            for name, count in self.counts().items()
            if name not in ("unchanged", "skipped")
        )
        text = f"sync {self.source} -> {self.dest}: {done or 'nothing to do'}"
        text += f", {self.unchanged} unchanged, {len(self.skipped)} skipped"
        text += f", {len(self.failed)} failed"
        if self.deletes_held:
            text += f"; nothing deleted: {self.deletes_held}"
        if self.stopped:
            text += f"; stopped early ({self.stopped})"
        return text

    def raise_for_failures(self) -> None:
        """Raise :class:`SyncError` unless :attr:`ok`."""
        if not self.ok:
            first = self.failed[0].error if self.failed else None
            raise SyncError(self) from first

    def as_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready ``dict``."""
        return {
            "source": self.source,
            "dest": self.dest,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "counts": self.counts(),
            "actions": [dataclasses.asdict(action) for action in self.actions],
            "skipped": [{"name": s.name, "reason": s.reason} for s in self.skipped],
            "failed": [str(failure) for failure in self.failed],
            "deletes_held": self.deletes_held,
            "stopped": self.stopped,
            "transfers": self.transfers.stats.as_dict(),
            "deletes": self.deletes.stats.as_dict() if self.deletes else None,
            "resumed_uploads": self.resumed[0],
            "resumed_parts": self.resumed[1],
        }


class SyncError(ResilientS3Error):
    """A sync did not make the destination a mirror: :meth:`SyncReport.raise_for_failures`.

    Attributes: ``report`` (the :class:`SyncReport`), ``failures`` (its ``failed``). Raised
    ``from`` the first failure's error, if any.
    """

    def __init__(self, report: SyncReport) -> None:
        super().__init__(report.summary())
        self.report = report
        self.failures = report.failed
