"""The student self-check (`grader check`): the public cases of a course, or of a student kit,
run on one submission through the engine and the sandbox, with no pytest session."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from grader.results.model import SubmissionResult


def self_check(*, paths: Sequence[Path], problems_dir: Path = Path("problems"),
               reference_dir: Path = Path("reference"), kit: Path | None = None,
               problems: Sequence[str] | None = None) -> SubmissionResult:
    """Grade `paths` (a folder, or the student's files) on the public cases. Raises
    ManifestError for a broken course or kit and UnknownProblem for a bad problem id."""
    from grader.course.manifest import load_course
    from grader.engine import Engine, start_sandbox
    from grader.pytest_plugin.session import students_of
    expectations = None
    if kit is not None:
        from grader.course.kit import load_kit
        course, expectations = load_kit(kit)
        private = [kit]
    else:
        course = load_course(problems_dir, reference_dir)
        private = [problems_dir, reference_dir]
    engine = Engine(course=course, hidden=False, problems=problems or None,
                    expectations=expectations)
    ((student, submission),) = students_of(list(paths)).items()
    with start_sandbox(private=private) as sandbox:
        engine.sandbox = sandbox
        return engine.grade(student, submission)
