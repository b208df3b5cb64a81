"""What every problem kind provides to the engine, and what they share. A kind says which calls
the child makes for one case (`requests`), computes the expected value in the grader from the
course's trusted code (`expected`), and judges the child's answers (`judge`). The engine knows
nothing else about kinds, so a new kind is a new module here and one line in `grader.kinds.KINDS`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from grader.course.cases import Case
from grader.course.model import Course, Mistake, Problem
from grader.kinds.hints import with_hint
from grader.results.model import CaseResult


@dataclass
class Expected:
    """What a case expects: the value, the values of the known mistakes that can be compared
    by value, or the error that kept the course's code from computing them."""
    value: Any = None
    mistakes: list[tuple[Mistake, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class Verdict:
    """A kind's judgement of one case: the feedback (None when the answer passes), the known
    mistake it matches, and the structured difference behind the feedback, if any; `shown`,
    what reports show of the answers so judged, made once for all of them (see
    grader.kinds.verdicts.Verdicts.show)."""
    message: str | None
    mistake: Mistake | None = None
    mismatch: Any = None  # a grader.compare.mismatch.Mismatch
    shown: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Judged:
    """A judged case: its result, and what reports may show of it beyond the feedback (the
    structured difference and the student's value), and the verdict it comes from (None for
    an answer that is an error)."""
    result: CaseResult
    mismatch: Any = None
    value: Any = None
    verdict: Verdict | None = None


@dataclass
class Answer:
    """What the child sent back for one call (`digest`: of what its value was decoded from,
    see grader.sandbox.host.Outcome)."""
    value: Any = None
    error: Exception | None = None  # a grader.errors.SubmissionError
    output: str = ""
    output_dropped: int = 0
    digest: bytes | None = None


def arguments(case: Case, positional: bool) -> tuple[list, dict]:
    """The case's arguments as (positional, keyword), fresh copies each time: trusted code may
    change its arguments in place, and a case serves many students."""
    args = copy.deepcopy(case.args)
    return (list(args.values()), {}) if positional else ([], args)


def run_trusted(course: Course, problem: Problem, case: Case, *, replace: dict | None = None):
    """The problem's graded value computed by the course's reference (with functions of the
    reference module swapped by `replace`, for a known mistake): through the problem's driver
    when it has one, else by calling the function."""
    assignment = course.assignments[problem.assignment]
    module = course.reference_module(problem.assignment, problem.module)
    if replace:
        module = SimpleNamespace(**{**vars(module), **replace})
    if problem.driver:
        driver = getattr(course.drivers[problem.assignment], problem.driver)
        positional, _ = arguments(case, True)
        return driver(module, *positional)
    positional, keyword = arguments(case, assignment.positional)
    return getattr(module, problem.function)(*positional, **keyword)


def run_mistake(course: Course, problem: Problem, case: Case, mistake: Mistake):
    """A known mistake's value on a case: the problem's graded value with the mistake's
    function standing in for `replaces` (the problem's own function by default)."""
    wrong = course.reference_function(problem.assignment, mistake.function, problem.module)
    return run_trusted(course, problem, case, replace={mistake.replaces or problem.function: wrong})


# Ways a child can end while it imports a file: the whole file failed, as an import error does.
_ENDS_OF_AN_IMPORT = frozenset({"timeout", "memory", "crash", "exit"})


def failed(case: Case, answer: Answer) -> CaseResult:
    """The verdict on a call that did not return a value. The child ending while it imported
    the file (a time or memory limit, a crash, an exit) failed every problem of the file alike:
    its kind is "import", so that reports say it once, at the top."""
    kind = getattr(answer.error, "kind", "error")
    if kind in _ENDS_OF_AN_IMPORT and getattr(answer.error, "phase", None) == "import":
        kind = "import"
    return CaseResult(case.id, case.visibility, False, feedback=with_hint(str(answer.error)),
                      error_kind=kind, output=answer.output, output_dropped=answer.output_dropped)


class Kind:
    """The base of problem kinds; see the module docstring."""
    name = ""
    # True only for a kind whose verdict depends on nothing but the case and the answers'
    # exact contents: its verdicts may then be recalled (grader.kinds.verdicts)
    deterministic = False

    def requests(self, problem: Problem, case: Case) -> list[dict]:
        """The arguments of each call the child makes for this case (one call by default)."""
        return [case.args]

    def expected(self, course: Course, problem: Problem, case: Case) -> Expected:
        raise NotImplementedError

    def verdict(self, problem: Problem, case: Case, values: list, expected: Expected,
                course: Course | None) -> Verdict:
        """The judgement of the child's values for one case."""
        raise NotImplementedError

    def judge(self, problem: Problem, case: Case, answers: list[Answer], expected: Expected,
              course: Course | None = None, verdicts=None) -> Judged:
        """The case's result from the child's answers; `verdicts` (a
        grader.kinds.verdicts.Verdicts), when given, recalls the verdict on answers seen
        before."""
        broken = next((a for a in answers if a.error is not None), None)
        if broken is not None:
            return Judged(failed(case, broken))
        first = answers[0]
        values = [a.value for a in answers]
        verdict = verdicts.of(self, problem, case, values, expected, course,
                              digests=[a.digest for a in answers]) \
            if verdicts is not None else self.verdict(problem, case, values, expected, course)
        message, mistake = verdict.message, verdict.mistake
        if message is not None and problem.context:
            message = f"{problem.context}\n{message}"
        if mistake is not None:
            message = f"Known mistake: {mistake.message}\n{message}"
        result = CaseResult(case.id, case.visibility, message is None, feedback=message or "",
                            mistake=mistake.message if mistake else None, output=first.output,
                            output_dropped=first.output_dropped)
        return Judged(result, verdict.mismatch, first.value, verdict)
