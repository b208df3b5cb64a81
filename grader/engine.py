"""The grading core shared by the self-check, the plugin, batch grading and the Gradescope run:
plan the calls for a submission (problems x cases), run them in the sandbox, compare each
answer with the reference's (computed once, in this process, never sent to the child), match
known mistakes, and build the `SubmissionResult`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

from grader.kinds import stats
from grader.course.cases import Case, cases_for
from grader.compare.mismatch import compare
from grader.course.manifest import Course, Problem, Tolerance
from grader.results.model import CaseResult, ProblemResult, SubmissionResult
from grader.sandbox.host import Call, Outcome, Sandbox, SandboxLimits

SAMPLER_CALLS = 3  # seed, the same seed again, another seed


@dataclass
class Expected:
    value: object
    mistakes: list  # (message, value)
    error: str | None = None


def submission_sources(paths: Sequence[Path | str]) -> list[Path]:
    """The student's Python files: a directory's top-level *.py files, or the files given."""
    sources = []
    for path in map(Path, paths):
        sources += sorted(path.glob("*.py")) if path.is_dir() else [path]
    return sources


class Grader:
    """Grades submissions against a course; reference answers are cached across students."""

    def __init__(self, course: Course, sandbox: Sandbox | None, *, hidden: bool,
                 problems: Sequence[str] | None = None, hidden_seed: int | None = None,
                 expectations: dict | None = None):
        """`expectations`, when given, holds the expected values by (problem id, case id)
        (a student kit); otherwise the course's reference computes them."""
        self.course, self.sandbox = course, sandbox
        chosen = [p for p in course.problems if problems is None or p.id in problems]
        if problems is not None:
            unknown = sorted(set(problems) - {p.id for p in chosen})
            if unknown:
                raise KeyError(f"unknown problem id {unknown[0]}")
        self.plan: list[tuple[Problem, list[Case]]] = [
            (p, cases_for(course, p, hidden=hidden, hidden_seed=hidden_seed)) for p in chosen]
        self.limits = SandboxLimits(
            memory_mb=max(p.limits.memory_mb for p in chosen),
            submission_time=max(p.limits.submission_time for p in chosen),
            output_chars=max(p.limits.output_kb for p in chosen) * 1024,
            processes=max(p.limits.processes for p in chosen))
        self._expected: dict[tuple[str, str], Expected] = dict(expectations or {})

    def expected(self, case: Case) -> Expected:
        key = (case.problem.id, case.id)
        if key not in self._expected:
            self._expected[key] = self._compute(case)
        return self._expected[key]

    def _compute(self, case: Case) -> Expected:
        problem = case.problem
        reference = self.course.reference_function
        try:
            if problem.check == "sampler":
                value = (reference(problem.assignment, problem.function)(**case.args),
                         reference(problem.assignment, problem.distribution)(**case.args))
                return Expected(value, [])
            value = reference(problem.assignment, problem.function)(**case.args)
            mistakes = [(m.message, reference(problem.assignment, m.function)(**case.args))
                        for m in problem.mistakes]
        except Exception as exc:  # a bug in the course's reference code
            return Expected(None, [], f"the reference for {problem.id} failed on case "
                                      f"{case.id}: {type(exc).__name__}: {exc}")
        return Expected(value, mistakes)

    @cached_property
    def calls(self) -> list[Call]:
        """Every call a submission gets, built once: each Call encodes its request once."""
        calls = []
        for problem, cases in self.plan:
            file = self.course.assignments[problem.assignment].file
            for case in cases:
                variants = [case.args]
                if problem.check == "sampler":
                    variants = [case.args, case.args, {**case.args, "seed": case.args["seed"] + 1}]
                for args in variants:
                    calls.append(Call(len(calls), file, problem.function, args,
                                      problem.limits.time, problem.id))
        return calls

    def grade(self, student: str, paths: Sequence[Path | str]) -> SubmissionResult:
        """Grade the submission at `paths` (a directory, or the student's files)."""
        sources = submission_sources(paths)
        outcomes = iter(self.sandbox.run(sources, self.calls, self.limits))
        result = SubmissionResult(student)
        for problem, cases in self.plan:
            graded = ProblemResult(problem.id, problem.points)
            for case in cases:
                count = SAMPLER_CALLS if problem.check == "sampler" else 1
                answers = [next(outcomes) for _ in range(count)]
                expected = self.expected(case)
                if expected.error:
                    graded.grader_error = expected.error
                    continue
                graded.cases.append(self.judge(case, answers, expected))
            result.problems.append(graded)
        return result

    def judge(self, case: Case, answers: list[Outcome], expected: Expected) -> CaseResult:
        problem = case.problem
        first = answers[0]
        verdict = CaseResult(case.id, case.visibility, False, output=first.output,
                             output_dropped=first.output_dropped)
        failed = next((a for a in answers if a.error is not None), None)
        if failed is not None:
            verdict.feedback, verdict.error_kind = str(failed.error), failed.error.kind
            return verdict
        if problem.check == "sampler":
            sample, distribution = expected.value
            message = compare(first.value, sample, Tolerance(math.inf, math.inf))
            if message is None:
                message = stats.check_sample(*(a.value for a in answers), distribution)
        else:
            message = compare(first.value, expected.value, problem.tolerance_for)
            if message is not None:
                for text, value in expected.mistakes:
                    if compare(first.value, value, problem.tolerance_for) is None:
                        verdict.mistake = text
                        message = f"Known mistake: {text}\n{message}"
                        break
        verdict.passed = message is None
        verdict.feedback = message or ""
        return verdict
