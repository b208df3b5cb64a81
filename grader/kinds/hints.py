"""Known causes of errors in student code, each with the sentence that says how to fix it:
Python 2 code, names that NumPy 2 (or NumPy 1.24) removed, modules the grading environment
does not have (a plotting library left in a file), a file saved as UTF-16, and a parameter
named otherwise than the assignment names it. A hint is added under the error's own message;
the error is never reworded.
"""
from __future__ import annotations

import re

# module or attribute -> what to use instead
NUMPY_REMOVED_MODULES = {
    "numpy.compat": "use Python 3's own names (int, str, bytes) instead",
    "numpy.lib.utils": "it became private; import what you need from numpy itself "
                       "(byte_bounds is now in numpy.lib.array_utils)",
    "numpy.lib.arraysetops": "it became private; use np.unique, np.isin, ... directly",
    "numpy.lib.function_base": "it became private; use the functions from numpy itself",
    "numpy.lib.index_tricks": "it became private; use np.ix_, np.r_, ... directly",
    "numpy.core.umath_tests": "use np.matmul or the @ operator",
    "numpy.core": "import from numpy directly (numpy.core became private in NumPy 2)",
    "numpy.matrixlib": "use 2-D arrays and the @ operator",
    "numpy.distutils": "build extensions with setuptools or meson",
}
NUMPY_REMOVED_NAMES = {
    "float": "float", "int": "int", "bool": "bool", "object": "object", "str": "str",
    "complex": "complex", "long": "int", "unicode": "str", "float_": "np.float64",
    "complex_": "np.complex128", "NaN": "np.nan", "Inf": "np.inf", "PINF": "np.inf",
    "NINF": "-np.inf", "infty": "np.inf", "string_": "np.bytes_", "unicode_": "np.str_",
    "product": "np.prod", "cumproduct": "np.cumprod", "alltrue": "np.all",
    "sometrue": "np.any", "row_stack": "np.vstack", "in1d": "np.isin", "trapz": "np.trapezoid",
    "asfarray": "np.asarray(x, dtype=float)", "msort": "np.sort(x, axis=0)",
}
_PRINT = re.compile(r"Missing parentheses in call to 'print'")
_EXEC = re.compile(r"Missing parentheses in call to 'exec'")
_MODULE = re.compile(r"No module named '(numpy\.[\w.]+)'")
_ATTRIBUTE = re.compile(r"module 'numpy' has no attribute '(\w+)'")
_PY2_MODULES = re.compile(r"No module named '(past|future|__builtin__|cPickle|urllib2|"
                          r"StringIO|Queue|ConfigParser)[\w.]*'")
_ANY_MODULE = re.compile(r"No module named '([\w.]+)'")
# Python 2 built-ins -> their Python 3 spelling
PY2_NAMES = {"xrange": "range", "raw_input": "input", "unicode": "str", "basestring": "str",
             "long": "int", "unichr": "chr",
             "reduce": "functools.reduce (from functools import reduce)"}
_NAME = re.compile(r"name '(\w+)' is not defined")
_DICT_METHODS = re.compile(r"'dict' object has no attribute '(iteritems|iterkeys|itervalues|"
                           r"has_key)'")


_MISSING_FILE = re.compile(r"^(\w+)\.py is not in your submission")
# the grader calls a function with the arguments the assignment names, by name
_KEYWORD = re.compile(r"(\w+)\(\) got an unexpected keyword argument '(\w+)'")
_NULL_BYTES = re.compile(r"cannot contain null bytes")


def hint(message: str) -> str | None:
    """The sentence that fixes the error described by `message`, if its cause is known."""
    found = _MISSING_FILE.search(message)
    if found:
        return f"A Jupyter notebook named {found.group(1)}.ipynb is accepted too."
    if _NULL_BYTES.search(message):
        return ("The file is not saved as UTF-8 text (as UTF-16, which Windows Notepad may "
                "use, every other byte is a null byte): save it as UTF-8 and submit it again.")
    if _PRINT.search(message) or _EXEC.search(message):
        return ("This is Python 2 code: in Python 3, print is a function. Write print(...) "
                "with parentheses, e.g. print(\"loss\", loss).")
    found = _PY2_MODULES.search(message)
    if found:
        return (f"{found.group(1)} is a Python 2 module (or its back-port): in Python 3 remove "
                "the import and use the built-ins: range for xrange, input for raw_input, str "
                "for unicode and basestring.")
    found = _NAME.search(message)
    if found and found.group(1) in PY2_NAMES:
        return (f"{found.group(1)} is Python 2: in Python 3 write "
                f"{PY2_NAMES[found.group(1)]}.")
    found = _DICT_METHODS.search(message)
    if found:
        method = found.group(1)
        return (f"dict.{method} is Python 2: in Python 3 write "
                + ("key in d." if method == "has_key" else f"d.{method[4:]}()."))
    found = _MODULE.search(message)
    if found:
        module = found.group(1)
        top = next((m for m in NUMPY_REMOVED_MODULES if module == m or module.startswith(m + ".")),
                   None)
        if top:
            return (f"{module} was removed in NumPy 2 (the grader runs NumPy 2): "
                    f"{NUMPY_REMOVED_MODULES[top]}.")
    found = _ATTRIBUTE.search(message)
    if found and found.group(1) in NUMPY_REMOVED_NAMES:
        name = found.group(1)
        return (f"np.{name} was removed from NumPy (in 1.24 or NumPy 2; the grader runs "
                f"NumPy 2): use {NUMPY_REMOVED_NAMES[name]} instead.")
    found = _ANY_MODULE.search(message)
    if found and found.group(1).split(".")[0] != "numpy":
        return (f"{found.group(1)} is not installed where your code is graded (NumPy and "
                "Python's standard library are): remove the import, and the code that uses it, "
                "from the file you hand in; if it is a module you wrote, hand its file in too.")
    found = _KEYWORD.search(message)
    if found:
        function, name = found.groups()
        return (f"The grader passes {function}'s arguments by the names the assignment gives "
                f"them: name the parameter {name}, as the assignment does.")
    return None


def with_hint(message: str) -> str:
    """The message, followed by its hint when one is known."""
    found = hint(message)
    return f"{message}\n{found}" if found else message
