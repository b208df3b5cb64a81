"""The test items of a grading session, collected by one collector, `Problems`: one per
(student, problem), named by the problem id (`rnn.bptt_grads`, or `rnn.bptt_grads[alice]` when
several students are graded), or, for a class graded by `grader grade`, one per student, named
by the student (`alice`), which passes when every problem does."""
from __future__ import annotations

import pytest

from grader.pytest_plugin.state import session_of


class Problems(pytest.Collector):
    """The one collector of a grading session: its items (see GradingSession.items)."""

    def collect(self):
        return session_of(self.config).items(self)


class ProblemFailed(Exception):
    """Raised by a problem item whose cases did not all pass; carries the feedback."""


class GraderFailed(Exception):
    """Raised by a problem item on which the grader itself failed (not the student)."""


class GradingItem(pytest.Item):
    """What the items of a grading session share: the student, the `grader` marker, and a
    failure shown as the grader's feedback rather than a traceback."""

    def __init__(self, *, student: str, **kwargs):
        super().__init__(**kwargs)
        self.student = student
        self.add_marker(pytest.mark.grader)
        self.user_properties.append(("grader_student", student))

    def graded(self):
        """The student's result (graded on first request). What keeps the grader from grading
        the student is kept on the session too (see GradingSession.failures)."""
        session = session_of(self.config)
        try:
            return session.result(self.student)
        except Exception as exc:
            session.failures.setdefault(self.student, f"{type(exc).__name__}: {exc}"[:300])
            raise

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, (ProblemFailed, GraderFailed)):
            from grader.report.terminal import printable
            return printable(str(excinfo.value))  # the terminal shows, not obeys, a submission
        return super().repr_failure(excinfo)


class ProblemItem(GradingItem):
    """One problem of one student: passes when every case of the problem does."""

    def __init__(self, *, problem_id: str, **kwargs):
        super().__init__(**kwargs)
        self.problem_id = problem_id

    def runtest(self):
        problem = next(p for p in self.graded().problems if p.problem_id == self.problem_id)
        if problem.grader_error:
            raise GraderFailed(problem.feedback())
        if not problem.passed:
            raise ProblemFailed(f"{problem.points:g} / {problem.max_points:g} points\n"
                                + problem.feedback())

    def reportinfo(self):
        return self.student, None, self.problem_id


class StudentItem(GradingItem):
    """One student on every problem: passes when every problem does."""

    def runtest(self):
        from grader.results.model import has_grader_error
        result = self.graded()
        if has_grader_error(result):
            raise GraderFailed(result.grader_error or "the grader failed on "
                               + ", ".join(p.problem_id for p in result.problems
                                           if p.grader_error))
        failed = [p.problem_id for p in result.problems if not p.passed]
        if failed:
            raise ProblemFailed(f"{result.score:g} / {result.max_score:g} points; not passed: "
                                + ", ".join(failed))

    def reportinfo(self):
        return self.student, None, self.student
