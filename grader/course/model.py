"""The course model: frozen dataclasses for tolerances, the one `Limits` of student code,
known mistakes, literal cases, problems and assignments, and the `Course` that ties them to the
trusted code (reference, generators, drivers, checks) they name. Nothing here reads files.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}"


@dataclass(frozen=True)
class Limits:
    """Resource limits of student code, the same type in every context. `time` is wall seconds
    per call; `submission_time` bounds all the calls that share these limits."""
    time: float = 2.0
    memory_mb: int = 512
    submission_time: float = 60.0
    output_kb: int = 64
    processes: int = 0  # extra processes student code may start


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer. Either `function`, a reference function computing the wrong value
    (standing in for `replaces` when a driver computes the answer), or `check`, a trusted
    predicate on the student's answer (for answers that cannot be compared by value)."""
    message: str
    function: str | None = None
    replaces: str | None = None
    check: str | None = None


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
    outputs: dict  # output key (str) -> Tolerance
    literal_cases: tuple[LiteralCase, ...]
    public: int
    hidden: int
    generator: str | None
    kind: str  # the name of a grader.kinds kind: value, sampler, property
    mistakes: tuple[Mistake, ...]
    limits: Limits
    derivative: Derivative | None = None
    distribution: str | None = None  # sampler: reference function giving the distribution
    name: str | None = None  # the problem id's last part, when not the function's name
    module: str | None = None  # package assignments: the module defining the function
    driver: str | None = None  # a drivers function computing the graded value in the child
    checker: str | None = None  # property problems: the checks function judging an answer
    context: str | None = None  # a sentence leading the feedback (what the call was given)

    @property
    def id(self) -> str:
        return f"{self.assignment}.{self.name or self.function}"

    def tolerance_for(self, key: str) -> Tolerance:
        return self.outputs.get(key, self.tolerance)


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    file: str  # the student's file, or the package folder for a package assignment
    manifest: Path
    problems: tuple[Problem, ...]
    public_seed: int = 0
    hidden_seed: int = 0
    reference: Path | None = None
    generators: Path | None = None
    package: str | None = None  # the student's files form this package
    files: tuple[str, ...] = ()  # a package's graded modules (file names)
    support: tuple[Path, ...] = ()  # course modules copied next to the student's files
    drivers: Path | None = None  # course code run in the child next to the student's
    checks: Path | None = None  # trusted property checks, run in the grader
    positional: bool = False  # calls pass arguments by position, in generator order

    @property
    def module(self) -> str:
        return self.package or Path(self.file).stem

    def student_files(self) -> tuple[str, ...]:
        """The file names a student hands in for this assignment."""
        return self.files if self.package else (self.file,)

    def module_of(self, problem: Problem) -> str:
        """The importable name of the module defining the problem's function."""
        if self.package:
            return f"{self.package}.{problem.module}"
        return self.module

    def file_of(self, problem: Problem) -> str:
        """The file defining the problem's function in the sandbox's folder (a notebook is
        read into the module it defines)."""
        if self.package:
            return f"{self.package}/{problem.module}.py"
        return f"{self.module}.py"


@dataclass
class Course:
    """All assignments of a course, with the trusted code that defines them."""
    problems_dir: Path
    reference_dir: Path | None
    assignments: dict[str, Assignment]
    references: dict[str, ModuleType] = field(default_factory=dict)  # assignment -> module
    generators: dict[str, ModuleType] = field(default_factory=dict)
    drivers: dict[str, ModuleType] = field(default_factory=dict)
    checks: dict[str, ModuleType] = field(default_factory=dict)

    @property
    def problems(self) -> list[Problem]:
        return [p for a in self.assignments.values() for p in a.problems]

    def failure(self, exc: BaseException) -> str:
        """An exception of the course's own code in one line, with the last place in the
        course's files it passed through, named from the course's folders (students read this
        too: no path of the instructor's machine)."""
        roots = [Path(d).resolve().parent for d in (self.problems_dir, self.reference_dir)
                 if d is not None]
        for frame, line in reversed(list(traceback.walk_tb(exc.__traceback__))):
            path = Path(frame.f_code.co_filename).resolve()  # the source itself is not read
            shown = next((path.relative_to(root) for root in roots if path.is_relative_to(root)),
                         None)
            if shown is not None:
                return f"{type(exc).__name__}: {exc} ({shown.as_posix()}, line {line})"
        return f"{type(exc).__name__}: {exc}"

    def problem(self, problem_id: str) -> Problem:
        for problem in self.problems:
            if problem.id == problem_id:
                return problem
        raise KeyError(problem_id)

    def tolerance_of(self, problem_id: str):
        """A problem's tolerance, per output key (exact for a problem the course no longer
        has, such as one in an old grade.json)."""
        try:
            return self.problem(problem_id).tolerance_for
        except KeyError:
            return Tolerance(0.0, 0.0)

    def reference_module(self, assignment: str, module: str | None = None) -> ModuleType:
        """The reference module defining a problem's function (a package's submodule)."""
        reference = self.references[assignment]
        return getattr(reference, module) if module else reference

    def reference_function(self, assignment: str, name: str, module: str | None = None):
        return getattr(self.reference_module(assignment, module), name)
