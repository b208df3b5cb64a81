"""The state of one grading pytest session, `GradingSession`: the engine it grades with, the
students, the results kept in memory (`results`, public for tests and callers) and the outcome
of each item. It is a plugin object: the CLI builds one and passes it to `pytest.main`, and
`pytest --submission PATH` builds one from the options (see grader.pytest_plugin.plugin).
Items are made before `-k`, `-m` and `--deselect` filter them, and each student is graded on
the problems whose items remain; with `per_student` (as `grader grade` grades a class), there is
one item per student, graded on every problem. A student's files are written as soon as the
student is graded, so stopping early (`-x`, `--maxfail`, Ctrl-C) never loses a graded student;
the files of the whole session (results.json, the class files) at its end, each named in the
terminal summary.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.pytest_plugin.items import ProblemItem, Problems, StudentItem
from grader.pytest_plugin.state import STATE
from grader.results.model import SubmissionResult

class GradingSession:
    """Grades the students of one pytest session with `engine`; see the module docstring.
    `writer`, when given, is called with each result as soon as it is computed (after the
    `pytest_grader_submission_graded` hook); `results_path` receives one student's
    results.json at the end of the session; `on_finish`, called then too, writes files from
    every student graded and returns their paths; `on_close` is called when pytest is done;
    `per_student` makes one item per student rather than one per student and problem."""

    def __init__(self, *, engine, students: dict[str, list[Path]], jobs: int = 1,
                 writer=None, results_path: Path | None = None, on_finish=None, on_close=None,
                 per_student: bool = False):
        self.engine, self.students, self.jobs = engine, students, max(1, jobs)
        self.per_student = per_student
        self.writer, self.results_path = writer, results_path
        self.on_finish, self.on_close = on_finish, on_close
        self.config = None
        self.results: dict[str, SubmissionResult] = {}
        self.times: dict[str, float] = {}
        self.outcomes: dict[str, str] = {}  # nodeid -> passed / failed / error in setup ...
        self.selected: dict[str, list[str]] = {}
        self.failures: dict[str, str] = {}  # student -> the grader's own error grading them
        self.written: list[str] = []
        self._stream = None

    # -- configuration ---------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config):
        if config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None):
            raise pytest.UsageError("grader does not run under pytest-xdist (-n): its sandbox "
                                    "already grades in parallel; use --grader-jobs N instead.")
        self.config = config
        config.stash[STATE] = self

    def pytest_unconfigure(self, config):
        if config.stash.get(STATE, None) is self:
            del config.stash[STATE]
        if self._stream is not None:
            self._stream.close()
        if self.on_close is not None:
            self.on_close()

    # -- collection ------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session):
        """pytest's collection phase, as its documentation of this hook lays it out, with one
        collector, the session's problems, in place of test files: no file is collected in a
        grading session. Items are made before `-k`, `-m` and `--deselect` filter them."""
        hook, config = session.config.hook, session.config
        collector = Problems.from_parent(session, name="grader", nodeid="grader")
        hook.pytest_collectstart(collector=collector)
        report = hook.pytest_make_collect_report(collector=collector)
        items = list(report.result) if report.passed else []
        for item in items:
            hook.pytest_itemcollected(item=item)
        hook.pytest_collectreport(report=report)
        session.items = items
        hook.pytest_collection_modifyitems(session=session, config=config, items=items)
        hook.pytest_collection_finish(session=session)
        session.testscollected = len(items)
        return True

    def items(self, parent) -> list:
        """The session's items, children of `parent`: one per student, or one per student and
        problem."""
        from grader.report.terminal import printable  # a folder's name, shown not obeyed
        if self.per_student:
            return [StudentItem.from_parent(parent, name=printable(student),
                                            nodeid=printable(student), student=student)
                    for student in self.students]
        several = len(self.students) > 1
        items = []
        for student in self.students:
            for planned in self.engine.plan:
                problem = planned.problem.id
                nodeid = f"{problem}[{printable(student)}]" if several else problem
                items.append(ProblemItem.from_parent(parent, name=nodeid, nodeid=nodeid,
                                                     student=student, problem_id=problem))
        return items

    def pytest_collection_finish(self, session):
        every = [p.problem.id for p in self.engine.plan]
        for item in session.items:
            if isinstance(item, ProblemItem):
                self.selected.setdefault(item.student, []).append(item.problem_id)
            elif isinstance(item, StudentItem):
                self.selected[item.student] = every

    # -- running ---------------------------------------------------------------------------
    def _graded(self):
        order = [(s, self.students[s]) for s in self.students if s in self.selected]
        problems = {tuple(v) for v in self.selected.values()}
        chosen = list(problems.pop()) if len(problems) == 1 else None
        for (student, _), (result, seconds) in zip(order, self.engine.grade_many(
                order, jobs=self.jobs, problems=chosen)):
            if chosen is None:  # students with different selections
                result.problems = [p for p in result.problems
                                   if p.problem_id in self.selected[student]]
            yield result, seconds

    def result(self, student: str) -> SubmissionResult:
        """The student's result, graded on first request (students come in order)."""
        if student not in self.results:
            if self._stream is None:
                self._stream = self._graded()
            for result, seconds in self._stream:
                self.times[result.student] = seconds
                self.config.hook.pytest_grader_submission_graded(result=result,
                                                                 config=self.config)
                if self.writer is not None:
                    self.writer(result, seconds)
                self.results[result.student] = result
                if result.student == student:
                    break
        return self.results[student]

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.nodeid] = (report.outcome if report.when == "call"
                                            else f"error in {report.when}")

    # -- output ----------------------------------------------------------------------------
    def pytest_sessionfinish(self, session):
        if self.results_path and self.results:
            from grader.batch.outputs import atomic_write
            from grader.results.gradescope import to_gradescope
            (student,) = self.results
            data = to_gradescope(self.results[student], execution_time=self.times[student])
            Path(self.results_path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(Path(self.results_path), json.dumps(data, indent=2))
            self.written.append(str(self.results_path))
        if self.on_finish is not None:
            self.written += map(str, self.on_finish())

    def pytest_terminal_summary(self, terminalreporter):
        for path in self.written:
            terminalreporter.write_sep("-", f"generated file: {path}")

