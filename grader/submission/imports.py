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

from grader.submission.collect import files_for_fingerprint


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


def grading_modules() -> list[str]:
    """The top-level modules sure to be there where grader grades: the standard library's and
    those of grader's requirements (as this environment installed them)."""
    needed = _requirements("grader", set())
    installed = {module for module, distributions in
                 importlib.metadata.packages_distributions().items()
                 if any(canonicalize_name(d) in needed for d in distributions)}
    return sorted(set(sys.stdlib_module_names) | installed)


def imported(source: bytes) -> set[str]:
    """The top-level names of the modules a Python source imports (absolute imports, anywhere
    in the file); none if it does not parse (its syntax error is said where it is graded)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def unavailable_notes(paths: Sequence[Path], available: set[str]) -> list[str]:
    """A note for each of the student's .py files in the submission at `paths` that imports a
    module neither in `available` nor among the submission's own modules and packages."""
    sources = [(name, data) for name, data in files_for_fingerprint(paths)
               if name.endswith(".py")]
    own = {part.removesuffix(".py") for name, _ in sources for part in name.split("/")}
    notes = []
    for name, source in sources:
        missing = sorted(imported(source) - available - own)
        if missing:
            notes.append(
                f"{name} imports {', '.join(missing)}, which may not be installed where your "
                "work is graded (Python's standard library, NumPy and the packages grader needs "
                "are): if it is not, the whole file fails there, though it loads here. Remove "
                "the import, and the code that uses it, from the file you hand in.")
    return notes
