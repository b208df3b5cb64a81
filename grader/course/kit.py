"""The student kit: the public part of a course, for `grader check --kit KIT` on a machine with
only `grader` installed. `kit.json` holds, per assignment, each problem's points, tolerances,
limits and known-mistake messages, and each public case's arguments, expected value and known
mistakes' values, all in the wire format. It holds no reference code, no generator, no hidden
seed and no hidden case.
"""
from __future__ import annotations

import json
from pathlib import Path

from grader.sandbox import wire
from grader.course.manifest import ManifestError
from grader.course.model import (Assignment, Course, Limits, LiteralCase, Mistake, Problem,
                                 Tolerance)
from grader.kinds.base import Expected

KIT_FILE = "kit.json"
FORMAT = 2
README = """# {title}: student kit

Check your work before you submit it:

    pip install grader        # or as your course tells you
    grader check --kit {kit} rnn.py optim.py layers.py

`grader check` runs the public cases of every problem on your functions, in a sandbox, and
prints one line per problem with the first lines of feedback. Hidden cases, used for your
grade, are drawn from the same kinds of inputs but are not in this kit.

Files you submit: {files}.
"""


def _expected(engine, planned, case) -> dict:
    expected = engine.expected(planned, case)
    if expected.error:
        raise ManifestError(planned.problem.id, expected.error)
    return {"name": case.id, "args": wire.encode(case.args),
            "expected": wire.encode(expected.value),
            "mistakes": [[mistake.message, wire.encode(value)]
                         for mistake, value in expected.mistakes]}


def build_kit(course: Course, out: Path) -> list[Path]:
    """Write the kit for `course` into `out`; returns the files written."""
    from grader.engine import Engine
    engine = Engine(course=course, hidden=False)
    planned_by_id = {p.problem.id: p for p in engine.plan}
    assignments = []
    for assignment in course.assignments.values():
        problems = []
        for problem in assignment.problems:
            if problem.kind == "property":
                raise ManifestError(assignment.manifest, "a student kit cannot yet hold "
                                    "property problems (their checks are the course's code)",
                                    problem=problem.function, key="check")
            planned = planned_by_id[problem.id]
            if planned.error:
                raise ManifestError(assignment.manifest, planned.error, problem=problem.function,
                                    key="generator")
            problems.append({
                "function": problem.function, "name": problem.name, "points": problem.points,
                "rtol": problem.tolerance.rtol, "atol": problem.tolerance.atol,
                "outputs": {k: [t.rtol, t.atol] for k, t in problem.outputs.items()},
                "check": problem.kind, "limits": vars(problem.limits),
                "cases": [_expected(engine, planned, c) for c in planned.cases],
            })
        assignments.append({"name": assignment.name, "title": assignment.title,
                            "file": assignment.file, "problems": problems})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / KIT_FILE).write_text(json.dumps({"format": FORMAT, "assignments": assignments}),
                                encoding="utf-8")
    titles = ", ".join(a["title"] for a in assignments)
    files = ", ".join(a["file"] for a in assignments)
    (out / "README.md").write_text(README.format(title=titles, kit=out.name, files=files),
                                   encoding="utf-8")
    return [out / KIT_FILE, out / "README.md"]


def load_kit(kit: Path) -> tuple[Course, dict]:
    """The kit as a Course (public cases only) and its expected values by (problem, case)."""
    path = Path(kit) / KIT_FILE if Path(kit).is_dir() else Path(kit)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(path, f"cannot be read: {exc.strerror}") from None
    except ValueError:
        raise ManifestError(path, "is not a grader kit (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ManifestError(path, f"is not a grader kit of format {FORMAT}", key="format")
    course = Course(path.parent, None, {})
    expectations = {}
    try:
        for entry in data["assignments"]:
            problems = []
            for raw in entry["problems"]:
                cases = []
                for case in raw["cases"]:
                    cases.append(LiteralCase(case["name"], wire.decode(case["args"])))
                    problem_id = f"{entry['name']}.{raw.get('name') or raw['function']}"
                    expectations[(problem_id, case["name"])] = Expected(
                        wire.decode(case["expected"]),
                        [(Mistake(message), wire.decode(value))
                         for message, value in case["mistakes"]])
                problems.append(Problem(
                    assignment=entry["name"], function=raw["function"], name=raw.get("name"),
                    points=float(raw["points"]), tolerance=Tolerance(raw["rtol"], raw["atol"]),
                    outputs={k: Tolerance(*v) for k, v in raw["outputs"].items()},
                    literal_cases=tuple(cases), public=0, hidden=0, generator=None,
                    kind=raw["check"], mistakes=(), limits=Limits(**raw["limits"])))
            course.assignments[entry["name"]] = Assignment(
                name=entry["name"], title=entry["title"], file=entry["file"], manifest=path,
                problems=tuple(problems))
    except (KeyError, TypeError, ValueError, wire.WireError) as exc:
        raise ManifestError(path, f"is damaged ({type(exc).__name__}: {exc})") from None
    return course, expectations
