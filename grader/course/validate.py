"""The instructor's check of a course (`grader validate`): every manifest loads; the reference
reproduces the known numbers; every declared mistake differs from the reference on at least one
case; every derivative problem agrees with central finite differences of the function it
differentiates; generators are deterministic per seed; and the reference, graded as a student
through the sandbox with hidden cases, earns full marks.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from grader.course.cases import HIDDEN, cases_for, generate
from grader.compare.mismatch import compare
from grader.course.manifest import Course, ManifestError, Problem, Tolerance, load_course

FD_STEP = 1e-6
FD_TOLERANCE = Tolerance(rtol=1e-5, atol=1e-7)
EXACT = Tolerance(0.0, 0.0)


def _at(value, path):
    for key in path:
        value = value[key]
    return value


def numeric_derivative(f: Callable, args: dict, name: str) -> np.ndarray:
    """Central differences of f(**args) with respect to args[name]; shape out.shape + x.shape."""
    x = np.asarray(args[name], dtype=float)
    columns = []
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += FD_STEP
        down[index] -= FD_STEP
        columns.append((np.asarray(f(**{**args, name: up}), dtype=float)
                        - np.asarray(f(**{**args, name: down}), dtype=float)) / (2 * FD_STEP))
    stacked = np.stack(columns, axis=-1)
    return stacked.reshape(stacked.shape[:-1] + x.shape)


def _derivative_findings(course: Course, problem: Problem, cases) -> list[str]:
    d = problem.derivative
    reference = lambda name: course.reference_function(problem.assignment, name)  # noqa: E731
    findings = []
    for case in cases:
        args = dict(case.args)
        if d.point is not None:
            extra = reference(d.point)(**case.args)
            args.update({name: extra for name in d.wrt if name not in args})
        answer = reference(problem.function)(**case.args)
        parts = ([answer[name] for name in d.wrt] if isinstance(answer, dict)
                 else list(answer) if isinstance(answer, tuple) else [answer])
        for name, analytic in zip(d.wrt, parts):
            numeric = numeric_derivative(reference(d.of), args, name)
            message = compare(analytic, numeric, FD_TOLERANCE)
            if message:
                findings.append(f"{problem.id}: case {case.id}: the reference's derivative with "
                                f"respect to {name} disagrees with finite differences of "
                                f"{d.of}:\n{message}")
    return findings


def check_problem(course: Course, problem: Problem) -> list[str]:
    findings = []
    cases = cases_for(course, problem, hidden=True)
    reference = course.reference_function(problem.assignment, problem.function)
    outputs = {}
    for case in cases:
        try:
            outputs[case.id] = reference(**case.args)
        except Exception as exc:  # the course's reference is broken
            findings.append(f"{problem.id}: case {case.id}: the reference raised "
                            f"{type(exc).__name__}: {exc}")
    for case in cases:
        for known in case.known:
            if case.id not in outputs:
                continue
            try:
                got = _at(outputs[case.id], known.at)
            except (KeyError, IndexError, TypeError):
                findings.append(f"{problem.id}: case {case.id}: the output has no element at "
                                f"{list(known.at)}")
                continue
            message = compare(got, known.value, Tolerance(0.0, known.atol))
            if message:
                findings.append(f"{problem.id}: case {case.id}: the reference does not reproduce "
                                f"the known value at {list(known.at)}:\n{message}")
    for mistake in problem.mistakes:
        wrong = course.reference_function(problem.assignment, mistake.function)
        if all(compare(wrong(**c.args), outputs[c.id], problem.tolerance_for) is None
               for c in cases if c.id in outputs):
            findings.append(f"{problem.id}: mistake {mistake.function} gives the reference's "
                            "answer on every case, so it can never be recognised")
    if problem.derivative is not None and len(outputs) == len(cases):
        findings += _derivative_findings(course, problem, cases[:4])
    if problem.generator is not None:
        seed = course.assignments[problem.assignment].hidden_seed
        first = generate(course, problem, seed, HIDDEN, 1)
        if compare(generate(course, problem, seed, HIDDEN, 1), first, EXACT) is not None:
            findings.append(f"{problem.id}: generator {problem.generator} is not deterministic "
                            "for a given seed (does it use global random state?)")
        elif compare(generate(course, problem, seed + 1, HIDDEN, 1), first, EXACT) is None:
            findings.append(f"{problem.id}: generator {problem.generator} ignores its seed")
    return findings


def validate(problems_dir: Path | str, reference_dir: Path | str,
             *, progress: Callable[[str], None] = lambda line: None) -> list[str]:
    """All findings about the course; an empty list means it is sound."""
    try:
        course = load_course(problems_dir, reference_dir)
    except ManifestError as exc:
        return [str(exc)]
    findings = []
    for problem in course.problems:
        found = check_problem(course, problem)
        progress(f"{problem.id}: {'ok' if not found else 'FAILED'}")
        findings += found
    if not findings:
        findings += _grade_reference(course, reference_dir)
    return findings


def _grade_reference(course: Course, reference_dir) -> list[str]:
    """The reference, as a student, through the sandbox: anything but full marks is a finding."""
    from grader.engine import Grader
    from grader.sandbox.host import Sandbox
    with Sandbox() as sandbox:
        result = Grader(course, sandbox, hidden=True).grade("reference", [Path(reference_dir)])
    return [f"{p.problem_id}: the reference, graded as a student, earns {p.points:g} of "
            f"{p.max_points:g} points:\n{p.feedback()}"
            for p in result.problems if not math.isclose(p.points, p.max_points)]
