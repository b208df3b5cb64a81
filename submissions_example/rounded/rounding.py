"""Rounds every answer of a module to 2 decimals (this student's idea of tidy output)."""
import numpy as np


def _round(value):
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_round(v) for v in value)
    if isinstance(value, (bool, np.bool_, str)):
        return value
    if isinstance(value, np.ndarray):
        return np.round(value, 2)
    return round(value, 2)


def _rounded(function):
    def wrapper(*args, **kwargs):
        return _round(function(*args, **kwargs))
    return wrapper


def round_answers(namespace, keep=()):
    """Wrap the public functions defined in `namespace` (a module's globals)."""
    for name, function in list(namespace.items()):
        if callable(function) and not name.startswith("_") and name not in keep \
                and getattr(function, "__module__", None) == namespace["__name__"]:
            namespace[name] = _rounded(function)
