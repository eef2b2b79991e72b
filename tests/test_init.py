"""The public surface: four public modules, each ``__all__`` complete and minimal, one home per
name, and every private module declaring its own ``__all__``."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import pkgutil
import subprocess
import sys
from types import ModuleType

import resilient_s3
import resilient_s3.aio
import resilient_s3.batch
import resilient_s3.testing
from resilient_s3._transports.crt import crt_unavailable

PUBLIC = (resilient_s3, resilient_s3.aio, resilient_s3.batch, resilient_s3.testing)
#: Names of the asyncio door's twins of the sync door's: another thing each, with the same name
#: (``resilient_s3.aio.client`` makes an asyncio client as ``resilient_s3.client`` a sync one).
TWINS = frozenset({("resilient_s3.aio", "client")})


def defined_here(module: ModuleType) -> set[str]:
    """Public names whose home (``__module__``) is ``module``."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", None) == module.__name__
    }


def test_all_is_complete_minimal_and_sorted() -> None:
    for module in PUBLIC:
        exported = set(module.__all__) - {"__version__"}
        assert defined_here(module) <= exported, module.__name__  # complete
        for name in exported:  # minimal: each exported name is at home here
            value = getattr(module, name)
            home = getattr(value, "__module__", None)
            if isinstance(value, type) or inspect.isfunction(value):
                assert home == module.__name__, (module.__name__, name, home)
        assert list(module.__all__) == sorted(module.__all__, key=_ruff_order), module.__name__


def _ruff_order(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_one_home_per_public_name() -> None:
    seen: dict[str, str] = {}
    for module in PUBLIC:
        for name in module.__all__:
            twin = (module.__name__, name) in TWINS
            assert name not in seen or name == "__version__" or twin, (name, seen.get(name))
            seen.setdefault(name, module.__name__)
    assert (resilient_s3.aio.client.__module__, resilient_s3.client.__module__) == (
        "resilient_s3.aio",
        "resilient_s3",
    )


def test_about_a_dozen_names_at_the_top() -> None:
    assert 10 <= len(resilient_s3.__all__) <= 19  # 19: SharedLimiter (issue 11 names it there)


def test_private_modules_declare_all() -> None:
    native = crt_unavailable() is None
    for info in pkgutil.walk_packages(resilient_s3.__path__, "resilient_s3."):
        if info.name.endswith("__main__") or info.name.endswith("pytest_plugin"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            # without an awscrt it can run on, the native transport's awscrt modules can't load
            if native or not info.name.startswith("resilient_s3._transports.crt."):
                raise
            continue
        assert isinstance(getattr(module, "__all__", None), list), info.name


def test_the_asyncio_client_takes_exactly_the_sync_clients_arguments() -> None:
    sync, aio = inspect.signature(resilient_s3.client), inspect.signature(resilient_s3.aio.client)
    assert list(aio.parameters.values()) == list(sync.parameters.values())
    assert aio.return_annotation is resilient_s3.aio.AsyncResilientS3Client


def test_importing_the_package_imports_no_batch_machinery() -> None:
    code = "import resilient_s3, sys; print(sorted(m for m in sys.modules if 'batch' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version() -> None:
    # one home: pyproject.toml reads it from resilient_s3.__version__ (a dynamic version)
    assert resilient_s3.__version__ == "0.2.0"
    assert importlib.metadata.version("resilient-s3") == resilient_s3.__version__
