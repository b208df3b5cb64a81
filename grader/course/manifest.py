"""The problems manifest: `problems/<assignment>.toml` read into the course model. Every manifest
is validated on load; a problem is reported as a `ManifestError` naming the file, the problem
and the key, never as a traceback. `load_course` reads every manifest of a folder and loads the
trusted code they name; `choose` picks assignments of a course by name.
"""
from __future__ import annotations

import difflib
import inspect
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence

from grader.course import PROBLEMS_DIR, REFERENCE_DIR
from grader.course.loader import LoadError, functions, load_module, module_functions
from grader.course.model import (Assignment, Course, Derivative, Known, Limits, LiteralCase,
                                 Mistake, Problem, Tolerance)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

KINDS = ("value", "sampler", "property")


class ManifestError(Exception):
    """A course file is wrong. The message names the file, the problem and the key."""

    def __init__(self, path: Path | str, message: str, *, problem: str | None = None,
                 key: str | None = None):
        self.path, self.problem, self.key, self.message = str(path), problem, key, message
        where = self.path
        if problem:
            where += f": problem '{problem}'"
        if key:
            where += f": key '{key}'"
        super().__init__(f"{where}: {message}")


_ASSIGNMENT_KEYS = {"name", "title", "file", "reference", "generators", "public_seed",
                    "hidden_seed", "rtol", "atol", "time_limit", "memory_limit_mb",
                    "submission_time_limit", "output_limit_kb", "process_limit", "package",
                    "files", "support", "drivers", "checks", "call"}
MAX_CASES = 10_000  # generated cases of one kind per problem: more is a typo (each is a call)
_PROBLEM_KEYS = {"function", "name", "points", "rtol", "atol", "outputs", "case", "public",
                 "hidden", "generator", "check", "distribution", "mistake", "derivative",
                 "time_limit", "memory_limit_mb", "submission_time_limit", "output_limit_kb",
                 "process_limit", "module", "driver", "property", "context"}
_LIMIT_KEYS = {"time_limit": "time", "memory_limit_mb": "memory_mb",
               "submission_time_limit": "submission_time", "output_limit_kb": "output_kb",
               "process_limit": "processes"}
_DTYPES = ("float64", "float32", "int64", "int32", "int8", "uint8", "bool")


class _Reader:
    """Validates one manifest, so every error carries the file and the problem."""

    def __init__(self, path: Path):
        self.path = path
        self.problem: str | None = None

    def fail(self, message: str, key: str | None = None):
        raise ManifestError(self.path, message, problem=self.problem, key=key)

    def check_keys(self, table: dict, allowed: set, where: str):
        for key in table:
            if key not in allowed:
                near = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                self.fail(f"unknown key in {where}{hint}; allowed: {', '.join(sorted(allowed))}",
                          key)

    def get(self, table: dict, key: str, kind, default=..., *, minimum=None, maximum=None):
        if key not in table:
            if default is ...:
                self.fail("is required", key)
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            self.fail(f"must be {names}, got {type(value).__name__} {value!r}", key)
        if minimum is not None and (not math.isfinite(value) or value < minimum):
            self.fail(f"must be a finite number >= {minimum}, got {value!r}", key)
        if maximum is not None and value > maximum:
            self.fail(f"must be at most {maximum:,}, got {value:,}", key)
        return value

    def identifier(self, table: dict, key: str, what: str, default=...) -> str | None:
        """A string that must be a Python name (a function, module, package...)."""
        value = self.get(table, key, str, default)
        if value is not None and not value.isidentifier():
            self.fail(f"'{value}' is not a valid {what} name", key)
        return value

    def strings(self, table: dict, key: str) -> tuple[str, ...]:
        values = self.get(table, key, list, [])
        if not all(isinstance(v, str) for v in values):
            self.fail("must be a list of strings", key)
        return tuple(values)

    def tolerance(self, table: dict, default: Tolerance) -> Tolerance:
        rtol = float(self.get(table, "rtol", (int, float), default.rtol, minimum=0))
        atol = float(self.get(table, "atol", (int, float), default.atol, minimum=0))
        return Tolerance(rtol, atol)

    def limits(self, table: dict, default: Limits) -> Limits:
        values = {}
        for key, attr in _LIMIT_KEYS.items():
            kind = (int, float) if attr in ("time", "submission_time") else int
            minimum = 0 if attr == "processes" else 1e-3
            values[attr] = self.get(table, key, kind, getattr(default, attr), minimum=minimum)
        return Limits(**values)

    def load(self, path: Path, name: str, key: str) -> ModuleType:
        try:
            return load_module(path, name)
        except LoadError as exc:
            self.fail(str(exc), key)

    def literal(self, value, key: str):
        """A TOML value as a case argument: arrays become float64 arrays (the course
        convention); `{value, dtype}` an array of that dtype; `{none = true}` None; other
        tables dicts of converted values."""
        import numpy as np
        if isinstance(value, list):
            try:
                return np.asarray(value, dtype=float)
            except ValueError:
                self.fail("arrays must be rectangular and numeric; use {value = ..., dtype = "
                          "...} for integers", key)
        if isinstance(value, dict):
            if set(value) == {"none"}:
                return None
            if set(value) == {"value", "dtype"}:
                if value["dtype"] not in _DTYPES:
                    self.fail(f"dtype must be one of {', '.join(_DTYPES)}, got "
                              f"{value['dtype']!r}", key)
                return np.asarray(value["value"], dtype=value["dtype"])
            return {k: self.literal(v, key) for k, v in value.items()}
        return value


def _known(reader: _Reader, case: dict) -> tuple[Known, ...]:
    known = []
    for entry in reader.get(case, "known", list, []):
        if not isinstance(entry, dict) or "value" not in entry:
            reader.fail("each known value is a table with 'value' (and 'at', 'atol')", "known")
        reader.check_keys(entry, {"at", "value", "atol"}, "known")
        known.append(Known(tuple(reader.get(entry, "at", list, [])),
                           reader.literal(entry["value"], "known"),
                           float(reader.get(entry, "atol", (int, float), 1e-6, minimum=0))))
    return tuple(known)


def _mistakes(reader: _Reader, raw: dict, reference: set[str] | None,
              checks: set[str] | None) -> tuple[Mistake, ...]:
    mistakes = []
    for entry in reader.get(raw, "mistake", list, []):
        if not isinstance(entry, dict):
            reader.fail("each [[problem.mistake]] must be a table", "mistake")
        reader.check_keys(entry, {"function", "message", "replaces", "check"},
                          "[[problem.mistake]]")
        function = reader.get(entry, "function", str, None)
        check = reader.get(entry, "check", str, None)
        if function is None and check is None:
            reader.fail("a mistake names a reference 'function', a 'check', or both", "mistake")
        if function is not None and reference is not None and function not in reference:
            reader.fail(f"the reference has no mistake function '{function}'", "mistake")
        if check is not None and checks is not None and check not in checks:
            reader.fail(f"the checks file has no function '{check}'", "mistake")
        mistakes.append(Mistake(reader.get(entry, "message", str), function,
                                reader.get(entry, "replaces", str, None), check))
    return tuple(mistakes)


def _read_problem(reader: _Reader, raw: dict, assignment: dict, names: dict) -> Problem:
    """One [[problem]] table. `names` holds the function names of the trusted modules
    (None when not loaded, as in a student kit)."""
    if not isinstance(raw, dict):
        reader.fail("each [[problem]] must be a table")
    reader.problem = raw.get("function") if isinstance(raw.get("function"), str) else None
    reader.check_keys(raw, _PROBLEM_KEYS, "[[problem]]")
    function = reader.identifier(raw, "function", "Python function")
    name = reader.identifier(raw, "name", "problem", None)
    module = reader.identifier(raw, "module", "module", None)
    if assignment["package"] and module is None:
        reader.fail(f"problems of package '{assignment['package']}' name the module that "
                    "defines the function", "module")
    if module is not None and assignment["package"] and f"{module}.py" not in assignment["files"]:
        reader.fail(f"'{module}.py' is not one of the package's files", "module")
    reference = names["reference"](module)
    if reference is not None and function not in reference:
        reader.fail(f"the reference has no function '{function}'", "function")
    tolerance = reader.tolerance(raw, assignment["tolerance"])
    outputs = {}
    for path, table in reader.get(raw, "outputs", dict, {}).items():
        if not isinstance(table, dict):
            reader.fail(f"output '{path}' must be a table with rtol/atol", "outputs")
        reader.check_keys(table, {"rtol", "atol"}, f"outputs.{path}")
        outputs[path] = reader.tolerance(table, tolerance)
    kind = reader.get(raw, "check", str, "value")
    if kind not in KINDS:
        reader.fail(f"must be one of {', '.join(KINDS)}, got '{kind}'", "check")
    distribution = reader.get(raw, "distribution", str, None)
    if kind == "sampler" and distribution is None:
        reader.fail("a sampler problem names the reference function giving its distribution",
                    "distribution")
    if distribution is not None and reference is not None and distribution not in reference:
        reader.fail(f"the reference has no function '{distribution}'", "distribution")
    driver = reader.get(raw, "driver", str, None)
    if driver is not None and names["drivers"] is not None and driver not in names["drivers"]:
        reader.fail(f"the drivers file has no function '{driver}'"
                    if names["drivers"] else "a driver needs 'drivers' in [assignment]", "driver")
    check = reader.get(raw, "property", str, None)
    if kind == "property" and check is None:
        reader.fail("a property problem names the check that judges an answer", "property")
    if check is not None and names["checks"] is not None and check not in names["checks"]:
        reader.fail(f"the checks file has no function '{check}'"
                    if names["checks"] else "a property needs 'checks' in [assignment]",
                    "property")
    generator = reader.get(raw, "generator", str, None)
    public = reader.get(raw, "public", int, 0, minimum=0, maximum=MAX_CASES)
    hidden = reader.get(raw, "hidden", int, 0, minimum=0, maximum=MAX_CASES)
    if (public or hidden) and generator is None:
        reader.fail("generated public or hidden cases need a generator", "generator")
    if generator is not None and names["generators"] is not None \
            and generator not in names["generators"]:
        reader.fail(f"the generators file has no function '{generator}'", "generator")
    literal = []
    for number, case in enumerate(reader.get(raw, "case", list, []), start=1):
        if not isinstance(case, dict):
            reader.fail("each [[problem.case]] must be a table", "case")
        reader.check_keys(case, {"name", "args", "known"}, "[[problem.case]]")
        args = {k: reader.literal(v, "args") for k, v in reader.get(case, "args", dict).items()}
        literal.append(LiteralCase(reader.get(case, "name", str, f"case-{number}"), args,
                                   _known(reader, case)))
    if not literal and not public and not hidden:
        reader.fail("has no cases: add [[problem.case]], 'public' or 'hidden'", "case")
    target = names["signature"](module, driver, function)
    if target is not None:
        for case in literal:
            try:
                target.bind(*case.args.values()) if assignment["positional"] or driver else \
                    target.bind(**case.args)
            except TypeError as exc:
                reader.fail(f"case '{case.name}' does not fit {function}{target}: {exc}", "args")
    derivative = None
    if "derivative" in raw:
        table = reader.get(raw, "derivative", dict)
        reader.check_keys(table, {"of", "wrt", "point"}, "derivative")
        derivative = Derivative(reader.get(table, "of", str),
                                tuple(reader.get(table, "wrt", list)),
                                reader.get(table, "point", str, None))
        for needed in (derivative.of, derivative.point):
            if needed is not None and reference is not None and needed not in reference:
                reader.fail(f"the reference has no function '{needed}'", "derivative")
    problem = Problem(
        assignment=assignment["name"], function=function,
        points=float(reader.get(raw, "points", (int, float), minimum=0)), tolerance=tolerance,
        outputs=outputs, literal_cases=tuple(literal), public=public, hidden=hidden,
        generator=generator, kind=kind,
        mistakes=_mistakes(reader, raw, reference, names["checks"]),
        limits=reader.limits(raw, assignment["limits"]), derivative=derivative,
        distribution=distribution, name=name, module=module, driver=driver, checker=check,
        context=reader.get(raw, "context", str, None))
    reader.problem = None
    return problem


def load_assignment(path: Path, reference_dir: Path | None) -> tuple[Assignment, dict]:
    """Read and validate one manifest; also returns its trusted modules by role (reference,
    generators, drivers, checks), none of them loaded when `reference_dir` is None."""
    path = Path(path)
    reader = _Reader(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        reader.fail(f"is not valid TOML: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        reader.fail(f"cannot be read: {getattr(exc, 'strerror', None) or exc}")
    reader.check_keys(raw, {"assignment", "problem"}, "the manifest")
    head = reader.get(raw, "assignment", dict)
    reader.check_keys(head, _ASSIGNMENT_KEYS, "[assignment]")
    name = reader.identifier(head, "name", "assignment")
    package = reader.identifier(head, "package", "package", None)
    files = reader.strings(head, "files")
    if package is not None and not files:
        reader.fail("a package assignment lists its graded files", "files")
    for file in files:
        if not file.endswith(".py") or "/" in file or not Path(file).stem.isidentifier():
            reader.fail(f"must be Python file names such as 'layers.py', got '{file}'", "files")
    file = reader.get(head, "file", str, package or f"{name}.py")
    if package is None and (Path(file).suffix not in (".py", ".ipynb") or "/" in file
                            or not Path(file).stem.isidentifier()):
        reader.fail(f"must be a Python file or notebook name such as '{name}.py' or "
                    f"'{name}.ipynb', got '{file}'", "file")
    call = reader.get(head, "call", str, "keyword")
    if call not in ("keyword", "positional"):
        reader.fail(f"must be 'keyword' or 'positional', got '{call}'", "call")
    support = tuple(path.parent / s for s in reader.strings(head, "support"))
    for module_path in support:
        if not module_path.exists():
            reader.fail(f"support module {module_path} does not exist", "support")
        if not module_path.is_file() or module_path.suffix != ".py":
            reader.fail(f"support module {module_path} is not a Python file", "support")
    modules: dict[str, ModuleType | None] = {}
    files_of: dict[str, Path | None] = {}
    reference_name = reader.get(head, "reference", str, package or f"{Path(file).stem}.py")
    files_of["reference"] = Path(reference_dir) / reference_name if reference_dir else None
    for role in ("generators", "drivers", "checks"):
        named = reader.get(head, role, str, None)
        files_of[role] = path.parent / named if named else None
    for role, module_path in files_of.items():
        modules[role] = None
        if module_path is not None and reference_dir is not None:
            modules[role] = reader.load(module_path, f"grader_{role}_{name}", role)
    reference = modules["reference"]
    names = {
        "reference": lambda module: (module_functions(reference, module)
                                     if reference is not None else None),
        "generators": functions(modules["generators"]),
        "drivers": functions(modules["drivers"]) if files_of["drivers"] else
        (set() if reference is not None else None),
        "checks": functions(modules["checks"]) if files_of["checks"] else
        (set() if reference is not None else None),
    }

    def signature(module, driver, function):
        if reference is None:
            return None
        if driver is not None:
            found = inspect.signature(getattr(modules["drivers"], driver))
            # the first parameter is the student's module
            return found.replace(parameters=list(found.parameters.values())[1:])
        target = getattr(reference, module) if module else reference
        return inspect.signature(getattr(target, function))

    names["signature"] = signature
    settings = {"name": name, "package": package, "files": files,
                "tolerance": reader.tolerance(head, Tolerance(1e-6, 1e-9)),
                "limits": reader.limits(head, Limits()), "positional": call == "positional"}
    problems = tuple(_read_problem(reader, p, settings, names)
                     for p in reader.get(raw, "problem", list))
    ids = [p.id for p in problems]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        reader.fail(f"problem '{duplicates[0]}' is declared twice (give one a 'name')", "problem")
    assignment = Assignment(
        name=name, title=reader.get(head, "title", str, name), file=file, manifest=path,
        problems=problems, public_seed=reader.get(head, "public_seed", int, 0),
        hidden_seed=reader.get(head, "hidden_seed", int, 0), reference=files_of["reference"],
        generators=files_of["generators"], package=package, files=files, support=support,
        drivers=files_of["drivers"], checks=files_of["checks"], positional=call == "positional")
    return assignment, modules


def load_course(problems_dir: Path | str = PROBLEMS_DIR,
                reference_dir: Path | str | None = REFERENCE_DIR) -> Course:
    problems_dir = Path(problems_dir)
    if not problems_dir.is_dir():
        raise ManifestError(problems_dir, "is not a directory of problem manifests (looked for "
                            f"{problems_dir.resolve()}: run grader in the course's folder, or "
                            "name the folder with --problems)")
    manifests = sorted(problems_dir.glob("*.toml"))
    if not manifests:
        raise ManifestError(problems_dir, "holds no *.toml manifest")
    if reference_dir is not None and not Path(reference_dir).is_dir():
        raise ManifestError(reference_dir, "is not a directory of reference solutions "
                            f"(looked for {Path(reference_dir).resolve()}: run grader in the "
                            "course's folder, or name the folder with --reference)")
    course = Course(problems_dir, Path(reference_dir) if reference_dir else None, {})
    for path in manifests:
        assignment, modules = load_assignment(path, course.reference_dir)
        if assignment.name in course.assignments:
            raise ManifestError(path, f"assignment '{assignment.name}' is declared twice",
                                key="name")
        course.assignments[assignment.name] = assignment
        for role, registry in (("reference", course.references),
                               ("generators", course.generators),
                               ("drivers", course.drivers), ("checks", course.checks)):
            if modules[role] is not None:
                registry[assignment.name] = modules[role]
    return course


def choose(course: Course, assignments: Sequence[str] | None) -> list[Assignment]:
    """The course's assignments named in `assignments` (all of them for None), in the course's
    order; a name the course does not have raises ManifestError."""
    if not assignments:
        return list(course.assignments.values())
    unknown = [name for name in assignments if name not in course.assignments]
    if unknown:
        raise ManifestError(course.problems_dir, f"has no assignment '{unknown[0]}' (it has "
                            f"{', '.join(course.assignments)})", key="assignment")
    return [a for name, a in course.assignments.items() if name in assignments]
