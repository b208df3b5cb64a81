"""A public case written as Python a student can paste to call their own function on it: the
arguments as literals (NumPy arrays as `np.array(...)` with every digit, so the numbers are
exactly the grader's), then the call as the grader makes it. Arrays too large to read are
written as their exact bytes instead.
"""
from __future__ import annotations

import base64
import keyword
import math

import numpy as np

READABLE_ELEMENTS = 400  # larger arrays are written as their bytes
RESERVED = {"np", "base64"}


def _scalar(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "np.nan"
        if math.isinf(value):
            return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def _nested(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return _scalar(value)


def _array(array: np.ndarray) -> str:
    dtype = "" if array.dtype == np.float64 else f", dtype=np.{array.dtype.name}"
    if array.size == 0:
        return f"np.zeros({tuple(array.shape)!r}{dtype})"
    if array.size > READABLE_ELEMENTS:
        data = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")
        return (f"np.frombuffer(base64.b64decode({data!r}), dtype={array.dtype.str!r})"
                f".reshape({tuple(array.shape)!r}).copy()")
    return f"np.array({_nested(array.tolist())}{dtype})"


def literal(value) -> str:
    """Python source that evaluates (with `import numpy as np`, and `import base64` for large
    arrays) to `value`."""
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, np.generic):
        return _array(np.asarray(value))
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in value.items()) + "}"
    return _scalar(value)


def snippet(*, function: str, module: str, args: dict, positional: bool = False) -> str:
    """The lines that import the student's `function` from `module` and call it on `args`
    (by keyword, or by position in the order given)."""
    lines, call = [], []
    for name, value in args.items():
        text = literal(value)
        if name.isidentifier() and not keyword.iskeyword(name) \
                and name not in RESERVED | {function}:
            lines.append(f"{name} = {text}")
            text = name
        call.append(text if positional else f"{name}={text}")
    head = ["import numpy as np"]
    if any("base64.b64decode" in line for line in lines + call):
        head.insert(0, "import base64")
    head.append(f"from {module} import {function}")
    return "\n".join(head + lines + [f"{function}({', '.join(call)})"])
