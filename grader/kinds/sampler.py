"""The sampler kind: a function drawing random numbers from a seed (such as
`layers.init_weights`) is judged statistically: structure as the reference's sample, the same
seed gives the same sample and another seed another, and the sample fits the distribution the
reference declares (see `grader.kinds.stats`).
"""
from __future__ import annotations

import math

from grader.compare.message import explain
from grader.course.model import Tolerance
from grader.kinds import stats
from grader.kinds.base import Expected, Kind, Verdict, run_trusted

ANY_VALUE = Tolerance(math.inf, math.inf)


class SamplerKind(Kind):
    name = "sampler"
    deterministic = True  # a comparison or a statistical test of the answers alone

    def requests(self, problem, case):
        """The seed, the same seed again, another seed."""
        return [case.args, case.args, {**case.args, "seed": case.args["seed"] + 1}]

    def expected(self, course, problem, case) -> Expected:
        distribution = course.reference_function(problem.assignment, problem.distribution,
                                                  problem.module)
        return Expected((run_trusted(course, problem, case), distribution(**case.args)))

    def verdict(self, problem, case, values, expected, course) -> Verdict:
        sample, distribution = expected.value
        message = explain(values[0], sample, ANY_VALUE)
        if message is None:
            message = stats.check_sample(*values, distribution)
        return Verdict(message)
