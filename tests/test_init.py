"""The public surface: ``__all__`` complete, without duplicates, every name importable."""

from __future__ import annotations

import inspect

import resilient_s3
import resilient_s3.testing


def public_names(module: object) -> set[str]:
    """Names defined in the package (not imported from elsewhere) without a leading underscore."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        origin = getattr(value, "__module__", None)
        if origin is None or origin.startswith(module.__name__):  # type: ignore[attr-defined]
            names.add(name)
    return names


def test_all_is_complete_and_sorted() -> None:
    for module in (resilient_s3, resilient_s3.testing):
        exported = set(module.__all__)
        assert public_names(module) - {"annotations"} <= exported
        assert all(hasattr(module, name) for name in module.__all__)
        assert len(set(module.__all__)) == len(module.__all__)  # order: ruff's RUF022


def test_private_modules_declare_all() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(resilient_s3.__path__):
        if info.name.startswith("_") and info.name != "__main__":
            module = importlib.import_module(f"resilient_s3.{info.name}")
            assert isinstance(getattr(module, "__all__", None), list), info.name


def test_version() -> None:
    assert resilient_s3.__version__ == "0.1.0"
