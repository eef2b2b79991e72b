"""Checks of the numbers and policies a caller passes, shared by every policy and option.

One rule everywhere: NaN and negative values are refused; an infinite value is refused too,
except where ``None`` already means "no limit" (a deadline, a rate): there ``inf`` is read as
``None``. A ``bool`` is not a number here. A dict where a policy belongs is refused (not taken
as the policy's keyword arguments): ``RetryPolicy(**options)`` says the same in one more word,
and keeps one way to build a policy. Errors name the option and the value.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

__all__ = ["check_count", "check_limit", "check_policy", "check_seconds"]

T = TypeVar("T")


def check_seconds(name: str, value: Any, *, positive: bool = False) -> float:
    """``value`` as a finite number ``>= 0`` (``> 0`` when ``positive``), else raise."""
    number = _number(name, value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return number


def check_limit(name: str, value: Any) -> float | None:
    """A limit where ``None`` means none: ``None`` or ``inf`` -> ``None``; else a number ``> 0``."""
    if value is None:
        return None
    number = _number(name, value)
    if number == math.inf:
        return None
    if math.isnan(number) or number <= 0:
        raise ValueError(f"{name} must be > 0, or None (or inf) for no limit, got {value!r}")
    return number


def check_count(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` as an ``int >= minimum`` (an integral float such as ``3.0`` is not accepted)."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float):
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
        raise TypeError(f"{name} must be an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_policy(name: str, value: Any, kind: type[T]) -> T:
    """``value`` if it is a ``kind``, else a TypeError that says how to build one."""
    if isinstance(value, kind):
        return value
    if isinstance(value, dict):
        raise TypeError(
            f"{name} must be a {kind.__name__}, got a dict: pass {kind.__name__}(**options)"
        )
    raise TypeError(f"{name} must be a {kind.__name__}, got {type(value).__name__}")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got nan")
    return float(value)
