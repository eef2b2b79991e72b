"""What survives the process: the state directory, the journals of multipart uploads in progress
(resumed after a restart), and the resumable upload that keeps them (docs/batch.md, "Sync and
resumable uploads")."""

__all__: list[str] = []
