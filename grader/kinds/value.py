"""The value kind: the answer is compared with the reference's within the problem's
tolerances, and a wrong answer that matches a declared mistake's value leads with its message.
"""
from __future__ import annotations

from grader.compare.message import render
from grader.compare.mismatch import compare, matches
from grader.kinds.base import Expected, Kind, Verdict, run_mistake, run_trusted


class ValueKind(Kind):
    name = "value"
    deterministic = True  # a comparison or a statistical test of the answers alone

    def expected(self, course, problem, case) -> Expected:
        return Expected(run_trusted(course, problem, case),
                        [(mistake, run_mistake(course, problem, case, mistake))
                         for mistake in problem.mistakes if mistake.function is not None])

    def verdict(self, problem, case, values, expected, course) -> Verdict:
        (answer,) = values
        mismatch = compare(answer, expected.value, problem.tolerance_for)
        if mismatch is None:
            return Verdict(None)
        mistake = next((mistake for mistake, value in expected.mistakes
                        if matches(answer, value, problem.tolerance_for)), None)
        return Verdict(render(mismatch), mistake, mismatch)
