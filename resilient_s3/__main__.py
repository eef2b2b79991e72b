"""``python -m resilient_s3`` / ``resilient-s3``: the command line (see docs/cli.md)."""

from __future__ import annotations

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
