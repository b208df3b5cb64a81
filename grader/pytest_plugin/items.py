"""The test items of a grading session: one per (student, problem), named by the problem id
(`rnn.bptt_grads`, or `rnn.bptt_grads[alice]` when several students are graded)."""
from __future__ import annotations

import pytest


class ProblemFailed(Exception):
    """Raised by a problem item whose cases did not all pass; carries the feedback."""


class GraderFailed(Exception):
    """Raised by a problem item on which the grader itself failed (not the student)."""


class ProblemItem(pytest.Item):
    def __init__(self, *, student: str, problem_id: str, **kwargs):
        super().__init__(**kwargs)
        self.student, self.problem_id = student, problem_id
        self.add_marker(pytest.mark.grader)
        self.user_properties.append(("grader_student", student))

    def runtest(self):
        from grader.pytest_plugin.session import session_of
        result = session_of(self.config).result(self.student)
        problem = next(p for p in result.problems if p.problem_id == self.problem_id)
        if problem.grader_error:
            raise GraderFailed(problem.feedback())
        if not problem.passed:
            raise ProblemFailed(f"{problem.points:g} / {problem.max_points:g} points\n"
                                + problem.feedback())

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, (ProblemFailed, GraderFailed)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.student, None, self.problem_id
