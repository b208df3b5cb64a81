"""The property kind, for answers that cannot be compared by value (random layers such as
dropout in train mode): the child returns what the problem's driver observes, and a trusted
check of the course, run in the grader, judges it. A check is `check(answer, expected, args,
compare)`, with `expected` the driver's observations of the reference and `compare(actual,
expected)` the value comparison at the problem's tolerance; it returns None or the feedback.
Known mistakes are trusted predicates `(answer, expected, args) -> bool`.
"""
from __future__ import annotations

import copy

from grader.compare.message import explain
from grader.kinds.base import Expected, Kind, Verdict, run_trusted


class PropertyKind(Kind):
    name = "property"
    # not deterministic (the default): a course's check may draw random numbers of its own

    def expected(self, course, problem, case) -> Expected:
        return Expected(run_trusted(course, problem, case))

    def verdict(self, problem, case, values, expected, course) -> Verdict:
        (answer,) = values
        checks = course.checks[problem.assignment]
        args = copy.deepcopy(case.args)
        message = getattr(checks, problem.checker)(
            answer, expected.value, args, lambda a, e: explain(a, e, problem.tolerance_for))
        if message is None:
            return Verdict(None)
        for mistake in problem.mistakes:
            if mistake.check and getattr(checks, mistake.check)(answer, expected.value, args):
                return Verdict(message, mistake)
        return Verdict(message)
