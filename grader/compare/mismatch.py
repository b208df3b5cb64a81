"""Comparing a student's output with the expected one. `compare` checks in stages (structure and
type, shape, NaN/inf positions, values within rtol/atol: in float64, but integers past 2**53,
which float64 cannot all hold, exactly as integers) through nested tuples, lists and dicts,
and returns None on a match or a `Mismatch`: a structured account of the first difference found
(where, at which stage, how many elements, the first differing indices, the largest absolute
and relative differences, the tolerance). Messages are built from it in `grader.compare.message`.
"""
from __future__ import annotations

import dataclasses
import math
import reprlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from grader.course.model import Tolerance

SHOWN = 5  # differing elements listed
LARGEST = np.finfo(float).max  # the widest a tolerance bound gets: an infinite one passes no inf
_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict = 60, 60, 6, 6
KEYS_SHOWN = 8  # dict keys named in a description
DIGITS_SHOWN = 30  # of an integer described: a longer one is described by its length
DIGITS_KEPT = 15  # digits shown at each end of an integer too long to show whole
EXACT_FLOATS = 2 ** 53  # every integer up to this magnitude is a float64; beyond, neighbours merge


@dataclass(frozen=True)
class Difference:
    index: tuple[int, ...]
    yours: Any
    expected: Any


@dataclass(frozen=True)
class Mismatch:
    """The first difference between an answer and the expected value.

    stage: "type" (wrong kind of value: `expected` and `actual` describe both), "length",
    "keys" (`missing`, `extra`), "shape" (`expected_shape`, `actual_shape`, `from_list`),
    "bools" (exact bools differ), "nan" (NaN/inf positions differ) or "values" (numbers out
    of tolerance). For "bools", "nan" and "values": `count` differing of `total` elements,
    the first `differences`, and for "values" `max_abs`, `max_rel` and `tolerance`. For
    "shape" and "values", `likeness` says what a wrong array evidently is, when it is (see
    `_likeness`): "transposed", "negated", "float32", "float16" or "rounded to N" (N decimal
    places); else "". For "nan", `also` counts the finite elements that are out of `tolerance`
    too. `others` names the answer's other top-level outputs that differ.
    `yours` and `wanted` keep the compared arrays (for pictures); they are not serialised.
    """
    stage: str
    path: tuple = ()
    expected: str = ""
    actual: str = ""
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    expected_shape: tuple | None = None
    actual_shape: tuple | None = None
    from_list: bool = False
    count: int = 0
    total: int = 0
    differences: tuple[Difference, ...] = ()
    max_abs: float | int | None = None  # an int for integers compared exactly
    max_rel: float | None = None
    tolerance: Tolerance | None = None
    scalar: bool = False
    likeness: str = ""
    also: int = 0
    others: tuple = ()  # the other top-level outputs (keys or positions) that differ too
    yours: Any = field(default=None, compare=False, repr=False)
    wanted: Any = field(default=None, compare=False, repr=False)


def short_repr(value) -> str:
    """A bounded repr that never raises (student values may have odd reprs)."""
    try:
        return _repr.repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def describe(value) -> str:
    """What a value is, in a few words, whatever it is."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "b":
            return f"a NumPy array of bools of shape {value.shape}"
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {value}"
    if isinstance(value, dict):
        return f"a dict with keys {list(_shown(value))}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, str):
        return f"the string {short_repr(value)}"
    if type(value) is int and abs(value) >= 10 ** DIGITS_SHOWN:
        return f"an integer of {len(str(abs(value)))} digits"
    if isinstance(value, (int, float, np.number)):
        return f"the number {number(value)}"
    return f"a {type(value).__name__}"


def number(x) -> str:
    x = x.item() if isinstance(x, np.generic) else x
    if isinstance(x, bool) or isinstance(x, (int, np.integer)):
        text = str(x)
        digits = len(text.lstrip("-"))
        if digits > 2 * DIGITS_KEPT:  # its first and last digits, and how many there are
            return f"{text[:len(text) - digits + DIGITS_KEPT]}...{text[-DIGITS_KEPT:]} " \
                   f"({digits} digits)"
        return text
    return f"{x:.10g}"


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) \
        and not isinstance(x, (bool, np.bool_))


def _as_numeric_array(value):
    """The student's value as a numeric array, or None if it is not array-like numbers. Python
    ints beyond 64 bits (an array of objects to NumPy) are taken as floats, where they fit."""
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "iuf" else None
    if _is_number(value) or isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError, OverflowError):
            return None
        if array.dtype.kind in "iuf":
            return array
        if _integers(array) is not None:
            try:
                return array.astype(float)
            except OverflowError:  # beyond the largest float
                return None
    return None


def _integers(value) -> np.ndarray | None:
    """`value` as an array of integers (of a NumPy integer dtype, or of Python ints where some
    lie beyond 64 bits), or None if it holds anything but integers (bools are not)."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer, list, tuple)):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError, OverflowError):
            return None
    if not isinstance(value, np.ndarray):
        return None
    if value.dtype.kind in "iu":
        return value
    if value.dtype == object and all(type(x) is int or isinstance(x, np.integer)
                                     for x in value.flat):
        return value
    return None


def _past_floats(array: np.ndarray) -> np.ndarray:
    """Where an array of integers holds one that float64 cannot hold exactly (an array even
    of no dimension)."""
    return np.array((array > EXACT_FLOATS) | (array < -EXACT_FLOATS), dtype=bool)


def _exact_integers(actual, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(actual, expected) as arrays of integers of one shape, when both are integers and one
    of them lies beyond what float64 holds exactly: then they are compared as integers. None
    otherwise: float64 holds both exactly, or the answer is given in floats and is judged as
    floats are (its nearest float to the expected integer passes an exact tolerance)."""
    if expected.dtype.kind not in "iuO" or isinstance(actual, (float, np.floating)):
        return None
    wanted = _integers(expected)
    yours = _integers(actual) if wanted is not None else None
    if yours is None or yours.shape != wanted.shape:
        return None
    return (yours, wanted) if _past_floats(yours).any() or _past_floats(wanted).any() else None


def _integer_tolerance(tol: Tolerance):
    """The tolerance as integers (na, da, nr, dr) such that |x - y| is within it exactly when
    |x - y| * da * dr <= na * dr + nr * da * |y| (every finite float is a fraction); None for
    an infinite one, which passes every integer (the bound capped at LARGEST, as for floats)."""
    if math.isinf(tol.atol) or math.isinf(tol.rtol):
        return None
    (na, da), (nr, dr) = Fraction(tol.atol).as_integer_ratio(), \
        Fraction(tol.rtol).as_integer_ratio()
    return na, da, nr, dr


def _wrong_integers(a: np.ndarray, e: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Where integers of one shape differ by more than the tolerance, computed exactly: NumPy
    compares its integer types exactly; elements within 2**53 of zero on both sides are
    compared as floats (float64 holds them exactly); only the others, and Python ints beyond
    64 bits, are compared as Python's integers."""
    if math.isnan(tol.atol) or math.isnan(tol.rtol):
        return np.ones(e.shape, dtype=bool)  # as for floats: nothing is within NaN
    if tol.atol == 0 and tol.rtol == 0:  # NumPy's loops, over integers or Python's ints
        return np.asarray(a != e, dtype=bool)
    if a.dtype != object and e.dtype != object:
        big = _past_floats(a) | _past_floats(e)
        af, ef = a.astype(float), e.astype(float)
        with np.errstate(invalid="ignore", over="ignore"):
            wrong = np.array(~(np.abs(af - ef) <= np.minimum(tol.atol + tol.rtol * np.abs(ef),
                                                             LARGEST)), dtype=bool)
    else:
        big, wrong = np.ones(e.shape, dtype=bool), np.zeros(e.shape, dtype=bool)
    if big.any():  # Python's integers, in NumPy's loops over objects
        x, y = a[big].astype(object), e[big].astype(object)
        gaps, widest, ratio = np.abs(x - y), int(LARGEST), _integer_tolerance(tol)
        if ratio is None:
            wrong[big] = gaps > widest
        else:
            na, da, nr, dr = ratio
            bound = np.minimum(na * dr + nr * da * np.abs(y), widest * da * dr)
            wrong[big] = np.asarray(gaps * (da * dr) > bound, dtype=bool)
    return wrong


def _relative(gap: int, expected: int) -> float:
    if expected == 0:
        return math.inf
    try:
        return float(Fraction(gap, abs(expected)))
    except OverflowError:
        return math.inf


def _compare_integers(a: np.ndarray, e: np.ndarray, tol: Tolerance, path: tuple,
                      brief: bool) -> Mismatch | None:
    """Integers of one shape compared exactly: past 2**53, float64 would take neighbouring
    integers for equal. Listed as for floats, the largest differences exact; never drawn."""
    wrong = _wrong_integers(a, e, tol)
    if not wrong.any():
        return None
    if brief:
        return Mismatch("values", path)
    bad = np.flatnonzero(wrong)
    yours, wanted = a.ravel(), e.ravel()

    def gap(k) -> int:
        return abs(int(yours[k]) - int(wanted[k]))

    if a.dtype != object and e.dtype != object:  # the largest found in floats, then exact
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            gaps = np.abs(yours[bad].astype(float) - wanted[bad].astype(float))
            rel = gaps / np.abs(wanted[bad].astype(float))
        widest = [bad[int(np.argmax(gaps))]]
        relative = [bad[int(np.nanargmax(rel))]] if not np.isnan(rel).all() else [bad[0]]
    else:
        widest = relative = bad
    differences = tuple(Difference(tuple(int(i) for i in np.unravel_index(k, e.shape)),
                                   int(yours[k]), int(wanted[k])) for k in bad[:SHOWN])
    return Mismatch("values", path, count=int(bad.size), total=int(e.size),
                    differences=differences, max_abs=max(gap(k) for k in widest),
                    max_rel=max(_relative(gap(k), int(wanted[k])) for k in relative),
                    tolerance=tol, scalar=e.ndim == 0)


def _kind(expected: np.ndarray) -> str:
    return "a number" if expected.ndim == 0 else f"a NumPy array of shape {expected.shape}"


def _shown(keys) -> tuple[str, ...]:
    keys = sorted(map(str, keys))
    return tuple(keys[:KEYS_SHOWN]) + ((f"... and {len(keys) - KEYS_SHOWN} more",)
                                       if len(keys) > KEYS_SHOWN else ())


def _differences(a: np.ndarray, e: np.ndarray, mask: np.ndarray) -> tuple[Difference, ...]:
    indices = np.argwhere(mask)[:SHOWN]
    return tuple(Difference(tuple(int(i) for i in index), a[tuple(index)].item(),
                            e[tuple(index)].item()) for index in indices)


def _with_others(found: Mismatch, actual, expected, tolerance, path: tuple, brief: bool,
                 first) -> Mismatch:
    """`found`, the first output of an answer of several that differs, naming the others that
    differ too (only for the answer's top-level outputs, and not when `brief`)."""
    if path or brief:
        return found
    keys = list(expected) if isinstance(expected, dict) else list(range(len(expected)))
    others = tuple(key for key in keys[keys.index(first) + 1:]
                   if compare(actual[key], expected[key], tolerance, (key,), brief=True))
    return dataclasses.replace(found, others=others) if others else found


def matches(actual, expected, tolerance: Callable[[str], Tolerance] | Tolerance) -> bool:
    """Whether `actual` matches `expected` as `compare` decides, without describing how it
    differs (for checking an answer against the values of declared mistakes)."""
    return compare(actual, expected, tolerance, brief=True) is None


def compare(actual, expected, tolerance: Callable[[str], Tolerance] | Tolerance,
            path: tuple = (), *, brief: bool = False) -> Mismatch | None:
    """None if `actual` matches `expected`, else the first Mismatch. `tolerance` is one
    Tolerance or a function from the top-level output key (such as "0" or "U") to one. With
    `brief`, a difference in values is found but not described (no counts, indices or
    largest differences)."""
    if isinstance(tolerance, Tolerance):
        tolerance = (lambda fixed: lambda key: fixed)(tolerance)
    if type(expected) is np.ndarray and expected.dtype.kind in "iuf":  # the common case, first
        return _compare_numbers(actual, expected, tolerance(str(path[0]) if path else ""), path,
                                brief)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return Mismatch("type", path, f"a dict with keys {list(_shown(expected))}",
                            describe(actual))
        missing = set(expected) - set(actual)
        extra = set(map(str, actual)) - set(expected)
        if missing or extra:
            return Mismatch("keys", path, missing=_shown(missing), extra=_shown(extra))
        for key in expected:
            found = compare(actual[key], expected[key], tolerance, path + (key,), brief=brief)
            if found:
                return _with_others(found, actual, expected, tolerance, path, brief, key)
        return None
    if isinstance(expected, (tuple, list)):
        given = actual
        if isinstance(actual, np.ndarray) and actual.ndim and actual.dtype.kind in "iufb":
            actual = list(actual)  # unpacks as the tuple would: `mean, var = f(x)`
        if not isinstance(actual, (tuple, list)):
            return Mismatch("type", path,
                            f"a {type(expected).__name__} of {len(expected)} values",
                            describe(actual))
        if len(actual) != len(expected):
            return Mismatch("length", path, f"{len(expected)} values", describe(given))
        for index, (a, e) in enumerate(zip(actual, expected)):
            found = compare(a, e, tolerance, path + (index,), brief=brief)
            if found:
                return _with_others(found, actual, expected, tolerance, path, brief, index)
        return None
    if isinstance(expected, (bool, np.bool_)) or (
            isinstance(expected, np.ndarray) and expected.dtype.kind == "b"):
        return _compare_exact_bools(actual, expected, path)
    if isinstance(expected, str):
        if not isinstance(actual, str):
            return Mismatch("type", path, "a string", describe(actual))
        if actual != expected:
            return Mismatch("type", path, short_repr(expected), short_repr(actual))
        return None
    if expected is None:
        return None if actual is None else Mismatch("type", path, "None", describe(actual))
    key = str(path[0]) if path else ""
    return _compare_numbers(actual, np.asarray(expected), tolerance(key), path, brief)


def _compare_exact_bools(actual, expected, path: tuple) -> Mismatch | None:
    if isinstance(expected, np.ndarray):
        array = np.asarray(actual) if isinstance(actual, (list, tuple, np.ndarray)) else None
        if array is None or array.dtype.kind != "b":
            return Mismatch("type", path, f"an array of bools of shape {expected.shape}",
                            describe(actual))
        if array.shape != expected.shape:
            return Mismatch("shape", path, expected_shape=expected.shape,
                            actual_shape=array.shape)
        wrong = array != expected
        if wrong.any():
            return Mismatch("bools", path, count=int(wrong.sum()), total=expected.size,
                            differences=_differences(array, expected, wrong)[:1],
                            yours=array, wanted=expected)
        return None
    if not isinstance(actual, (bool, np.bool_)):
        return Mismatch("type", path, "a bool (True or False)", describe(actual))
    if bool(actual) != bool(expected):
        return Mismatch("type", path, str(bool(expected)), str(bool(actual)))
    return None


def _within(a: np.ndarray, e: np.ndarray, tol: Tolerance) -> bool:
    """Whether every element of `a` is within the tolerance of `e` (both float64, one shape):
    the common case, tested first and cheaply. NaN and inf never pass this test."""
    with np.errstate(invalid="ignore", over="ignore"):
        bound = np.minimum(tol.atol + tol.rtol * np.abs(e), LARGEST)
        return bool((np.abs(a - e) <= bound).all())


def _compare_numbers(actual, expected: np.ndarray, tol: Tolerance, path: tuple,
                     brief: bool = False) -> Mismatch | None:
    if type(actual) is float and expected.dtype == np.float64 and expected.ndim == 0:
        wanted = float(expected)
        if abs(actual - wanted) <= min(tol.atol + tol.rtol * abs(wanted), LARGEST):
            return None  # a Python float within the tolerance (NaN and inf never are)
    elif type(actual) is np.ndarray and actual.dtype == np.float64 == expected.dtype \
            and actual.shape == expected.shape and _within(actual, expected, tol):
        return None
    if isinstance(actual, (bool, np.bool_)):
        return Mismatch("type", path, _kind(expected), describe(actual))
    integers = _exact_integers(actual, expected)
    if integers is not None:
        return _compare_integers(*integers, tol, path, brief)
    array = _as_numeric_array(actual)
    if array is None:
        if _integers(actual) is not None:  # Python ints past the largest float
            return Mismatch("type", path, _kind(expected),
                            f"{describe(actual)}, beyond the largest float")
        if isinstance(actual, np.ndarray) and actual.dtype.kind == "b" and expected.ndim:
            return Mismatch("type", path, _kind(expected),
                            f"a bool array of shape {actual.shape} where {expected.dtype} was "
                            "expected (convert it with .astype(float), or compute numbers)")
        return Mismatch("type", path, _kind(expected), describe(actual))
    if array.shape != expected.shape:
        transposed = array.ndim == 2 and array.shape == expected.shape[::-1] \
            and not brief and _within(array.T.astype(float), expected.astype(float), tol)
        return Mismatch("shape", path, expected_shape=expected.shape, actual_shape=array.shape,
                        from_list=isinstance(actual, list),
                        likeness="transposed" if transposed else "")
    a = array if array.dtype == np.float64 else array.astype(float)
    e = expected if expected.dtype == np.float64 else expected.astype(float)
    if _within(a, e, tol):
        return None
    nan = np.isnan(a) != np.isnan(e)
    with np.errstate(invalid="ignore"):
        inf = (np.isinf(a) | np.isinf(e)) & (a != e) & ~np.isnan(a) & ~np.isnan(e)
    special = nan | inf
    finite = np.isfinite(a) & np.isfinite(e)
    if special.any() and brief:
        return Mismatch("nan", path)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(finite, np.abs(a - e), 0.0)
        bad = finite & (diff > tol.atol + tol.rtol * np.abs(e))
    if special.any():
        return Mismatch("nan", path, count=int(special.sum()), total=e.size,
                        differences=_differences(a, e, special), scalar=e.ndim == 0,
                        also=int(bad.sum()), tolerance=tol, yours=a, wanted=e)
    if not bad.any():
        return None
    if brief:
        return Mismatch("values", path)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(bad, diff / np.abs(e), 0.0)  # inf where expected is 0
    return Mismatch("values", path, count=int(bad.sum()), total=e.size,
                    differences=_differences(a, e, bad), max_abs=float(diff[bad].max()),
                    max_rel=float(rel[bad].max()), tolerance=tol, scalar=e.ndim == 0,
                    likeness=_likeness(a, e, tol, array.dtype), yours=a, wanted=e)


LOW_PRECISION_RTOL = 1e-4  # an answer computed in float32 is this close, short of chaos; one in
# float16 (3 digits), within 8 of its epsilons
ROUNDED = 6  # decimal places up to which an answer is recognised as the expected one rounded
ROUNDING = Tolerance(1e-12, 0.0)  # Python's round() and NumPy's may differ in the last bit


def _likeness(a: np.ndarray, e: np.ndarray, tol: Tolerance, dtype: np.dtype) -> str:
    """What a wrong array of the expected shape evidently is: the expected one transposed
    (a square matrix), or negated; or, returned in float32 or float16, the expected one at that
    precision; or the expected one rounded to the fewest decimal places (at most ROUNDED) that
    give it. "" when it is none of these."""
    if e.ndim == 2 and e.shape[0] == e.shape[1] > 1 and _within(a.T, e, tol):
        return "transposed"
    if e.size and np.any(e != 0) and _within(-a, e, tol):
        return "negated"
    if dtype in (np.float32, np.float16):
        rtol = max(tol.rtol, LOW_PRECISION_RTOL, 8 * float(np.finfo(dtype).eps))
        if _within(a, e, Tolerance(rtol, max(tol.atol, rtol * float(np.max(np.abs(e)))))):
            return dtype.name
    for decimals in range(1, ROUNDED + 1):
        rounded = np.round(e, decimals)
        if np.array_equal(rounded, e):  # nothing to round at this place, nor at the next
            break
        if _within(a, rounded, ROUNDING):
            return f"rounded to {decimals}"
    return ""
