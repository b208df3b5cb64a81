"""The value kind: the answer is compared with the reference's within the problem's
tolerances, and a wrong answer that matches a declared mistake's value leads with its message.
"""
from __future__ import annotations

from grader.compare.message import render
from grader.compare.mismatch import compare
from grader.kinds.base import Expected, Kind, Verdict, run_trusted


class ValueKind(Kind):
    name = "value"

    def expected(self, course, problem, case) -> Expected:
        value = run_trusted(course, problem, case)
        mistakes = []
        for mistake in problem.mistakes:
            if mistake.function is None:
                continue
            wrong = course.reference_function(problem.assignment, mistake.function,
                                               problem.module)
            if problem.driver:
                replaced = {mistake.replaces or problem.function: wrong}
                mistakes.append((mistake, run_trusted(course, problem, case, replace=replaced)))
            else:
                mistakes.append((mistake, run_trusted(
                    course, problem, case, replace={problem.function: wrong})))
        return Expected(value, mistakes)

    def verdict(self, problem, case, values, expected, course) -> Verdict:
        (answer,) = values
        mismatch = compare(answer, expected.value, problem.tolerance_for)
        if mismatch is None:
            return Verdict(None)
        mistake = next((mistake for mistake, value in expected.mistakes
                        if compare(answer, value, problem.tolerance_for) is None), None)
        return Verdict(render(mismatch), mistake, mismatch)
