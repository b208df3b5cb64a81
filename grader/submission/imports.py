"""The modules a submission imports, read from its Python files (parsed, never run), and those
the grading environment may lack. A file importing a module the student has, but the grading
environment does not (a plotting library, say), loads on the student's machine and fails as a
whole where it is graded: the student kit's self-check says so before the student submits.
The grading environment is taken to hold Python's standard library and grader's own
requirements, as a Gradescope image or a course's grading machine built from grader does.
"""
from __future__ import annotations

import ast
import importlib.metadata
import sys
from pathlib import Path
from typing import Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from grader.submission.collect import source_files


def _requirements(distribution: str, found: set[str]) -> set[str]:
    """The distributions `distribution` needs here, itself included (its extras left out)."""
    if canonicalize_name(distribution) in found:
        return found
    try:
        requires = importlib.metadata.distribution(distribution).requires or []
    except importlib.metadata.PackageNotFoundError:
        return found
    found.add(canonicalize_name(distribution))
    for line in requires:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            _requirements(requirement.name, found)
    return found


def _top_level(distribution: importlib.metadata.Distribution) -> set[str]:
    """The top-level modules a distribution installs: from its top_level.txt, or else from the
    files it installed (NumPy's wheels, for one, have no top_level.txt)."""
    listed = distribution.read_text("top_level.txt")
    if listed:
        return {line.strip() for line in listed.splitlines() if line.strip()}
    found = set()
    for file in distribution.files or ():
        first = file.parts[0] if file.parts else ""
        if len(file.parts) > 1 and first != ".." and \
                not first.endswith((".dist-info", ".data", ".egg-info")):
            found.add(first)
        elif len(file.parts) == 1 and file.suffix in (".py", ".so", ".pyd"):
            found.add(file.name.split(".")[0])
    return {name for name in found if name.isidentifier()}


def grading_modules() -> list[str]:
    """The top-level modules sure to be there where grader grades: the standard library's and
    those of grader's requirements (as this environment installed them)."""
    needed = _requirements("grader", set())
    installed = set()
    for distribution in importlib.metadata.distributions():
        if canonicalize_name(distribution.metadata["Name"] or "") in needed:
            installed |= _top_level(distribution)
    return sorted(set(sys.stdlib_module_names) | installed)


def imported(source: bytes) -> set[str]:
    """The top-level names of the modules a Python source imports when it is loaded (absolute
    imports run at its top level, also under `if`, but not under `if __name__ == "__main__"`
    nor in a `try` that catches their failure, nor in functions, which fail alone); none if it
    does not parse (its syntax error is said where it is graded)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names: set[str] = set()
    _collect(tree.body, names)
    return names


def _collect(statements: list, names: set[str]) -> None:
    for node in statements:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.If) and not _is_main_guard(node.test):
            _collect(node.body, names)
            _collect(node.orelse, names)
        elif isinstance(node, ast.Try) and not any(_catches_import_errors(h.type)
                                                   for h in node.handlers):
            _collect(node.body, names)


def _is_main_guard(test) -> bool:
    """Whether an `if` test is `__name__ == "__main__"`, false when the file is imported."""
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) \
        and test.left.id == "__name__" and [type(op) for op in test.ops] == [ast.Eq] \
        and isinstance(test.comparators[0], ast.Constant) \
        and test.comparators[0].value == "__main__"


def _catches_import_errors(caught) -> bool:
    """Whether an `except` clause catches a failed import (bare, or naming ImportError,
    ModuleNotFoundError, Exception or BaseException, alone or in a tuple)."""
    if caught is None:
        return True
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(isinstance(name, ast.Name) and name.id in (
        "ImportError", "ModuleNotFoundError", "Exception", "BaseException") for name in names)


def unavailable_notes(paths: Sequence[Path], available: set[str]) -> dict[str, str]:
    """A note for each of the student's .py files in the submission at `paths` that imports a
    module neither in `available` nor among the submission's own modules and packages, by the
    file's name in the submission."""
    sources = [(name, data) for name, data in source_files(paths)
               if name.endswith(".py")]
    own = {part.removesuffix(".py") for name, _ in sources for part in name.split("/")}
    notes = {}
    for name, source in sources:
        missing = sorted(imported(source) - available - own)
        if missing:
            notes[name] = (
                f"{name} imports {', '.join(missing)}, which may not be installed where your "
                "work is graded (Python's standard library, NumPy and the packages grader needs "
                "are): if it is not, the whole file fails there, though it loads here. Remove "
                "the import, and the code that uses it, from the file you hand in.")
    return notes
