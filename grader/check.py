"""The student self-check (`grader check`): the public cases of a course, or of a student kit,
run on one submission through the engine and the sandbox, with no pytest session. The
submission is taken as students make it (a zip, a nested folder: see grader.submission.intake),
and only the assignments whose files it holds are checked; the others are named as skipped.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from grader.course import PROBLEMS_DIR, REFERENCE_DIR
from grader.results.model import SubmissionResult


@dataclass
class Checked:
    """The outcome of a self-check: the result (with its notes), the assignments not checked
    (each with the reason), and the engine, which knows each case's inputs."""
    result: SubmissionResult
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (assignment, why)
    engine: object = None
    gaps: list[str] = field(default_factory=list)  # the sandbox's protections that were off

    def skipped_lines(self) -> list[str]:
        return [f"Not checked: {name} ({why})" for name, why in self.skipped]

    def reproduce(self, problem_id: str, case_id: str) -> str | None:
        """A public case as Python the student can paste (see Engine.reproduce)."""
        return self.engine.reproduce(problem_id, case_id)


def choose_problems(course, paths: Sequence[Path]) -> tuple[list[str] | None, list[tuple]]:
    """(the problem ids to check, the assignments skipped with the reason): the assignments
    whose files the submission holds, or a file of almost the right name (`RNN.py`: checked,
    so that its problems fail, saying the file is missing, rather than pass unnoticed);
    failing that, none (the submission's notes say what is missing). None: every assignment
    is checked."""
    from grader.submission.intake import describe_files, survey
    found, taken = survey(course, paths)
    if len(found) < len(course.assignments):  # and those named almost right
        nearly, taken_nearly = survey(course, paths, similar=True)
        if not found:
            found, taken = nearly, taken_nearly
        else:  # but not a file another assignment took
            found = [name for name, a in course.assignments.items() if name in found
                     or name in nearly and not any(f in taken for f in (a.file, *a.files))]
    if len(found) == len(course.assignments):
        return None, []
    skipped = []
    for name, assignment in course.assignments.items():
        if name in found:
            continue
        owner = next((taken[f] for f in (assignment.file, *assignment.files) if f in taken),
                     None)
        skipped.append((name, f"its file {assignment.file} is taken as part of {owner}, whose "
                              "other files are here too" if owner else
                              f"none of its files is in your submission: "
                              f"{describe_files(assignment)}"))
    return [p.id for p in course.problems if p.assignment in found], skipped


def _imports_missing_where_graded(course, paths: Sequence[Path], modules: set[str],
                                  result: SubmissionResult) -> list:
    """With a kit (on the student's machine, `modules` those sure to be where the course
    grades), a note for each file importing what may be missing there, but a file that did
    not load here either (`result` says why already)."""
    if not modules:
        return []
    from grader.results.summary import file_problems
    from grader.submission.imports import unavailable_notes
    course_modules = {a.package for a in course.assignments.values() if a.package} | {
        Path(s).stem for a in course.assignments.values() for s in a.support}
    failed = [f.message for f in file_problems(result)]
    return [note for name, note in unavailable_notes(paths, modules | course_modules).items()
            if not any(message.startswith(name) for message in failed)]


def self_check(*, paths: Sequence[Path], problems_dir: Path = Path(PROBLEMS_DIR),
               reference_dir: Path = Path(REFERENCE_DIR), kit: Path | None = None,
               problems: Sequence[str] | None = None, started: tuple | None = None) -> Checked:
    """Grade `paths` (a folder, a zip, or the student's files) on the public cases of the
    assignments found in it (or of `problems`). Raises ManifestError for a broken course or
    kit and UnknownProblem for a bad problem id."""
    from grader.engine import Engine, start_sandbox
    # the sandbox's zygote starts now, and boots while the course loads
    sandbox = start_sandbox(private=[kit] if kit is not None else [problems_dir, reference_dir],
                            started=started)
    try:
        from grader.course.manifest import load_course
        from grader.submission.collect import students_of
        from grader.submission.intake import prepare
        expectations, modules = None, set()
        if kit is not None:
            from grader.course.kit import load_kit
            course, expectations, modules = load_kit(kit)
        else:
            course = load_course(problems_dir, reference_dir)
        ((student, _),) = students_of(list(paths)).items()
        if Path(paths[0]).suffix.lower() == ".zip" and len(paths) == 1:
            student = Path(paths[0]).stem
        with tempfile.TemporaryDirectory(prefix="grader-check-") as scratch:
            intake = prepare(list(paths), course, Path(scratch))
            skipped: list[tuple[str, str]] = []
            if not problems:
                problems, skipped = choose_problems(course, intake.paths)
            engine = Engine(course=course, hidden=False, problems=problems,
                            expectations=expectations, sandbox=sandbox)
            result = engine.grade(student, intake.paths) if engine.plan \
                else SubmissionResult(student)  # none of the homework's files: nothing to run
            imports = _imports_missing_where_graded(course, intake.paths, modules, result)
            gaps = sandbox.gaps
    finally:
        sandbox.close(wait=False)  # it ends by itself: the self-check does not wait for it
    result.notes = intake.notes + result.notes + imports
    return Checked(result, skipped, engine, gaps)
