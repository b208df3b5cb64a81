"""Collecting a student's files: which paths of a submission are the student's files and where
they go in the sandbox's folder (a package's files into the package folder, with the course's
support modules), under the policy that protects the grader: only regular files (never a
symlink, which could point into the course, nor a FIFO or device, which could hang or flood a
read), of bounded size, and a bounded number of them.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Iterator, Sequence

from grader.errors import UNREADABLE

MAX_FILE = 1 << 20  # bytes of one student file
MAX_NOTEBOOK = 32 << 20  # bytes of one notebook (stale outputs may hold pictures)
MAX_FILES = 200  # files of one submission looked at
SOURCE_SUFFIXES = (".py", ".ipynb")


def regular_file(path: Path, *, limit: int | None = MAX_FILE) -> bool:
    """Whether `path` is a regular file (not behind a link) of at most `limit` bytes (of any
    size for None)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and (limit is None or info.st_size <= limit)


def limit_of(path: Path) -> int:
    """The bytes a student's file may have: a notebook's stale outputs may hold pictures."""
    return MAX_NOTEBOOK if path.suffix == ".ipynb" else MAX_FILE


def read_bounded(path: Path, *, limit: int = MAX_FILE) -> bytes | None:
    """The bytes of a regular file of at most `limit` bytes, read without following a link
    (None for anything else)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def _entries(folder: Path) -> list[Path]:
    """The entries of a folder looked at: MAX_FILES of them, the student's source files and
    (named without a suffix, as most are) folders first, so that saved figures or data in
    their hundreds never hide a homework file."""
    return sorted(folder.glob("*"), key=lambda entry: (
        entry.suffix not in SOURCE_SUFFIXES + ("",), entry.name))[:MAX_FILES]


def _candidates(paths: Sequence[Path]) -> dict[str, Path]:
    """Relative name -> file, for the files given and the top two levels of folders given
    (regular files of any size: one too large is said so where it is read)."""
    found: dict[str, Path] = {}
    for path in map(Path, paths):
        if path.is_dir() and not path.is_symlink():
            for entry in _entries(path):
                if entry.is_dir() and not entry.is_symlink():
                    for inner in _entries(entry):
                        if regular_file(inner, limit=None):
                            found[f"{entry.name}/{inner.name}"] = inner
                elif regular_file(entry, limit=None):
                    found[entry.name] = entry
        elif regular_file(path, limit=None):
            found[path.name] = path
    return found


def _failing_module(sentence: str) -> bytes:
    """A module that fails to import with `sentence`, the grader's own (see UNREADABLE): only
    the problems of its file fail."""
    return (f"class {UNREADABLE}(ImportError):\n    pass\n\n\n"
            f"raise {UNREADABLE}({sentence!r})\n").encode("utf-8")


def _notebook_module(path: Path, notes: list[str], cells: dict[str, str]) -> bytes:
    """A student's notebook as the source of the module it defines (see
    grader.submission.notebook); the reader's warnings (top-level code left out that the
    functions may need, cells Python cannot run) are added to `notes`, the submission's, not
    printed as if the student's code had printed them, and the source of its cells to `cells`.
    A file that is not a notebook becomes a module that fails with the reason, so only that
    assignment's problems fail."""
    from grader.submission.notebook import NotebookError, from_bytes
    data = read_bounded(path, limit=MAX_NOTEBOOK)
    try:
        if data is None:
            raise NotebookError(f"{path.name} is larger than {MAX_NOTEBOOK >> 20} MB or not a "
                                "regular file: clear its outputs and submit it again.")
        converted = from_bytes(data, path.name)
        notes += converted.warnings
        cells.update(converted.cells)
        return converted.source.encode("utf-8")
    except NotebookError as exc:
        return _failing_module(str(exc))


_DEF = re.compile(rb"^def[ \t]+(\w+)", re.MULTILINE)


def _functions_of(assignment, file: str) -> set[str]:
    """The graded functions a package assignment expects in one of its files."""
    module = Path(file).stem
    return {p.function for p in assignment.problems if p.module == module}


def _defines_any(path: Path, functions: set[str]) -> bool:
    """Whether a file defines one of `functions` at its top level (read, never run: a file
    named like another assignment's, such as optim.py, belongs to the package only then)."""
    data = read_bounded(path) or b""
    return any(name.decode("ascii", "replace") in functions for name in _DEF.findall(data))


def submission_files(course, paths: Sequence[Path | str], *, notes: list[str] | None = None,
                     cells: dict[str, str] | None = None) -> dict[str, Path | bytes]:
    """Where each of the student's files goes in the sandbox's folder, for every assignment of
    `course`: a single-file assignment's file by its name, or the module its notebook defines
    (`rnn.ipynb` for `rnn.py`, when there is no `rnn.py`); a package's files into the package
    folder (from `<package>/` in the submission, or else from its top level), with an empty
    `__init__.py` and the course's support modules (which replace any copy the student sent).
    What the student should know of how their files were read (a notebook's cells left out)
    is added to `notes`; the source of a notebook's cells, by the name their code runs under
    ("rnn.ipynb, cell 12"), to `cells`."""
    notes = [] if notes is None else notes
    cells = {} if cells is None else cells
    found = _candidates(list(paths))
    # the student's own modules (helpers their files import) come along
    files: dict[str, Path | bytes] = {name: path for name, path in found.items()
                                      if "/" not in name and path.suffix == ".py"}
    for assignment in course.assignments.values():
        if not assignment.package:
            module = f"{assignment.module}.py"
            notebook = found.get(f"{assignment.module}.ipynb")
            if module not in files and notebook is not None:
                files[module] = _notebook_module(notebook, notes, cells)
            for support in assignment.support:  # e.g. a notebook's testCases.py
                files[Path(support).name] = Path(support)
            continue
        package = assignment.package
        files.update({name: path for name, path in found.items()
                      if name.startswith(f"{package}/") and path.suffix == ".py"})
        files[f"{package}/__init__.py"] = b""
        claimed = {a.file for a in course.assignments.values() if not a.package}
        for name in assignment.files:
            source = found.get(f"{package}/{name}")
            loose = found.get(name)
            if source is None and loose is not None and (
                    name not in claimed or _defines_any(loose, _functions_of(assignment, name))):
                source = loose  # the package's files at the top level of the submission
            if source is not None:
                files[f"{package}/{name}"] = source
        for support in assignment.support:
            files[f"{package}/{Path(support).name}"] = Path(support)
    for name, source in files.items():
        if isinstance(source, Path) and not regular_file(source):  # a student's, too large
            files[name] = _failing_module(
                f"{source.name} is larger than {MAX_FILE >> 20} MB, more than a homework file "
                "may be: remove the data it holds (the grader gives your functions their inputs, "
                "and only .py and .ipynb files reach them), and submit it again.")
    return files


def source_files(paths: Sequence[Path]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each file a submission could be graded on, read safely (what a
    submission's fingerprint digests, and what the kit's check reads for imports)."""
    for name, path in sorted(_candidates(list(paths)).items()):
        if path.suffix in SOURCE_SUFFIXES:
            data = read_bounded(path, limit=limit_of(path))
            yield name, data if data is not None else b"<too large: %d bytes>" % _size(path)


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return -1


def students_of(paths: list[Path]) -> dict[str, list[Path]]:
    """Student name -> submission paths. A single submission given as files is one student."""
    paths = [Path(p) for p in paths]
    if all(p.is_dir() for p in paths):
        return {p.resolve().name: [p] for p in paths}
    return {paths[0].resolve().parent.name or "submission": paths}
