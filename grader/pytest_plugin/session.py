"""The pytest plugin: `pytest --submission PATH` grades a submission, one test item per problem
(`rnn.bptt_grads`, or `rnn.bptt_grads[alice]` when several submissions are given). Options
live in the `grader` group; the plugin does nothing unless `--submission` is given. Its state
is one `GraderSession` under a `StashKey`; results stay in memory (`GraderSession.results`) and
`--results FILE` writes them as Gradescope results.json once, at session finish.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from grader.pytest_plugin.hookspecs import GraderHookSpecs
from grader.course.manifest import ManifestError, load_course
from grader.results.model import ProblemResult, SubmissionResult, to_gradescope


class ProblemFailed(Exception):
    """Raised by a problem item whose cases did not all pass; carries the feedback."""


def pytest_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(GraderHookSpecs)


def pytest_addoption(parser):
    group = parser.getgroup("grader", "grading student submissions")
    group.addoption("--submission", action="append", dest="grader_submissions", default=[],
                    metavar="PATH", help="a student's directory or file; repeat for several "
                    "students (each directory is one student). Enables the grader plugin.")
    group.addoption("--results", dest="grader_results", metavar="FILE", default=None,
                    help="write results.json (Gradescope format) for a single submission")
    group.addoption("--problems-dir", dest="grader_problems", metavar="DIR", default="problems",
                    help="directory of problem manifests (default: problems)")
    group.addoption("--reference-dir", dest="grader_reference", metavar="DIR",
                    default="reference", help="directory of reference solutions "
                    "(default: reference)")
    group.addoption("--kit", dest="grader_kit", metavar="DIR", default=None,
                    help="grade against a student kit (public cases and their expected values) "
                    "instead of --problems-dir/--reference-dir")
    group.addoption("--public-only", dest="grader_public_only", action="store_true",
                    help="run public cases only, as the student self-check does")
    group.addoption("--problem", dest="grader_problems_only", action="append", default=None,
                    metavar="ID", help="grade only this problem id (repeatable)")
    group.addoption("--out", dest="grader_out", metavar="DIR", default=None,
                    help="write each student's results.json, report.csv and report.html to "
                    "DIR/<student>/ as soon as the student is graded, and DIR/gradebook.csv "
                    "and DIR/index.html at the end")
    group.addoption("--out-students-only", dest="grader_students_only", action="store_true",
                    help="with --out: write each student's files but not gradebook.csv and "
                    "index.html (for a caller that writes those once, after several sessions)")
    group.addoption("--jobs", dest="grader_jobs", type=int, default=1, metavar="N",
                    help="grade up to N submissions at once (default: 1)")
    group.addoption("--hidden-seed", dest="grader_hidden_seed", type=int, default=None,
                    metavar="N", help="seed of the hidden cases (default: the manifest's)")


STATE = pytest.StashKey["GraderSession"]()


@dataclass(eq=False)  # a plugin object: hashed by identity
class SharedGrading:
    """Given as a plugin, lends its course, sandbox and grader (with its reference answers) to
    the session, which then leaves them open: a caller running several sessions sets them up
    once."""
    course: object
    sandbox: object
    grader: object


def students_of(paths: list[str]) -> dict[str, list[Path]]:
    """Student name -> submission paths. A single submission given as files is one student."""
    paths = [Path(p) for p in paths]
    if all(p.is_dir() for p in paths):
        return {p.resolve().name: [p] for p in paths}
    return {paths[0].resolve().parent.name or "submission": paths}


def _hideable(paths) -> list[Path]:
    """Directories the children must not see, minus any holding the scratch space."""
    temp = Path(tempfile.gettempdir()).resolve()
    keep = []
    for path in paths:
        path = Path(path).resolve()
        if path.is_dir() and path != Path("/") and path not in temp.parents and path != temp:
            keep.append(path)
    return keep


class GraderSession:
    """Grades the submissions of one pytest session and collects its per-problem reports."""

    def __init__(self, config):
        self.config = config
        option = config.option
        for path in option.grader_submissions:
            if not Path(path).exists():
                raise pytest.UsageError(f"--submission {path}: no such file or directory")
        self.students = students_of(option.grader_submissions)
        if option.grader_results and len(self.students) > 1:
            raise pytest.UsageError("--results writes one student's results.json; "
                                    "give a single --submission (or use `grader grade`)")
        shared = next((p for p in config.pluginmanager.get_plugins()
                       if isinstance(p, SharedGrading)), None)
        self.owns_sandbox = shared is None
        if shared is not None:  # a caller running several sessions keeps one course and sandbox
            self.course, self.sandbox, self.grader = shared.course, shared.sandbox, shared.grader
        else:
            self._set_up(option)
        self.results: dict[str, SubmissionResult] = {}
        self.times: dict[str, float] = {}
        self.outcomes: dict[str, str] = {}  # nodeid -> passed/failed/error
        self._items_left: dict[str, int] = {}
        self.written: list[str] = []
        self.jobs = max(1, option.grader_jobs)
        self._pool = ThreadPoolExecutor(self.jobs) if self.jobs > 1 else None
        self._futures: dict[str, Future] = {}
        self._order = list(self.students)
        self.writer = None
        if option.grader_out:
            from grader.batch.outputs import BatchWriter, course_fingerprint
            Path(option.grader_out).mkdir(parents=True, exist_ok=True)
            course = course_fingerprint(option.grader_problems, option.grader_reference,
                                        option.grader_hidden_seed)
            self.writer = BatchWriter(option.grader_out, course, self.students, self.times,
                                      class_files=not option.grader_students_only)
            config.pluginmanager.register(self.writer, "grader-batch-writer")

    def _set_up(self, option) -> None:
        from grader.engine import Grader
        from grader.sandbox.host import Sandbox
        expectations = None
        try:
            if option.grader_kit:
                from grader.course.kit import load_kit
                self.course, expectations = load_kit(option.grader_kit)
                hide = [Path(option.grader_kit)]
            else:
                self.course = load_course(option.grader_problems, option.grader_reference)
                hide = [option.grader_problems, option.grader_reference]
        except ManifestError as exc:
            raise pytest.UsageError(str(exc)) from None
        hide += [p for paths in self.students.values() for p in paths if Path(p).is_dir()]
        if option.grader_results:
            hide.append(Path(option.grader_results).resolve().parent)
        if option.grader_out:
            hide.append(Path(option.grader_out))
        self.sandbox = Sandbox(hide=_hideable(hide))
        try:
            self.grader = Grader(self.course, self.sandbox,
                                 hidden=not option.grader_public_only and not option.grader_kit,
                                 problems=option.grader_problems_only,
                                 hidden_seed=option.grader_hidden_seed, expectations=expectations)
        except KeyError as exc:
            self.sandbox.close()
            raise pytest.UsageError(f"--problem: {exc.args[0]}") from None

    # -- collection ------------------------------------------------------------------------
    def pytest_ignore_collect(self, collection_path, config):
        return True  # only problem items run in a grading session

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        several = len(self.students) > 1
        items[:] = []
        for student in self.students:
            for problem, _ in self.grader.plan:
                nodeid = f"{problem.id}[{student}]" if several else problem.id
                items.append(ProblemItem.from_parent(session, name=nodeid, nodeid=nodeid,
                                                     student=student, problem_id=problem.id))
            self._items_left[student] = len(self.grader.plan)

    # -- running ---------------------------------------------------------------------------
    def _grade(self, student: str) -> SubmissionResult:
        start = time.perf_counter()
        try:
            result = self.grader.grade(student, self.students[student])
        except Exception as exc:  # the grader failed, not the student: say so, go on
            result = SubmissionResult(student, grader_error=f"{type(exc).__name__}: {exc}")
            result.problems = [ProblemResult(p.id, p.points, grader_error=result.grader_error)
                               for p, _ in self.grader.plan]
        self.times[student] = time.perf_counter() - start
        return result

    def result(self, student: str) -> SubmissionResult:
        """The student's result, graded on first request. With --jobs N, the next students
        are graded ahead in N threads (each drives its own sandboxed child)."""
        if student in self.results:
            return self.results[student]
        if self._pool is None:
            self.results[student] = self._grade(student)
            return self.results[student]
        index = self._order.index(student)
        for ahead in self._order[index:index + 2 * self.jobs]:
            if ahead not in self._futures and ahead not in self.results:
                self._futures[ahead] = self._pool.submit(self._grade, ahead)
        self.results[student] = self._futures.pop(student).result()
        return self.results[student]

    def release(self, student: str) -> None:
        """Forget a written student's result, so batch memory stays flat."""
        self.results.pop(student, None)

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.nodeid] = (report.outcome if report.when == "call"
                                            else f"error in {report.when}")
        if report.when != "teardown":
            return
        student = dict(report.user_properties).get("grader_student")
        if student is None:
            return
        self._items_left[student] -= 1
        if self._items_left[student] == 0 and student in self.results:
            self.config.hook.pytest_grader_submission_graded(result=self.results[student],
                                                             config=self.config)
            if self.writer is not None:
                self.release(student)

    # -- output ----------------------------------------------------------------------------
    def pytest_sessionfinish(self, session):
        path = self.config.option.grader_results
        if path and self.results:
            (student,) = self.results
            from grader.batch.outputs import atomic_write
            data = to_gradescope(self.results[student], execution_time=self.times[student])
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(Path(path), json.dumps(data, indent=2))
            self.written.append(str(path))

    def pytest_terminal_summary(self, terminalreporter):
        for path in self.written:
            terminalreporter.write_sep("-", f"generated results file: {path}")

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        if self.owns_sandbox:
            self.sandbox.close()


class ProblemItem(pytest.Item):
    def __init__(self, *, student: str, problem_id: str, **kwargs):
        super().__init__(**kwargs)
        self.student, self.problem_id = student, problem_id
        self.user_properties.append(("grader_student", student))

    def runtest(self):
        state = self.config.stash[STATE]
        result = state.result(self.student)
        problem = next(p for p in result.problems if p.problem_id == self.problem_id)
        if not problem.passed:
            raise ProblemFailed(f"{problem.points:g} / {problem.max_points:g} points\n"
                                + problem.feedback())

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ProblemFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.student, None, self.problem_id


def pytest_configure(config):
    if config.option.grader_submissions and not hasattr(config, "workerinput"):
        state = GraderSession(config)
        config.stash[STATE] = state
        config.pluginmanager.register(state, "grader-session")


def pytest_unconfigure(config):
    state = config.stash.get(STATE, None)
    if state is not None:
        state.close()
        config.pluginmanager.unregister(state)
        if state.writer is not None:
            config.pluginmanager.unregister(state.writer)
        del config.stash[STATE]


def session_of(config) -> GraderSession | None:
    """The grading state of a pytest run (public accessor for tests and the CLI)."""
    return config.stash.get(STATE, None)
