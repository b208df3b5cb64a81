"""Grading a class folder into an output folder (`grader grade`): plan which students need
grading, then grade them through pytest, one session per chunk of students, each session given
a `GradingSession` built here around one engine, one sandbox and one set of expected values for
the whole class. The chunks bound pytest's memory (its items) however large the class.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.batch import plan as planning
from grader.batch.outputs import ClassWriter
from grader.results.model import SubmissionResult

CHUNK = 200  # students per pytest session
ISOLATED_INI = Path(__file__).resolve().parent.parent / "cli" / "isolated.ini"


class Interrupted(Exception):
    """Grading was interrupted; every student graded so far is saved."""


@dataclass
class ClassRun:
    students: list[dict]  # every student of the class, as the class page lists them
    graded: int
    kept: int
    seconds: float


def run_pytest(*, plugins: list, args: tuple[str, ...] = ()) -> int:
    """pytest in this process with a configuration that nothing on disk can change: the
    grader's own empty ini file, no cache, no output of its own."""
    import pytest
    return int(pytest.main(["-c", str(ISOLATED_INI), "--rootdir", str(ISOLATED_INI.parent),
                            "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:logging",
                            "-p", "no:unraisableexception", "--capture=no", "--assert=plain",
                            *args], plugins=plugins))


def grade_folder(*, submissions: Path, out: Path, problems_dir: Path, reference_dir: Path,
                 jobs: int = 1, force: bool = False,
                 progress: Callable[[SubmissionResult], None] = lambda result: None,
                 on_plan: Callable[[int], None] = lambda count: None) -> ClassRun:
    """Grade every student folder of `submissions` that needs it into `out`."""
    from grader.course.manifest import load_course
    from grader.engine import Engine, start_sandbox
    from grader.pytest_plugin.session import GradingSession, students_of
    course = load_course(problems_dir, reference_dir)
    fingerprint = planning.course_fingerprint(problems_dir, reference_dir)
    todo, kept = planning.plan(submissions, out, fingerprint, force=force)
    on_plan(len(todo))
    start = time.monotonic()
    engine = Engine(course=course, hidden=True)
    if not todo:
        summary = ClassWriter(out, fingerprint, {}).finish()
        return ClassRun(summary.students, 0, len(kept), time.monotonic() - start)
    with start_sandbox(private=[problems_dir, reference_dir, submissions, out]) as sandbox:
        engine.sandbox = sandbox
        for first in range(0, len(todo), CHUNK):
            students = students_of(todo[first:first + CHUNK])
            writer = ClassWriter(out, fingerprint, students, class_files=False)

            def write(result, seconds, writer=writer):
                writer(result, seconds)
                progress(result)

            session = GradingSession(engine=engine, students=students, jobs=jobs, writer=write)
            code = run_pytest(plugins=[session])
            if code == 2:  # pytest's code for an interrupted session
                raise Interrupted()
            if code not in (0, 1):
                raise RuntimeError(f"the grading session ended with pytest exit code {code}")
            del session
    summary = ClassWriter(out, fingerprint, {}).finish()
    return ClassRun(summary.students, len(todo), len(kept), time.monotonic() - start)
