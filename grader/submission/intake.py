"""A submission as a student hands it in, made ready to grade, the same way in `grader check`,
`grader grade` and the Gradescope run: a zip (the submission itself, or the one zip a folder
holds instead of the course's files) unpacked safely into a scratch folder
(grader.submission.archive); the single nested folder that holds the course's files used instead
of the top, and said so; and notes for the student about an empty submission or a file whose
name is almost the expected one (grader.submission.lms). Also: which assignments of a course a
submission holds files of, so that a student on one homework is checked on that homework only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from grader.submission import archive, lms
from grader.submission.collect import regular_file

NOTEBOOK = ".ipynb"  # a single-file assignment's module may be handed in as a notebook


@dataclass
class Intake:
    """What to grade (`paths`, given to the engine) and what to tell the student (`notes`)."""
    paths: list[Path]
    notes: list[str] = field(default_factory=list)


def expected_files(course, assignments: Iterable[str] | None = None) -> list[str]:
    """The file names students hand in for the course (or for `assignments`), in its order."""
    names: list[str] = []
    for name, assignment in course.assignments.items():
        if assignments is None or name in assignments:
            names += [f for f in assignment.student_files() if f not in names]
    return names


def packages(course, assignments: Iterable[str] | None = None) -> list[str]:
    return [a.package for name, a in course.assignments.items()
            if a.package and (assignments is None or name in assignments)]


def alternatives(course, assignments: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Expected file -> other names accepted in its place: a single-file assignment's module
    may come as a notebook (`rnn.ipynb` for `rnn.py`), or as a .py file for a notebook."""
    return {a.file: alternatives_of(a) for name, a in course.assignments.items()
            if not a.package and (assignments is None or name in assignments)}


def accepted(assignment) -> list[str]:
    """The names under which the files of an assignment are graded."""
    if assignment.package:
        return list(assignment.files)
    return [assignment.file, *alternatives_of(assignment)]


def alternatives_of(assignment) -> list[str]:
    names = [f"{assignment.module}.py", f"{assignment.module}{NOTEBOOK}"]
    return [n for n in names if n != assignment.file]


def describe_files(assignment) -> str:
    """The files of an assignment as a student reads them ("cs231n/optim.py, ...")."""
    if assignment.package:
        return ", ".join(f"{assignment.package}/{f}" for f in assignment.files)
    return assignment.file


def _lone_zip(folder: Path, course, assignments=None) -> Path | None:
    """The zip to unpack when a folder holds one zip and none of the course's files (whatever
    its size: `prepare` says when it is too large to unpack)."""
    expected, others = expected_files(course, assignments), alternatives(course, assignments)
    held = packages(course, assignments)
    if lms.find_nested(folder, expected, held, others) is not None or \
            lms.at_top(folder, expected + [n for v in others.values() for n in v], held):
        return None
    zips = [p for p in folder.iterdir() if p.suffix.lower() == ".zip"
            and regular_file(p, limit=None)]
    return zips[0] if len(zips) == 1 else None


def _too_large(name: str) -> str:
    return (f"Your zip file {name} was not unpacked: it is not a regular file, or it is larger "
            f"than {archive.MAX_BYTES >> 20} MB.")


def prepare(paths: Sequence[Path | str], course, scratch: Path,
            assignments: Iterable[str] | None = None) -> Intake:
    """The submission at `paths` made ready to grade for the course's `assignments` (all for
    None); `scratch` is a folder, made only when needed (a zip is unpacked there), that the
    caller removes after grading. Files given one by one are graded as given."""
    assignments = list(assignments) if assignments else None
    paths = [Path(p) for p in paths]
    given = [p.name for p in paths if p.is_file() and p.suffix.lower() != ".zip"]
    if given and len(given) == len(paths):  # files one by one: only their names are said
        return Intake(paths, lms.given_near_misses(given, expected_files(course, assignments),
                                                   alternatives(course, assignments)))
    if len(paths) != 1:
        return Intake(paths)
    (path,) = paths
    notes: list[str] = []
    if path.is_file() and path.suffix.lower() == ".zip":
        zipped = path if regular_file(path, limit=archive.MAX_BYTES) else None
        if zipped is None:
            Path(scratch).mkdir(parents=True, exist_ok=True)  # graded as an empty submission
            return Intake([Path(scratch)], [_too_large(path.name)])
    elif path.is_dir() and not path.is_symlink():
        zipped = _lone_zip(path, course, assignments)
        if zipped is not None and not regular_file(zipped, limit=archive.MAX_BYTES):
            notes.append(_too_large(zipped.name))  # the folder is graded as it is
            zipped = None
    else:
        return Intake(paths)
    folder = path
    if zipped is not None:
        folder = Path(scratch) / "unzipped"
        try:
            archive.unpack(zipped, folder)
        except archive.ArchiveError as exc:
            return Intake([folder], [str(exc)])
        notes.append(f"The files inside your zip file {zipped.name} were graded.")
    expected, others = expected_files(course, assignments), alternatives(course, assignments)
    held = packages(course, assignments)
    nested = lms.find_nested(folder, expected, held, others)
    shown = ", ".join(describe_files(a) for name, a in course.assignments.items()
                      if assignments is None or name in assignments)
    notes += lms.near_misses(folder, expected, held, others, shown=shown)
    return Intake([nested or folder], notes)


def _names(paths: Sequence[Path], package_names: Sequence[str]) -> tuple[set, dict]:
    """The regular file names at the top of a submission, and in each package folder."""
    top: set[str] = set()
    inside: dict[str, set[str]] = {p: set() for p in package_names}
    for path in map(Path, paths):
        if path.is_dir() and not path.is_symlink():
            top |= {p.name for p in path.iterdir() if regular_file(p, limit=None)}
            for package in package_names:
                folder = path / package
                if folder.is_dir() and not folder.is_symlink():
                    inside[package] |= {p.name for p in folder.iterdir()
                                        if regular_file(p, limit=None)}
        elif regular_file(path, limit=None):
            top.add(path.name)
    return top, inside


def survey(course, paths: Sequence[Path], *, similar: bool = False) -> tuple[list[str], dict]:
    """(the assignments of `course` whose files the submission holds, in the course's order;
    file name -> the package assignment that took it). A package's files count in its folder,
    or at the top when one of them is no other assignment's file: then the top's files are
    the package's. With `similar`, a file whose name differs only in case or extension counts
    too (see grader.submission.lms)."""
    assignments = list(course.assignments.values())
    top, inside = _names(paths, packages(course))

    def holds(names: set, wanted: Iterable[str]) -> set:
        return {w for w in wanted if any(n == w or (similar and lms.similar(n, w))
                                         for n in names)}

    claimed = {n for a in assignments if not a.package for n in accepted(a)}
    found, taken = set(), {}
    for assignment in assignments:
        if not assignment.package:
            continue
        if holds(inside[assignment.package], assignment.files):
            found.add(assignment.name)
        else:
            loose = holds(top, assignment.files)
            if loose - claimed:
                found.add(assignment.name)
                taken.update({name: assignment.name for name in loose})
    for assignment in assignments:
        if not assignment.package and holds(top, set(accepted(assignment)) - set(taken)):
            found.add(assignment.name)
    return [a.name for a in assignments if a.name in found], taken


def assignments_found(course, paths: Sequence[Path], *, similar: bool = False) -> list[str]:
    """The assignments of `course` whose files the submission holds (see `survey`)."""
    return survey(course, paths, similar=similar)[0]
