"""The student kit: the public part of a course (or of some of its assignments), for
`grader check --kit KIT` on a machine with no access to the course. It carries grader's own
wheel, so that it installs with one command, and a README that names the course's files, from
the manifests. `kit.json` holds, per assignment, each problem's points, tolerances,
limits and known-mistake messages, and each public case's arguments, expected value and known
mistakes' values, all in the wire format; and the modules sure to be there where the course
grades (see grader.submission.imports). Beside it are the course code a check needs and that
holds no answer: support modules, drivers and property checks. The kit holds no reference code,
no generator, no hidden seed and no hidden case.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from grader.sandbox import wire
from grader.course.loader import LoadError, load_module
from grader.course.manifest import ManifestError, choose
from grader.course.model import (Assignment, Course, Limits, LiteralCase, Mistake, Problem,
                                 Tolerance)
from grader.kinds.base import Expected

KIT_FILE = "kit.json"
FORMAT = 3
README = """# {title}: student kit

## Install grader (once)

You need Python 3.10 or newer. From the folder that holds this kit's folder `{kit}`, run:

    python -m pip install {kit}/{wheel}

This installs `grader` from the file in this kit, and what it needs (NumPy, pandas, pytest and
a few more) from the Python Package Index. Do not run `pip install grader`: the package of that
name on the index is another project.

## Check your work before you submit it

    grader check --kit {kit} my_homework/

where `my_homework/` is the folder with your files (you may also name the files, or a zip of
them). `grader check` runs the public cases of the assignments whose files it finds, on your
functions, in a sandbox, and prints one line per problem with the first lines of feedback;
`grader check -v --kit {kit} my_homework/` prints all of it, and a failing case as Python you
can paste to run your function on it yourself. Hidden cases, used for your grade, are drawn
from the same kinds of inputs but are not in this kit.

## Files you submit

{files}
"""


def _expected(engine, planned, case) -> dict:
    expected = engine.expected(planned, case)
    if expected.error:
        raise ManifestError(planned.problem.id, expected.error)
    return {"name": case.id, "args": wire.encode(case.args),
            "expected": wire.encode(expected.value),
            "mistakes": [[mistake.message, wire.encode(value)]
                         for mistake, value in expected.mistakes]}


def files_line(assignment: Assignment) -> str:
    """The files a student hands in for an assignment, as the kit's README lists them."""
    if assignment.package:
        files = ", ".join(f"{assignment.package}/{f}" for f in assignment.files)
        return (f"- {assignment.title} ({assignment.name}): {files} (in a folder "
                f"{assignment.package}/, or the files at the top of your submission)")
    if assignment.file.endswith(".py"):
        return (f"- {assignment.title} ({assignment.name}): {assignment.file} (or the notebook "
                f"{assignment.module}.ipynb)")
    return f"- {assignment.title} ({assignment.name}): {assignment.file}"


def build_kit(course: Course, out: Path, *, assignments: Sequence[str] | None = None,
              wheel: bool = True) -> list[Path]:
    """Write the kit for `course` (or for its `assignments`) into `out`, with grader's wheel
    (unless `wheel` is false); returns the files written. Raises ManifestError when the course
    cannot compute a public case, and grader.distribution.BuildError when the wheel cannot be
    built."""
    from grader.engine import Engine
    chosen = choose(course, assignments)
    engine = Engine(course=course, hidden=False,
                    problems=[p.id for a in chosen for p in a.problems])
    planned_by_id = {p.problem.id: p for p in engine.plan}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / KIT_FILE, out / "README.md"]
    entries = []
    for assignment in chosen:
        problems = []
        for problem in assignment.problems:
            planned = planned_by_id[problem.id]
            if planned.error:
                raise ManifestError(assignment.manifest, planned.error, problem=problem.function,
                                    key="generator")
            problems.append({
                "function": problem.function, "name": problem.name, "points": problem.points,
                "rtol": problem.tolerance.rtol, "atol": problem.tolerance.atol,
                "outputs": {k: [t.rtol, t.atol] for k, t in problem.outputs.items()},
                "check": problem.kind, "limits": vars(problem.limits),
                "module": problem.module, "driver": problem.driver,
                "property": problem.checker, "context": problem.context,
                "predicates": [[m.message, m.check] for m in problem.mistakes if m.check],
                "cases": [_expected(engine, planned, c) for c in planned.cases],
            })
        code = _copy_course_code(assignment, out)
        written += [out / path for path in code["support"] + [code["drivers"], code["checks"]]
                    if path]
        entries.append({"name": assignment.name, "title": assignment.title,
                        "file": assignment.file, "package": assignment.package,
                        "files": list(assignment.files), "positional": assignment.positional,
                        **code, "problems": problems})
    wheel_name = "<the grader wheel your course gives you>"
    if wheel:
        from grader.distribution import build_wheel
        for old in out.glob("grader-*.whl"):
            old.unlink()
        built = build_wheel(out)
        wheel_name = built.name
        written.append(built)
    from grader.submission.imports import grading_modules
    (out / KIT_FILE).write_text(json.dumps({"format": FORMAT, "assignments": entries,
                                            "modules": grading_modules()}), encoding="utf-8")
    titles = ", ".join(a.title for a in chosen)
    (out / "README.md").write_text(README.format(
        title=titles, kit=out.name, wheel=wheel_name,
        files="\n".join(files_line(a) for a in chosen)), encoding="utf-8")
    return written


def load_kit(kit: Path) -> tuple[Course, dict, set[str]]:
    """The kit as a Course (public cases only), its expected values by (problem, case), and
    the modules sure to be there where the course grades (none known: an empty set)."""
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
                    kind=raw["check"], limits=Limits(**raw["limits"]),
                    mistakes=tuple(Mistake(message, check=check)
                                   for message, check in raw["predicates"]),
                    module=raw["module"], driver=raw["driver"], checker=raw["property"],
                    context=raw["context"]))
            name = entry["name"]
            folder = path.parent
            course.assignments[name] = Assignment(
                name=name, title=entry["title"], file=entry["file"], manifest=path,
                problems=tuple(problems), package=entry["package"],
                files=tuple(entry["files"]), positional=entry["positional"],
                support=tuple(folder / s for s in entry["support"]),
                drivers=folder / entry["drivers"] if entry["drivers"] else None,
                checks=folder / entry["checks"] if entry["checks"] else None)
            if entry["checks"]:
                course.checks[name] = load_module(folder / entry["checks"],
                                                  f"grader_kit_checks_{name}")
        modules = {str(name) for name in data.get("modules", ())}
    except (KeyError, TypeError, ValueError, wire.WireError, LoadError) as exc:
        raise ManifestError(path, f"is damaged ({type(exc).__name__}: {exc})") from None
    return course, expectations, modules


def _copy_course_code(assignment: Assignment, out: Path) -> dict:
    """Copy an assignment's support modules, drivers and checks into the kit; their paths
    relative to the kit, for kit.json."""
    paths = {"support": [], "drivers": None, "checks": None}
    folder = out / "course" / assignment.name
    for role, source in [("support", s) for s in assignment.support] + \
            [("drivers", assignment.drivers), ("checks", assignment.checks)]:
        if source is None:
            continue
        target = folder / ("support" if role == "support" else "") / Path(source).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(source).read_bytes())
        relative = target.relative_to(out).as_posix()
        if role == "support":
            paths["support"].append(relative)
        else:
            paths[role] = relative
    return paths
