"""The cases of a problem: its literal public cases from the manifest, then public and hidden
cases drawn from the problem's generator. Each generated case has its own NumPy Generator seeded
from the assignment's public or hidden seed, the problem id and the case number, so a case never
depends on which other problems or cases are run. A generator that takes `index` is also given
the case's number (from 1, among the public or the hidden cases), to go through kinds of input
in turn (every scheme of a sampler, every side of a threshold) rather than draw them by chance.
"""
from __future__ import annotations

import inspect
import zlib
from dataclasses import dataclass

import numpy as np

from grader.course.model import Course, Known, Problem

PUBLIC, HIDDEN = "public", "hidden"


@dataclass(frozen=True)
class Case:
    problem: Problem
    id: str
    visibility: str
    args: dict
    known: tuple[Known, ...] = ()


def case_rng(seed: int, problem: Problem, visibility: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"{problem.id}/{visibility}".encode()), index])


def generate(course: Course, problem: Problem, seed: int, visibility: str, index: int) -> dict:
    generator = getattr(course.generators[problem.assignment], problem.generator)
    rng = case_rng(seed, problem, visibility, index)
    return generator(rng, index=index) if _takes_index(generator) else generator(rng)


def _takes_index(generator) -> bool:
    try:
        return "index" in inspect.signature(generator).parameters
    except (TypeError, ValueError):  # not introspectable (a builtin): called with rng alone
        return False


def cases_for(course: Course, problem: Problem, *, hidden: bool,
              hidden_seed: int | None = None) -> list[Case]:
    """The problem's public cases, and its hidden ones when `hidden` is true."""
    assignment = course.assignments[problem.assignment]
    cases = [Case(problem, c.name, PUBLIC, c.args, c.known) for c in problem.literal_cases]
    cases += [Case(problem, f"public-{i}", PUBLIC,
                   generate(course, problem, assignment.public_seed, PUBLIC, i))
              for i in range(1, problem.public + 1)]
    if hidden:
        seed = assignment.hidden_seed if hidden_seed is None else hidden_seed
        cases += [Case(problem, f"hidden-{i}", HIDDEN, generate(course, problem, seed, HIDDEN, i))
                  for i in range(1, problem.hidden + 1)]
    return cases
