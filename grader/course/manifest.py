"""The problems manifest: `problems/<assignment>.toml` read into frozen `Assignment`, `Problem`
and `Case`-building metadata, and the `Course` that ties manifests to their reference module and
case generators. Every manifest is validated on load; a problem is reported as a `ManifestError`
naming the file, the problem and the key, never as a traceback.
"""
from __future__ import annotations

import difflib
import importlib.util
import inspect
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CHECKS = ("value", "sampler")


class ManifestError(Exception):
    """A course file is wrong. The message names the file, the problem and the key."""

    def __init__(self, path: Path | str, message: str, *, problem: str | None = None,
                 key: str | None = None):
        self.path, self.problem, self.key = str(path), problem, key
        where = self.path
        if problem:
            where += f": problem '{problem}'"
        if key:
            where += f": key '{key}'"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}"


@dataclass(frozen=True)
class Limits:
    """Resource limits of student code. `time` is per call (wall seconds)."""
    time: float = 2.0
    memory_mb: int = 512
    submission_time: float = 60.0
    output_kb: int = 64
    processes: int = 0  # extra processes student code may start


@dataclass(frozen=True)
class Mistake:
    function: str
    message: str


@dataclass(frozen=True)
class Derivative:
    """The answer is the derivative of reference function `of` with respect to `wrt`.
    `point` names a reference function giving the value of a `wrt` variable that is not an
    argument of the problem."""
    of: str
    wrt: tuple[str, ...]
    point: str | None = None


@dataclass(frozen=True)
class Known:
    """A number the reference must reproduce: `value` at index path `at` of the output."""
    at: tuple
    value: Any
    atol: float


@dataclass(frozen=True)
class LiteralCase:
    name: str
    args: dict
    known: tuple[Known, ...] = ()


@dataclass(frozen=True)
class Problem:
    assignment: str
    function: str
    points: float
    tolerance: Tolerance
    outputs: dict  # output path (str) -> Tolerance
    literal_cases: tuple[LiteralCase, ...]
    public: int
    hidden: int
    generator: str | None
    check: str
    distribution: str | None
    mistakes: tuple[Mistake, ...]
    derivative: Derivative | None
    limits: Limits

    @property
    def id(self) -> str:
        return f"{self.assignment}.{self.function}"

    def tolerance_for(self, path: str) -> Tolerance:
        return self.outputs.get(path, self.tolerance)


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    file: str
    manifest: Path
    reference: Path | None
    generators: Path | None
    public_seed: int
    hidden_seed: int
    problems: tuple[Problem, ...]

    @property
    def module(self) -> str:
        return Path(self.file).stem


_ASSIGNMENT_KEYS = {"name", "title", "file", "reference", "generators", "public_seed",
                    "hidden_seed", "rtol", "atol", "time_limit", "memory_limit_mb",
                    "submission_time_limit", "output_limit_kb", "process_limit"}
_PROBLEM_KEYS = {"function", "points", "rtol", "atol", "outputs", "case", "public", "hidden",
                 "generator", "check", "distribution", "mistake", "derivative", "time_limit",
                 "memory_limit_mb", "submission_time_limit", "output_limit_kb", "process_limit"}
_LIMIT_KEYS = {"time_limit": "time", "memory_limit_mb": "memory_mb",
               "submission_time_limit": "submission_time", "output_limit_kb": "output_kb",
               "process_limit": "processes"}


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

    def get(self, table: dict, key: str, kind, default=..., *, minimum=None):
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
        return value

    def tolerance(self, table: dict, default: Tolerance, where: str = "") -> Tolerance:
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


def _function_names(module: ModuleType) -> set[str]:
    return {name for name, obj in vars(module).items() if inspect.isfunction(obj)}


def _load_module(path: Path, name: str, reader: _Reader, key: str) -> ModuleType:
    if not path.is_file():
        reader.fail(f"file {path} does not exist", key)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the course's own code failed to import
        reader.fail(f"{path} failed to import: {type(exc).__name__}: {exc}", key)
    return module


def _array_like(value):
    """TOML arrays become float64 arrays (the course convention); scalars stay as they are."""
    import numpy as np
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    return value


def _read_problem(reader: _Reader, raw: dict, assignment: str, tolerance: Tolerance,
                  limits: Limits, reference: set[str] | None, generators: set[str] | None,
                  reference_module: ModuleType | None) -> Problem:
    if not isinstance(raw, dict):
        reader.fail("each [[problem]] must be a table")
    reader.problem = raw.get("function") if isinstance(raw.get("function"), str) else None
    reader.check_keys(raw, _PROBLEM_KEYS, "[[problem]]")
    function = reader.get(raw, "function", str)
    if not function.isidentifier():
        reader.fail(f"'{function}' is not a Python function name", "function")
    if reference is not None and function not in reference:
        reader.fail(f"the reference has no function '{function}'", "function")
    points = float(reader.get(raw, "points", (int, float), minimum=0))
    own_tolerance = reader.tolerance(raw, tolerance)
    outputs = {}
    for path, table in reader.get(raw, "outputs", dict, {}).items():
        if not isinstance(table, dict):
            reader.fail(f"output '{path}' must be a table with rtol/atol", "outputs")
        reader.check_keys(table, {"rtol", "atol"}, f"outputs.{path}")
        outputs[path] = reader.tolerance(table, own_tolerance)
    check = reader.get(raw, "check", str, "value")
    if check not in CHECKS:
        reader.fail(f"must be one of {', '.join(CHECKS)}, got '{check}'", "check")
    distribution = reader.get(raw, "distribution", str, None)
    if check == "sampler" and distribution is None:
        reader.fail("a sampler problem names the reference function giving its distribution",
                    "distribution")
    if distribution is not None and reference is not None and distribution not in reference:
        reader.fail(f"the reference has no function '{distribution}'", "distribution")
    generator = reader.get(raw, "generator", str, None)
    public = reader.get(raw, "public", int, 0, minimum=0)
    hidden = reader.get(raw, "hidden", int, 0, minimum=0)
    if (public or hidden) and generator is None:
        reader.fail("generated public or hidden cases need a generator", "generator")
    if generator is not None and generators is not None and generator not in generators:
        reader.fail(f"the generators file has no function '{generator}'", "generator")
    literal = []
    for number, case in enumerate(reader.get(raw, "case", list, []), start=1):
        if not isinstance(case, dict):
            reader.fail("each [[problem.case]] must be a table", "case")
        reader.check_keys(case, {"name", "args", "known"}, "[[problem.case]]")
        args = reader.get(case, "args", dict)
        known = []
        for entry in reader.get(case, "known", list, []):
            if not isinstance(entry, dict) or "value" not in entry:
                reader.fail("each known value is a table with 'value' (and 'at', 'atol')", "known")
            reader.check_keys(entry, {"at", "value", "atol"}, "known")
            known.append(Known(tuple(reader.get(entry, "at", list, [])), _array_like(entry["value"]),
                               float(reader.get(entry, "atol", (int, float), 1e-6, minimum=0))))
        name = reader.get(case, "name", str, f"case-{number}")
        literal.append(LiteralCase(name, {k: _array_like(v) for k, v in args.items()},
                                   tuple(known)))
    if not literal and not public and not hidden:
        reader.fail("has no cases: add [[problem.case]], 'public' or 'hidden'", "case")
    if reference_module is not None:
        signature = inspect.signature(getattr(reference_module, function))
        for case in literal:
            try:
                signature.bind(**case.args)
            except TypeError as exc:
                reader.fail(f"case '{case.name}' does not fit {function}{signature}: {exc}", "args")
    mistakes = []
    for entry in reader.get(raw, "mistake", list, []):
        if not isinstance(entry, dict):
            reader.fail("each [[problem.mistake]] must be a table", "mistake")
        reader.check_keys(entry, {"function", "message"}, "[[problem.mistake]]")
        name = reader.get(entry, "function", str)
        if reference is not None and name not in reference:
            reader.fail(f"the reference has no mistake function '{name}'", "mistake")
        mistakes.append(Mistake(name, reader.get(entry, "message", str)))
    derivative = None
    if "derivative" in raw:
        table = reader.get(raw, "derivative", dict)
        reader.check_keys(table, {"of", "wrt", "point"}, "derivative")
        derivative = Derivative(reader.get(table, "of", str),
                                tuple(reader.get(table, "wrt", list)),
                                reader.get(table, "point", str, None))
        for name in (derivative.of, derivative.point):
            if name is not None and reference is not None and name not in reference:
                reader.fail(f"the reference has no function '{name}'", "derivative")
    problem = Problem(assignment, function, points, own_tolerance, outputs, tuple(literal),
                      public, hidden, generator, check, distribution, tuple(mistakes), derivative,
                      reader.limits(raw, limits))
    reader.problem = None
    return problem


def load_assignment(path: Path, reference_dir: Path | None) -> tuple[Assignment, ModuleType | None,
                                                                   ModuleType | None]:
    """Read and validate one manifest; also returns its reference and generator modules
    (None when `reference_dir` is None, as in a student kit)."""
    path = Path(path)
    reader = _Reader(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        reader.fail(f"is not valid TOML: {exc}")
    except OSError as exc:
        reader.fail(f"cannot be read: {exc.strerror}")
    reader.check_keys(raw, {"assignment", "problem"}, "the manifest")
    head = reader.get(raw, "assignment", dict)
    reader.check_keys(head, _ASSIGNMENT_KEYS, "[assignment]")
    name = reader.get(head, "name", str)
    if not name.isidentifier():
        reader.fail(f"'{name}' is not a valid assignment name", "name")
    file = reader.get(head, "file", str, f"{name}.py")
    if not file.endswith(".py") or "/" in file or not Path(file).stem.isidentifier():
        reader.fail(f"must be a Python file name such as '{name}.py', got '{file}'", "file")
    tolerance = reader.tolerance(head, Tolerance(1e-6, 1e-9))
    limits = reader.limits(head, Limits())
    reference_module = generators_module = None
    reference_path = generators_path = None
    if reference_dir is not None:
        reference_path = Path(reference_dir) / reader.get(head, "reference", str, file)
        reference_module = _load_module(reference_path, f"grader_reference_{name}", reader,
                                        "reference")
    generators_name = reader.get(head, "generators", str, None)
    if generators_name is not None:
        generators_path = path.parent / generators_name
        if reference_dir is not None:
            generators_module = _load_module(generators_path, f"grader_generators_{name}", reader,
                                             "generators")
    reference_names = _function_names(reference_module) if reference_module else None
    generator_names = _function_names(generators_module) if generators_module else None
    problems_raw = reader.get(raw, "problem", list)
    problems = tuple(_read_problem(reader, p, name, tolerance, limits, reference_names,
                                   generator_names, reference_module) for p in problems_raw)
    ids = [p.function for p in problems]
    duplicates = sorted({f for f in ids if ids.count(f) > 1})
    if duplicates:
        reader.fail(f"problem '{duplicates[0]}' is declared twice", "problem")
    assignment = Assignment(
        name=name, title=reader.get(head, "title", str, name), file=file, manifest=path,
        reference=reference_path, generators=generators_path,
        public_seed=reader.get(head, "public_seed", int, 0),
        hidden_seed=reader.get(head, "hidden_seed", int, 0), problems=problems)
    return assignment, reference_module, generators_module


@dataclass
class Course:
    """All assignments of a course, with the trusted code that defines them."""
    problems_dir: Path
    reference_dir: Path | None
    assignments: dict[str, Assignment]
    references: dict[str, ModuleType] = field(default_factory=dict)
    generators: dict[str, ModuleType] = field(default_factory=dict)

    @property
    def problems(self) -> list[Problem]:
        return [p for a in self.assignments.values() for p in a.problems]

    def problem(self, problem_id: str) -> Problem:
        assignment, _, function = problem_id.partition(".")
        for problem in self.assignments[assignment].problems:
            if problem.function == function:
                return problem
        raise KeyError(problem_id)

    def reference_function(self, assignment: str, name: str):
        return getattr(self.references[assignment], name)


def load_course(problems_dir: Path | str = "problems",
                reference_dir: Path | str | None = "reference") -> Course:
    problems_dir = Path(problems_dir)
    if not problems_dir.is_dir():
        raise ManifestError(problems_dir, "is not a directory of problem manifests")
    manifests = sorted(problems_dir.glob("*.toml"))
    if not manifests:
        raise ManifestError(problems_dir, "holds no *.toml manifest")
    if reference_dir is not None and not Path(reference_dir).is_dir():
        raise ManifestError(reference_dir, "is not a directory of reference solutions")
    course = Course(problems_dir, Path(reference_dir) if reference_dir else None, {})
    for path in manifests:
        assignment, reference, generators = load_assignment(path, course.reference_dir)
        if assignment.name in course.assignments:
            raise ManifestError(path, f"assignment '{assignment.name}' is declared twice",
                                key="name")
        course.assignments[assignment.name] = assignment
        if reference is not None:
            course.references[assignment.name] = reference
        if generators is not None:
            course.generators[assignment.name] = generators
    return course
