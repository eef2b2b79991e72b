"""The ``resilient-s3`` command line: ``demo``, ``stress``, ``bench`` and ``doctor``.

One module per command (``_stress``, ``_bench``, ``_doctor``; ``demo`` runs
``._demo``), each adding its subparser and the function that runs it; ``_main`` parses
and turns failures into one-line errors with exit codes 1 (failure) and 2 (usage). See docs/cli.md.
"""

from ._main import main

__all__ = ["main"]
