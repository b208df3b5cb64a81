"""Comparing a student's output with the expected one, and the message that explains the
difference. One function, `compare`, checks in stages (structure and type, shape, NaN/inf
positions, values within rtol/atol) through nested tuples, lists and dicts, and returns None
on a match or the feedback text on the first difference found.
"""
from __future__ import annotations

import reprlib
from typing import Callable

import numpy as np

from grader.course.manifest import Tolerance

SHOWN = 5
_LARGEST = np.finfo(float).max
_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict = 60, 60, 6, 6


def short_repr(value) -> str:
    """A bounded repr that never raises (student values may have odd reprs)."""
    try:
        return _repr.repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def describe(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {value}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, str):
        return f"the string {short_repr(value)}"
    if isinstance(value, (int, float, np.number)):
        return f"the number {_num(value)}"
    return f"a {type(value).__name__}"


def _num(x) -> str:
    x = x.item() if isinstance(x, np.generic) else x
    if isinstance(x, bool) or isinstance(x, (int, np.integer)):
        return str(x)
    return f"{x:.10g}"


def _where(path: tuple) -> str:
    if not path:
        return ""
    return "In output" + "".join(f"[{p!r}]" for p in path) + ": "


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _as_numeric_array(value):
    """The student's value as a numeric array, or None if it is not array-like numbers."""
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "iuf" else None
    if _is_number(value):
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            return None
        return array if array.dtype.kind in "iuf" else None
    return None


def compare(actual, expected, tolerance: Callable[[str], Tolerance] | Tolerance,
            path: tuple = ()) -> str | None:
    """None if `actual` matches `expected`, else the feedback. `tolerance` is one Tolerance or
    a function from the top-level output key (such as "0" or "U") to a Tolerance."""
    if isinstance(tolerance, Tolerance):
        tolerance = (lambda fixed: lambda key: fixed)(tolerance)
    where = _where(path)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}expected a dict with keys {sorted(expected)}, got {describe(actual)}."
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(map(str, actual)) - set(expected))
        if missing or extra:
            parts = [f"missing keys {missing}" if missing else "",
                     f"unexpected keys {extra}" if extra else ""]
            return f"{where}the dict has {' and '.join(p for p in parts if p)}."
        for key in expected:
            found = compare(actual[key], expected[key], tolerance, path + (key,))
            if found:
                return found
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)):
            return (f"{where}expected a {type(expected).__name__} of {len(expected)} values, "
                    f"got {describe(actual)}.")
        if len(actual) != len(expected):
            return (f"{where}expected {len(expected)} values, got "
                    f"{describe(actual)}.")
        for index, (a, e) in enumerate(zip(actual, expected)):
            found = compare(a, e, tolerance, path + (index,))
            if found:
                return found
        return None
    if isinstance(expected, (bool, np.bool_)) or (
            isinstance(expected, np.ndarray) and expected.dtype.kind == "b"):
        return _compare_exact_bools(actual, expected, where)
    if isinstance(expected, str):
        if not isinstance(actual, str):
            return f"{where}expected a string, got {describe(actual)}."
        if actual != expected:
            return f"{where}expected {short_repr(expected)}, got {short_repr(actual)}."
        return None
    if expected is None:
        return None if actual is None else f"{where}expected None, got {describe(actual)}."
    key = str(path[0]) if path else ""
    return _compare_numbers(actual, np.asarray(expected), tolerance(key), where)


def _compare_exact_bools(actual, expected, where: str) -> str | None:
    if isinstance(expected, np.ndarray):
        array = np.asarray(actual) if isinstance(actual, (list, tuple, np.ndarray)) else None
        if array is None or array.dtype.kind != "b":
            return f"{where}expected an array of bools of shape {expected.shape}, got {describe(actual)}."
        if array.shape != expected.shape:
            return f"{where}shape mismatch: expected {expected.shape}, got {array.shape}."
        wrong = np.argwhere(array != expected)
        if len(wrong):
            index = tuple(int(i) for i in wrong[0])
            return (f"{where}{len(wrong)} / {expected.size} bools differ; first at {list(index)}: "
                    f"yours {array[index]}, expected {expected[index]}.")
        return None
    if not isinstance(actual, (bool, np.bool_)):
        return f"{where}expected a bool (True or False), got {describe(actual)}."
    if bool(actual) != bool(expected):
        return f"{where}expected {bool(expected)}, got {bool(actual)}."
    return None


def _compare_numbers(actual, expected: np.ndarray, tol: Tolerance, where: str) -> str | None:
    if isinstance(actual, (bool, np.bool_)):
        return f"{where}expected {_kind(expected)}, got {describe(actual)}."
    array = _as_numeric_array(actual)
    if array is None:
        return f"{where}expected {_kind(expected)}, got {describe(actual)}."
    if array.shape != expected.shape:
        if expected.ndim == 0:
            return f"{where}expected a single number, got an array of shape {array.shape}."
        return (f"{where}shape mismatch: expected {expected.shape}, got {array.shape}"
                + (" (a list)" if isinstance(actual, list) else "") + ".")
    a = array if array.dtype == np.float64 else array.astype(float)
    e = expected if expected.dtype == np.float64 else expected.astype(float)
    with np.errstate(invalid="ignore", over="ignore"):
        bound = np.minimum(tol.atol + tol.rtol * np.abs(e), _LARGEST)
        if np.all(np.abs(a - e) <= bound):
            return None  # the common case; NaN and inf never pass this test
    nan = np.isnan(a) != np.isnan(e)
    with np.errstate(invalid="ignore"):
        inf = (np.isinf(a) | np.isinf(e)) & (a != e) & ~np.isnan(a) & ~np.isnan(e)
    special = nan | inf
    if special.any():
        return (f"{where}NaN/inf positions differ: {int(special.sum())} / {e.size} elements.\n"
                + _listing(a, e, special))
    finite = np.isfinite(a) & np.isfinite(e)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(finite, np.abs(a - e), 0.0)
        bad = finite & (diff > tol.atol + tol.rtol * np.abs(e))
    if not bad.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(bad, diff / np.abs(e), 0.0)  # inf where expected is 0
    count = int(bad.sum())
    lines = [f"{where}not equal to tolerance {tol}."]
    if e.ndim == 0:
        lines += [f"  yours:    {_num(a[()])}", f"  expected: {_num(e[()])}"]
    else:
        lines.append(f"Mismatched elements: {count} / {e.size} ({100 * count / e.size:.3g}%)")
    lines.append(f"Max absolute difference among violations: {_num(diff[bad].max())}")
    lines.append(f"Max relative difference among violations: {_num(rel[bad].max())}")
    if e.ndim:
        lines.append(_listing(a, e, bad))
    return "\n".join(lines)


def _kind(expected: np.ndarray) -> str:
    return "a number" if expected.ndim == 0 else f"a NumPy array of shape {expected.shape}"


def _listing(a: np.ndarray, e: np.ndarray, mask: np.ndarray) -> str:
    indices = np.argwhere(mask)
    rows = ["First differences (index: yours | expected):"]
    for index in indices[:SHOWN]:
        index = tuple(int(i) for i in index)
        rows.append(f"  {list(index)}: {_num(a[index])} | {_num(e[index])}")
    if len(indices) > SHOWN:
        rows.append(f"  ... and {len(indices) - SHOWN} more")
    return "\n".join(rows)
