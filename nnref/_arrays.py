"""Input validation shared by the runtime: clear errors that name the argument, never a deep traceback."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def as_real_array(value, name: str) -> np.ndarray:
    """`value` as a real floating array: float32/float64 kept, integers and bools become float64.

    Raises TypeError naming `name` for strings, objects, complex numbers and anything else that
    is not a real number or an array of them.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got a string {value!r}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be a real number or a rectangular array of them: {exc}") from None
    kind = arr.dtype.kind
    if kind in "fiub":
        if kind != "f" or arr.dtype.itemsize < 4:
            arr = arr.astype(np.float64)
        elif arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        return arr
    if kind == "c":
        raise TypeError(f"{name} must be real, got a complex array (dtype {arr.dtype})")
    raise TypeError(f"{name} must be a real number or an array of real numbers, got dtype {arr.dtype}")


def shaped_like(result, like: np.ndarray) -> np.ndarray:
    """Broadcast a generated function's result to the input's shape and dtype (constants included),
    as a new array: never the input itself (identity's f is z, and a caller writing into the result
    would have changed its input)."""
    if (
        isinstance(result, np.ndarray)
        and result.shape == like.shape
        and result.dtype == like.dtype
        and not np.may_share_memory(result, like)
    ):
        return result  # already right: no copy
    out = np.empty(like.shape, dtype=like.dtype)
    out[...] = result
    return out


def check_params(
    owner: str, given: Mapping[str, object], defaults: Mapping[str, float], positive: frozenset[str] = frozenset()
) -> dict[str, float]:
    """Validate named parameters against an entry's defaults: known names, finite real values."""
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        known = ", ".join(defaults) or "none"
        raise TypeError(f"{owner} got unknown parameter(s) {', '.join(unknown)}; its parameters: {known}")
    params = dict(defaults)
    for key, value in given.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{owner}: parameter {key} must be a real number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{owner}: parameter {key} must be finite, got {value}")
        if key in positive and value <= 0:
            raise ValueError(f"{owner}: parameter {key} must be > 0, got {value}")
        params[key] = value
    return params


def real_number(
    value, name: str, *, low: float | None = None, high: float | None = None, low_open: bool = False
) -> float:
    """``value`` as a float: a Python or NumPy real number, finite, with ``low ≤ value < high``
    (``low < value`` if ``low_open``). The message names ``name`` and the interval expected."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    lower = "" if low is None else f"{low:g} {'<' if low_open else '≤'} "
    upper = "" if high is None else f" < {high:g}"
    expected = f"a finite number with {lower}{name}{upper}" if (lower or upper) else "a finite number"
    too_low = low is not None and (value < low or (low_open and value == low))
    if not math.isfinite(value) or too_low or (high is not None and value >= high):
        raise ValueError(f"{name} must be {expected}, got {value:g}")
    return value


def whole_number(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int ≥ ``minimum``: a Python or NumPy integer, or a float with no fractional
    part (2.0); 2.7 is refused, never truncated. The message names ``name``."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number ≥ {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value}")
    return int(value)
