"""The instructor's check of a course (`grader validate`): every manifest loads; every case can
be drawn; the reference answers every case with a value the grader can compare (no exception,
no None where a value is expected, no NaN, a type that crosses the sandbox) and reproduces the
known numbers; every per-output tolerance names an output of the answer; every declared
mistake runs and differs from the reference on some case; every derivative problem agrees
with central finite differences; property checks accept the
reference and recognise each declared mistake; samplers take a `seed` and declare, for every
case, a distribution the statistical check can judge against; generators are deterministic per
seed; and the reference, graded as a student through the sandbox with hidden cases, earns full
marks. Every problem found is a finding naming the file and the problem, never a traceback.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from grader.compare.message import explain
from grader.course.cases import HIDDEN, cases_for, generate
from grader.course.manifest import ManifestError, load_course
from grader.course.model import Course, Problem, Tolerance
from grader.kinds.base import run_mistake, run_trusted
from grader.kinds.stats import distribution_problem

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


def _output_findings(problem: Problem, answer) -> list[str]:
    """Per-output tolerances (`outputs`) that name no output of the reference's answer, a
    typo or an index into a single array: they would never be used."""
    keys = [str(k) for k in (answer if isinstance(answer, dict) else
                             range(len(answer)) if isinstance(answer, (tuple, list)) else [])]
    has = f"its outputs are {', '.join(map(repr, keys))}" if keys else \
        "it returns a single value: set the problem's own rtol and atol instead"
    return [f"{problem.id}: outputs.{key}: the reference's answer has no output {key!r} "
            f"({has}), so this tolerance would never be used"
            for key in problem.outputs if key not in keys]


def _unusable(value) -> str | None:
    """Why a reference answer cannot serve as an expected value, or None."""
    from grader.sandbox import wire
    if value is None:
        return "returned None"
    try:
        wire.encode(value)
    except wire.WireError as exc:
        return f"returned {exc}, which cannot be compared with a student's answer"
    arrays = [value] if isinstance(value, (np.ndarray, float)) else \
        list(value.values()) if isinstance(value, dict) else \
        list(value) if isinstance(value, (tuple, list)) else []
    for item in arrays:
        if isinstance(item, (np.ndarray, float)) and np.asarray(item).dtype.kind == "f" \
                and np.isnan(item).any():
            return "returned NaN"
    return None


def _derivative_findings(course: Course, problem: Problem, cases, outputs) -> list[str]:
    d = problem.derivative
    reference = lambda name: course.reference_function(problem.assignment, name)  # noqa: E731
    findings = []
    for case in cases:
        args = dict(case.args)
        if d.point is not None:
            extra = reference(d.point)(**case.args)
            args.update({name: extra for name in d.wrt if name not in args})
        answer = outputs[case.id]
        parts = ([answer[name] for name in d.wrt] if isinstance(answer, dict)
                 else list(answer) if isinstance(answer, tuple) else [answer])
        for name, analytic in zip(d.wrt, parts):
            numeric = numeric_derivative(reference(d.of), args, name)
            message = explain(analytic, numeric, FD_TOLERANCE, mine="reference")
            if message:
                findings.append(f"{problem.id}: case {case.id}: the reference's derivative with "
                                f"respect to {name} disagrees with finite differences of "
                                f"{d.of}:\n{message}")
    return findings


def _property_findings(course: Course, problem: Problem, cases, outputs) -> list[str]:
    checks = course.checks[problem.assignment]
    compare = lambda a, e: explain(a, e, problem.tolerance_for, mine="reference")  # noqa: E731
    findings = []
    for case in cases:
        try:
            message = getattr(checks, problem.checker)(outputs[case.id], outputs[case.id],
                                                        dict(case.args), compare)
        except Exception as exc:  # the course's check is broken
            return [f"{problem.id}: case {case.id}: the check {problem.checker} raised "
                    f"{course.failure(exc)}"]
        if message is not None:
            findings.append(f"{problem.id}: case {case.id}: the check {problem.checker} "
                            f"rejects the reference: {message}")
        for mistake in problem.mistakes:
            if not (mistake.function and mistake.check):
                continue
            try:
                answer = run_mistake(course, problem, case, mistake)
                rejected = getattr(checks, problem.checker)(answer, outputs[case.id],
                                                             dict(case.args), compare)
                recognised = getattr(checks, mistake.check)(answer, outputs[case.id],
                                                            dict(case.args))
            except Exception as exc:  # the course's code is broken
                findings.append(f"{problem.id}: mistake {mistake.function} raised "
                                f"{course.failure(exc)}")
                continue
            if rejected is None or not recognised:
                findings.append(f"{problem.id}: case {case.id}: the mistake {mistake.function} "
                                + ("passes the check" if rejected is None else
                                   f"is not recognised by {mistake.check}"))
    return findings


def check_problem(course: Course, problem: Problem) -> list[str]:
    """The findings about one problem, each naming its manifest."""
    manifest = course.assignments[problem.assignment].manifest
    return [f"{manifest}: {finding}" for finding in _problem_findings(course, problem)]


def _problem_findings(course: Course, problem: Problem) -> list[str]:
    try:
        cases = cases_for(course, problem, hidden=True)
    except Exception as exc:  # the course's generator is broken
        return [f"{problem.id}: the generator {problem.generator} failed: {course.failure(exc)}"]
    if problem.kind == "sampler":
        missing = [c.id for c in cases if "seed" not in c.args]
        if missing:
            return [f"{problem.id}: a sampler's cases need a 'seed' argument; case "
                    f"{missing[0]} has none"]
        distribution = course.reference_function(problem.assignment, problem.distribution,
                                                  problem.module)
        for case in cases:
            try:
                why = distribution_problem(distribution(**case.args))
            except Exception as exc:  # the course's distribution function is broken
                why = f"raised {course.failure(exc)}"
            if why:
                return [f"{problem.id}: case {case.id}: the distribution {problem.distribution} "
                        f"{why}"]
    findings, outputs = [], {}
    for case in cases:
        try:
            outputs[case.id] = run_trusted(course, problem, case)
        except Exception as exc:  # the course's reference is broken
            findings.append(f"{problem.id}: case {case.id}: the reference raised "
                            f"{course.failure(exc)}")
            continue
        why = _unusable(outputs[case.id])
        if why:
            findings.append(f"{problem.id}: case {case.id}: the reference {why}")
            del outputs[case.id]
    if outputs:
        findings += _output_findings(problem, next(iter(outputs.values())))
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
            message = explain(got, known.value, Tolerance(0.0, known.atol), mine="reference")
            if message:
                findings.append(f"{problem.id}: case {case.id}: the reference does not reproduce "
                                f"the known value at {list(known.at)}:\n{message}")
    if problem.kind == "property":
        findings += _property_findings(course, problem, [c for c in cases if c.id in outputs],
                                       outputs)
    for mistake in problem.mistakes:
        if mistake.function is None or problem.kind != "value":
            continue
        try:
            wrong = {c.id: run_mistake(course, problem, c, mistake)
                     for c in cases if c.id in outputs}
        except Exception as exc:  # the course's mistake function is broken
            findings.append(f"{problem.id}: mistake {mistake.function} raised "
                            f"{course.failure(exc)}")
            continue
        if all(explain(wrong[c], outputs[c], problem.tolerance_for) is None for c in wrong):
            findings.append(f"{problem.id}: mistake {mistake.function} gives the reference's "
                            "answer on every case, so it can never be recognised")
    if problem.derivative is not None and len(outputs) == len(cases):
        findings += _derivative_findings(course, problem, cases[:4], outputs)
    if problem.generator is not None:
        seed = course.assignments[problem.assignment].hidden_seed
        first = generate(course, problem, seed, HIDDEN, 1)
        if explain(generate(course, problem, seed, HIDDEN, 1), first, EXACT) is not None:
            findings.append(f"{problem.id}: generator {problem.generator} is not deterministic "
                            "for a given seed (does it use global random state?)")
        elif explain(generate(course, problem, seed + 1, HIDDEN, 1), first, EXACT) is None:
            findings.append(f"{problem.id}: generator {problem.generator} ignores its seed")
    return findings


def validate(*, problems_dir: Path | str, reference_dir: Path | str,
             progress: Callable[[str], None] = lambda line: None) -> list[str]:
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
    from grader.engine import Engine, start_sandbox
    engine = Engine(course=course, hidden=True)
    with start_sandbox() as sandbox:
        engine.sandbox = sandbox
        result = engine.grade("reference", [Path(reference_dir)])
    return [f"{p.problem_id}: the reference, graded as a student, earns {p.points:g} of "
            f"{p.max_points:g} points:\n{p.feedback()}"
            for p in result.problems if not math.isclose(p.points, p.max_points)]
