"""Mistakes nobody declared: across a class, the wrong answers to one case that several students
share, identical or within the problem's tolerance of each other, grouped so the instructor can
declare the common ones as known mistakes. A group of one is not a group.

Answers are the decoded values the grader compared (numbers, NumPy arrays, and lists, tuples and
dicts of them: what `grader.sandbox.wire.decode` gives), added one record at a time, so a class
can be streamed through, and the answers of parts of a class (the shards or processes that
graded them) merge. Only wrong answers are kept, and only as much as grouping needs: each
distinct answer once, with what the grader told its students (`DIAGNOSIS` characters of it); an
answer whose data is larger than `LARGE` bytes is kept as a digest of its exact contents only
(and a short rendering), and so groups only with identical answers. So is every answer past
`KEPT` bytes of answers held: the values kept are those of the smallest digests that fit, which
depends on which answers there are, never on their order.

Grouping, per case: identical answers are merged by digest as they arrive; then, largest first
(ties: by the first of their students' names), each distinct answer joins the largest group so
far (ties: the earliest) whose leader it matches by `grader.compare.mismatch.compare` under the
problem's tolerance (the leader standing as the expected value), or leads a group of its own.
Nothing depends on the order the answers came in, and a class graded by several processes (each
with its share of `KEPT`) groups as one graded in turn as long as each share holds its process's
answers. Lists and tuples of numbers are taken as the arrays they stand for, as compare() takes
them; answers of different structures (types, shapes, exact parts, NaN/inf positions) are never
grouped. Within a structure, an answer is only compared with leaders it may match: whose
weighted sum lies within the leader's tolerance of the leader's, and whose numbers at `PROBES`
fixed places of each output are within the tolerance of the answer's there; every match meets
these conditions, so they prune without losing one. Answers that pass them and still fail (near
misses, or answers crafted to differ only at places not probed) cannot make grouping quadratic:
each answer's comparisons that fail may cost `ROUNDS` times comparing it once, and beyond that
draw on a pool of as much for the whole structure; weighing candidates has a budget of as much
too, after which the answers left lead groups of their own (identical ones still merge). As an
answer tries the largest groups first, crafted answers cost an honest group none of its students
unless they outnumber it. Answers are made float `CHUNK` bytes at a time, so grouping answers of
small integers takes no more memory than floats would.
"""
from __future__ import annotations

import hashlib
import heapq
import math
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from grader.compare.message import SAID_OF_THE_ANSWER
from grader.compare.mismatch import LARGEST, matches
from grader.course.model import Tolerance

LARGE = 64 * 1024   # bytes of an answer's data above which it is grouped by its digest only
KEPT = 256 << 20    # bytes of answers held in all; later answers are grouped by digest only
SHOWN = 120         # characters of an answer's rendering
ROUNDS = 8          # comparisons of a structure's answers cost at most this many times their size
CALL = 4096         # what one comparison costs besides its numbers, counted in numbers compared
NODE = 256          # what a part compare() walks in Python costs (a list's item), likewise
PROBES = 8          # numbers of each output, at fixed places, compared before the whole answer
CHUNK = 16 << 20    # bytes of answers made float at once (all at once, int8 would take 8x)
DIAGNOSIS = 300     # characters of what the grader told the students of an answer
CSV_COLUMNS = ("problem", "case", "students_count", "students", "answer", "declared_mistake",
               "diagnosis")

ToleranceOf = Callable[[str], "Callable[[str], Tolerance] | Tolerance"]


@dataclass(frozen=True)
class Record:
    """One student's answer to one case. `mistake` is the message of the declared mistake the
    answer matched, if any; `diagnosis`, what the grader told the student about it (see
    `grader.report.classpage.diagnosis`); records of passed cases are ignored."""
    student: str
    problem_id: str
    case_id: str
    answer: Any
    mistake: str | None = None
    passed: bool = False
    diagnosis: str = ""


@dataclass(frozen=True)
class Group:
    """Students who gave the same wrong answer to a case (identical, or within the problem's
    tolerance of the first one, whose rendering `answer` is, and `diagnosis` what the grader
    told its students). `variants` counts the distinct answers in the group, `wrong` the
    students whose answer to the case was wrong; `declared_mistake` is the message of the
    declared mistake most of them matched, if any."""
    problem_id: str
    case_id: str
    students: tuple[str, ...]
    answer: str
    declared_mistake: str | None = None
    variants: int = 1
    wrong: int = 0
    diagnosis: str = ""

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass
class _Answer:
    """One distinct answer to a case: its value (None when only its digest is kept), the size
    of its data, its rendering when the value is not kept, who gave it, and what the grader
    told them (the same for all: the answer and the case are)."""
    value: Any
    size: float
    shown: str | None = None
    students: list[str] = field(default_factory=list)
    mistakes: Counter = field(default_factory=Counter)
    diagnosis: str = ""

    def drop_value(self) -> None:
        """Keep only the rendering of the answer."""
        if self.value is not None:
            self.shown, self.value = render_answer(self.value), None


class CommonAnswers:
    """Wrong answers accumulated one record at a time (or merged from another CommonAnswers),
    grouped on demand (`groups`). `tolerance` maps a problem id to what `compare` takes: one
    Tolerance, or a function from an output key to one (such as `Problem.tolerance_for`). It
    pickles without its tolerance, for a process to send it to the one that merges."""

    def __init__(self, tolerance: ToleranceOf | None, *, large: int = LARGE, kept: int = KEPT):
        self._tolerance_of = tolerance
        self._tolerances: dict[str, Any] = {}
        self._large, self._budget = large, kept
        self._cases: dict[tuple[str, str], dict[bytes, _Answer]] = {}
        self._wrong: Counter = Counter()
        self._held = 0.0  # bytes of the values kept
        self._cutoff: bytes | None = None  # values are kept only for digests below it
        self._kept: list[tuple[bytes, bytes, tuple[str, str]]] = []  # heap, largest digest first

    def __getstate__(self) -> dict:
        return {k: v for k, v in vars(self).items() if k not in ("_tolerance_of", "_tolerances")}

    def __setstate__(self, state: dict) -> None:
        vars(self).update(state, _tolerance_of=None, _tolerances={})

    def add(self, record: Record | tuple) -> None:
        """One answer: a Record, or a tuple of its fields in order."""
        if not isinstance(record, Record):
            record = Record(*record)
        if record.passed:
            return
        student, answer, mistake = record.student, _as_arrays(record.answer), record.mistake
        key = (record.problem_id, record.case_id)
        self._wrong[key] += 1
        answers = self._cases.get(key)
        if answers is None:
            answers = self._cases[key] = {}
        digest, size = fingerprint(answer)
        found = answers.get(digest)
        if found is None:
            found = answers[digest] = _Answer(answer, size,
                                              None if answer is not None else "None")
            self._hold(key, digest, found)
        found.students.append(student)
        found.diagnosis = found.diagnosis or record.diagnosis[:DIAGNOSIS]  # one, if any, told
        if mistake:
            found.mistakes[mistake] += 1

    def merge(self, other: "CommonAnswers") -> None:
        """Add every answer of `other` (which is consumed), as if its records were added here."""
        self._cutoff = min(filter(None, (self._cutoff, other._cutoff)), default=None)
        for key, answers in other._cases.items():
            self._wrong[key] += other._wrong[key]
            mine = self._cases.setdefault(key, {})
            for digest, answer in answers.items():
                found = mine.get(digest)
                if found is None:
                    mine[digest] = answer
                    self._hold(key, digest, answer)
                    continue
                found.students += answer.students
                found.mistakes.update(answer.mistakes)
                found.diagnosis = found.diagnosis or answer.diagnosis
                if found.shown is None:
                    found.shown = answer.shown
        self._release()

    def _hold(self, key: tuple[str, str], digest: bytes, answer: _Answer) -> None:
        """Keep a new distinct answer's value if it is small enough and the budget allows."""
        if answer.value is None:
            return
        if answer.size > self._large or (self._cutoff is not None and digest >= self._cutoff):
            answer.drop_value()
            return
        self._held += answer.size
        heapq.heappush(self._kept, (bytes(255 - b for b in digest), digest, key))
        self._release()

    def _release(self) -> None:
        """Drop the values of the largest digests until the rest fit in the budget; from then
        on, only values of smaller digests are kept."""
        while self._kept:
            _, digest, key = self._kept[0]
            if self._held <= self._budget and (self._cutoff is None or digest < self._cutoff):
                return
            heapq.heappop(self._kept)
            answer = self._cases[key][digest]
            if answer.value is not None:
                self._held -= answer.size
                answer.drop_value()
            self._cutoff = digest if self._cutoff is None else min(self._cutoff, digest)

    def groups(self, minimum: int = 2) -> list[Group]:
        """Groups of at least `minimum` students, largest first."""
        found = []
        for (problem_id, case_id), answers in self._cases.items():
            tolerance = self._tolerance(problem_id)
            for answer in answers.values():
                answer.students.sort()
            for members in _cluster(answers, tolerance):
                students = tuple(dict.fromkeys(s for m in members for s in m.students))
                if len(students) < minimum:
                    continue
                mistakes = sum((m.mistakes for m in members), Counter())
                leader = members[0]
                shown = leader.shown if leader.value is None else render_answer(leader.value)
                declared = min(mistakes.items(), key=lambda item: (-item[1], item[0]),
                               default=(None,))[0]
                found.append(Group(problem_id, case_id, students, shown or "(not kept)",
                                   declared, len(members), self._wrong[problem_id, case_id],
                                   leader.diagnosis))
        found.sort(key=lambda g: (-g.count, g.problem_id, g.case_id))
        return found

    def _tolerance(self, problem_id: str):
        if problem_id not in self._tolerances:
            self._tolerances[problem_id] = self._tolerance_of(problem_id)
        return self._tolerances[problem_id]


def common_wrong_answers(records: Iterable[Record | tuple], tolerance: ToleranceOf, *,
                         minimum: int = 2) -> list[Group]:
    """The groups of wrong answers shared by at least `minimum` students, largest first."""
    common = CommonAnswers(tolerance)
    for record in records:
        common.add(record)
    return common.groups(minimum)


def _as_arrays(value):
    """An answer with its lists and tuples of numbers as the float arrays they stand for (the
    comparison takes them alike), so that one wrong answer, returned as a list by one student
    and as an array by another, is one group (arrays keep their dtype: an array's structure
    does not hold it, and CHUNK makes them float when they are compared)."""
    if isinstance(value, dict):
        return {key: _as_arrays(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and value:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError, OverflowError):  # ragged, or not numbers
            return type(value)(_as_arrays(item) for item in value)
        if array.dtype.kind in "iuf":
            return array.astype(float)
        return type(value)(_as_arrays(item) for item in value)
    return value


# ---- identity: a digest of the exact contents -------------------------------------------------

def fingerprint(value) -> tuple[bytes, float]:
    """(a digest of the value's exact contents, types included; about the bytes it holds in
    memory, decoded (see SLOT and OBJECT), and infinite for a value no answer can be, which is
    never kept)."""
    digest = hashlib.sha256()  # the fastest cryptographic hash here (CPUs hash it in hardware)
    try:
        size = _feed(digest, value)
    except RecursionError:
        digest.update(b"deep")
        size = math.inf
    return digest.digest()[:16], size


# What a decoded value holds in memory, about (CPython, 64 bits): the slot that refers to it (8
# bytes), and its object's own bytes besides its data: an answer's size counts both, so a list
# of thousands of empty dicts costs what it takes, not 8 bytes a dict.
SLOT = 8
OBJECT = {float: 24, int: 28, str: 49, np.ndarray: 112, list: 56, tuple: 40, dict: 64}
ENTRY = 16  # a dict's table, for each of its items


def data_size(value, budget: float = math.inf) -> float:
    """The size `fingerprint` gives `value`, without digesting it: counted only until it is
    over `budget` (a cheap check of whether an answer is small enough to keep)."""
    kind = type(value)
    if kind is str:
        return SLOT + OBJECT[str] + len(value.encode("utf-8", "surrogatepass"))
    if kind is int:
        return SLOT + max(OBJECT[int], len(str(value)))
    if value is None or kind in (bool, np.bool_):
        return SLOT
    if kind is float:
        return SLOT + OBJECT[float]
    if isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.kind in "biuf":
        return SLOT + OBJECT[np.ndarray] + np.asarray(value).nbytes
    if kind is list or kind is tuple or kind is dict:
        total = SLOT + OBJECT[kind] + (ENTRY * len(value) if kind is dict else 0)
        for item in (value if kind is not dict else
                     (part for pair in value.items() for part in pair)):
            total += data_size(item, budget - total)
            if total > budget:
                break
        return total
    return math.inf


def _feed(digest, value) -> float:
    kind = type(value)
    if value is None:
        digest.update(b"N;")
        return SLOT
    if kind is bool or kind is np.bool_:
        digest.update(b"B1;" if value else b"B0;")
        return SLOT
    if kind is int:
        text = str(value).encode()
        digest.update(b"I%d:%s;" % (len(text), text))
        return SLOT + max(OBJECT[int], len(text))
    if kind is float:
        digest.update(b"F" + struct.pack("<d", value))
        return SLOT + OBJECT[float]
    if kind is str:
        text = value.encode("utf-8", "surrogatepass")
        digest.update(b"S%d:" % len(text) + text)
        return SLOT + OBJECT[str] + len(text)
    if isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.kind in "biuf":
        array = np.asarray(value)
        digest.update(b"A%s%r:" % (array.dtype.str.encode(), array.shape))
        digest.update(array.data if array.flags.c_contiguous else array.tobytes())
        return SLOT + OBJECT[np.ndarray] + array.nbytes
    if kind is list or kind is tuple:
        digest.update(b"L%d[" % len(value) if kind is list else b"T%d[" % len(value))
        return SLOT + OBJECT[kind] + sum(_feed(digest, item) for item in value)
    if kind is dict:
        digest.update(b"D%d{" % len(value))
        size = SLOT + OBJECT[dict] + ENTRY * len(value)
        for key, item in value.items():
            size += _feed(digest, key) + _feed(digest, item)
        return size
    # Not a value from the wire: not kept, and the same only as the very same object.
    text = f"{kind.__module__}.{kind.__qualname__}:{id(value)}".encode()
    digest.update(b"O%d:%s;" % (len(text), text))
    return math.inf


# ---- nearness: structure, and the numbers compare() looks at -----------------------------------

def _parts(value, top: str | None, numbers: dict, exact: list) -> Any:
    """The value's structure as compare() sees it (types, shapes, dict keys) and its exact
    parts appended to `exact` (bools, strings, None, integers too large for floats); its
    numbers added to `numbers[output key]` (see _add): Python floats and NumPy arrays as they
    are (each is made float, flat, a few answers at a time: see _near), other numbers as flat
    float arrays."""
    if isinstance(value, dict):
        keys = sorted(value, key=str)
        return ("dict", tuple(map(str, keys)),
                tuple(_parts(value[k], str(k) if top is None else top, numbers, exact)
                      for k in keys))
    if isinstance(value, (list, tuple)):
        names = _indices(len(value)) if top is None else None
        return ("seq", len(value),
                tuple(_parts(v, names[i] if top is None else top, numbers, exact)
                      for i, v in enumerate(value)))
    if type(value) is float:  # the commonest part of lists: not copied
        _add(numbers, top or "", value)
        return _NUMBER
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray)
                                               and value.dtype.kind == "b"):
        exact.append(np.asarray(value).tobytes())
        return ("bool", np.shape(value))
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        _add(numbers, top or "", value)
        return ("number", value.shape)
    if isinstance(value, (int, float, np.number, np.ndarray)):
        try:
            array = np.asarray(value, dtype=float)
        except (OverflowError, TypeError, ValueError):
            exact.append(repr(value))
            return ("other",)
        _add(numbers, top or "", array.ravel())
        return ("number", array.shape)
    exact.append(repr(value) if isinstance(value, str) or value is None else type(value))
    return ("other",)


_NUMBER = ("number", ())
_INDICES: list[str] = []


def _indices(count: int) -> list[str]:
    """At least `count` output keys "0", "1", ... of a top-level sequence's items, made once
    for all answers (a list's thousands of items would each make its own)."""
    global _INDICES
    if len(_INDICES) < count:  # a new list: one that another thread reads stays as it is
        _INDICES = [str(i) for i in range(max(count, 2 * len(_INDICES)))]
    return _INDICES


def _add(numbers: dict, key: str, part) -> None:
    """Add a part (a float or an array) to an output's numbers: the part itself while it is
    the only one (most outputs have one: a list's item), else a list of them."""
    found = numbers.get(key)
    if found is None:
        numbers[key] = part
    elif type(found) is list:
        found.append(part)
    else:
        numbers[key] = [found, part]


def _split(entry) -> list:
    """An output's parts, from what _add keeps."""
    return entry if type(entry) is list else [entry]


def _count(entry) -> int:
    """How many numbers an output's parts hold."""
    return sum(1 if type(part) is float else part.size for part in _split(entry))


def _row(entry):
    """An output's numbers, flat (as they are when they are one array already)."""
    if type(entry) is not list:
        return np.ravel(entry)
    return np.concatenate([np.ravel(part) for part in entry])


_WEIGHTS = np.zeros(0)
_WEIGHT_SUMS: dict[int, float] = {}


def _weights(size: int) -> np.ndarray:
    """Fixed weights in [1, 2), different from element to element so that permutations of one
    answer (a transposed matrix) have different weighted sums."""
    global _WEIGHTS
    if size > _WEIGHTS.size:  # the same generator: a longer draw keeps the earlier weights
        _WEIGHTS = 1.0 + np.random.default_rng(0).random(max(size, 2 * _WEIGHTS.size, 1024))
    if size not in _WEIGHT_SUMS:
        _WEIGHT_SUMS[size] = float(_WEIGHTS[:size].sum())
    return _WEIGHTS[:size]


def _cluster(answers: dict[bytes, _Answer], tolerance) -> list[list[_Answer]]:
    """Greedy leader clustering of one case's distinct answers (by digest, each one's students
    sorted), most common first, then by their first student and digest; answers are compared
    only with answers of the same structure."""
    ordered = sorted(answers.items(), key=lambda item: (-len(item[1].students),
                                                         item[1].students[0], item[0]))
    groups: list[list[_Answer]] = []
    alike: dict[Any, list[tuple[_Answer, dict]]] = {}
    for _, answer in ordered:
        if answer.value is None:
            groups.append([answer])
            continue
        numbers: dict = {}
        exact: list = []
        try:
            structure = (_parts(answer.value, None, numbers, exact), tuple(exact))
            hash(structure)
        except (TypeError, RecursionError):
            groups.append([answer])
            continue
        alike.setdefault(structure, []).append((answer, numbers))
    for (_, exact), members in alike.items():
        if len(members) == 1:
            groups.append([members[0][0]])
        else:
            groups += _leaders(members, len(exact), tolerance)
    return groups


@dataclass
class _Near:
    """For the answers of one structure, at once: each one's weighted sum of its numbers
    (`keys`), how far that sum may move while every number stays within the tolerance of it
    as expected value (`radii`), the weighted sum of magnitudes (`scales`, for rounding), where
    its NaN and inf are (`special`, which compare() requires to be equal), and its numbers at
    a few fixed places (`probes`, non-finite ones as 0) with the tolerance there (`atol`,
    `rtol`)."""
    keys: np.ndarray
    radii: np.ndarray
    scales: np.ndarray
    special: list
    probes: np.ndarray
    atol: np.ndarray
    rtol: np.ndarray


def _near(members: list[tuple[_Answer, dict]], tolerance) -> _Near:
    """What `_Near` holds, for `members` (answers and their numbers by output key), made
    float a chunk of answers at a time."""
    tolerance_of = (lambda _: tolerance) if isinstance(tolerance, Tolerance) else tolerance
    count = len(members)
    key, radius, scale = np.zeros(count), np.zeros(count), np.zeros(count)
    special = [b""] * count
    probes, atol, rtol = [], [], []
    for output in sorted(members[0][1]):
        size = _count(members[0][1][output])
        if not size:
            continue
        tol, weights = tolerance_of(output), _weights(size)
        places = np.unique(np.linspace(0, size - 1, min(size, PROBES)).astype(np.intp))
        probed = np.empty((count, places.size))
        step = max(1, CHUNK // (8 * size))
        for start in range(0, count, step):  # a few answers at a time, as float
            rows = [_row(numbers[output]) for _, numbers in members[start:start + step]]
            matrix = np.array(rows, dtype=float)
            finite = np.isfinite(matrix)
            if not finite.all():
                for row in np.flatnonzero(~finite.all(axis=1)):
                    values = matrix[row]
                    code = np.where(np.isnan(values), 2,
                                    np.where(finite[row], 0, np.sign(values)))
                    special[start + row] += (output.encode() + b":"
                                             + code.astype(np.int8).tobytes())
                matrix = np.where(finite, matrix, 0.0)
            chunk = slice(start, start + len(rows))
            magnitude = np.abs(matrix) @ weights
            key[chunk] += matrix @ weights
            radius[chunk] += _WEIGHT_SUMS[size] * tol.atol + tol.rtol * magnitude
            scale[chunk] += magnitude
            probed[chunk] = matrix[:, places]
        probes.append(probed)
        atol.append(np.full(places.size, tol.atol))
        rtol.append(np.full(places.size, tol.rtol))
    if not probes:
        probes, atol, rtol = [np.zeros((count, 0))], [np.zeros(0)], [np.zeros(0)]
    return _Near(key, radius, scale, special, np.hstack(probes), np.concatenate(atol),
                 np.concatenate(rtol))


class _Leaders:
    """The leaders of one structure and one pattern of NaN and inf, in the order they came
    (which is their groups' order): their weighted sums, their reach, which answer leads."""

    def __init__(self):
        self.keys, self.reach = np.zeros(16), np.zeros(16)
        self.loose = np.zeros(16, dtype=bool)  # sum or reach not finite: always a candidate
        self.answers = np.zeros(16, dtype=np.intp)  # index of the answer that leads
        self.groups: list[int] = []
        self.count = 0

    def add(self, group: int, answer: int, key: float, reach: float) -> None:
        if self.count == self.keys.size:
            for name in ("keys", "reach", "loose", "answers"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros_like(old)]))
        loose = not (math.isfinite(key) and math.isfinite(reach))
        at = self.count
        self.keys[at], self.reach[at] = (0.0, 0.0) if loose else (key, reach)
        self.loose[at], self.answers[at] = loose, answer
        self.groups.append(group)
        self.count += 1

    def within_reach(self, key: float, scale: float) -> np.ndarray:
        """The leaders (their indices, in order) whose reach includes the sum `key`."""
        count = self.count
        if not math.isfinite(key):
            return np.arange(count)
        with np.errstate(over="ignore", invalid="ignore"):  # far sums: inf, out of reach
            return np.flatnonzero((np.abs(key - self.keys[:count])
                                   <= self.reach[:count] + 1e-9 * scale) | self.loose[:count])


def _leaders(members: list[tuple[_Answer, dict]], exact: int,
             tolerance) -> list[list[_Answer]]:
    """Leader clustering of answers of one structure (with `exact` parts each), in their order:
    each joins the largest group (in students so far; ties: the earliest) whose leader it
    matches by compare(), or leads. Only leaders it may match are compared: those whose
    weighted sum lies within their reach of the answer's, and whose numbers at the probed
    places are within the tolerance of the answer's (conditions every match meets). Each
    answer's comparisons that fail may cost ROUNDS times its numbers and a call, then draw on
    a shared pool of as much for all; once weighing candidates has cost as much, the answers
    left lead groups of their own."""
    with np.errstate(all="ignore"):
        near = _near(members, tolerance)
    keys, radii, scales = near.keys.tolist(), near.radii.tolist(), near.scales.tolist()
    counted = [sum(map(_count, numbers.values())) for _, numbers in members]
    # what weighing candidates may cost in all, and what comparisons that fail may cost
    # besides each answer's own allowance, in numbers compared (see ROUNDS)
    budget = pool = ROUNDS * sum(CALL + count for count in counted)
    # what comparisons that fail cost: their numbers and the parts compare() walks in Python
    sizes = [CALL + count + NODE * (exact + sum(len(_split(e)) for e in numbers.values()))
             for count, (_, numbers) in zip(counted, members)]
    groups: list[list[_Answer]] = []
    students: list[int] = []  # in each group so far
    state: dict[bytes, _Leaders] = {}  # NaN/inf positions -> their leaders
    for index, ((answer, _), key, radius, scale, where, size) in enumerate(
            zip(members, keys, radii, scales, near.special, sizes)):
        if budget <= 0:  # spent: the answers left lead their own groups
            groups.append([answer])
            continue
        leaders = state.setdefault(where, _Leaders())
        match = None
        if leaders.count:
            budget -= leaders.count
            found = leaders.within_reach(key, scale)
            if found.size:
                budget -= found.size * near.probes.shape[1]
                expected = near.probes[leaders.answers[found]]
                with np.errstate(all="ignore"):
                    bound = np.fmin(near.atol + near.rtol * np.abs(expected), LARGEST)
                    close = np.abs(near.probes[index] - expected) <= bound * (1 + 1e-9) + 1e-300
                found = found[close.all(axis=1)]
            allowance = ROUNDS * (CALL + counted[index])  # for comparisons that fail
            for group in sorted((leaders.groups[leader] for leader in found.tolist()),
                                key=lambda group: (-students[group], group)):
                if allowance <= 0 and pool <= 0:
                    break
                if matches(answer.value, groups[group][0].value, tolerance):
                    match = group
                    break
                if allowance > 0:
                    allowance -= size
                else:
                    pool -= size
        if match is not None:
            groups[match].append(answer)
            students[match] += len(answer.students)
            continue
        groups.append([answer])
        students.append(len(answer.students))
        reach = radius * (1 + 1e-9) + 1e-9 * scale + 1e-300  # room for rounding in the sums
        leaders.add(len(groups) - 1, index, key, reach)
    return groups


# ---- what the instructor reads ---------------------------------------------------------------

def render_answer(value, limit: int = SHOWN) -> str:
    """A short rendering of an answer, at most `limit` characters, whatever it is."""
    try:
        text = _render(value, 0)
    except Exception:  # a rendering never stops a report
        text = f"<{type(value).__name__}>"
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _render(value, depth: int) -> str:
    if depth > 4:
        return "..."
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _render(value.item(), depth)
        with np.printoptions(precision=4, threshold=8, edgeitems=2, linewidth=10 ** 6):
            body = np.array2string(value, separator=", ")
        return f"array{value.shape} {body}" if value.ndim > 1 or value.size > 8 else body
    if isinstance(value, (list, tuple)):
        items = [_render(v, depth + 1) for v in value[:6]] + (["..."] if len(value) > 6 else [])
        inside = ", ".join(items)
        return f"[{inside}]" if isinstance(value, list) else f"({inside})"
    if isinstance(value, dict):
        items = [f"{_render(k, depth + 1)}: {_render(v, depth + 1)}"
                 for k, v in list(value.items())[:6]] + (["..."] if len(value) > 6 else [])
        return "{" + ", ".join(items) + "}"
    if isinstance(value, str):
        return repr(value[:SHOWN])
    return repr(value)[:SHOWN]


def hint(group: Group) -> str:
    """One line telling the instructor how to declare the group's answer as a known mistake
    (or that it is declared already, or that the grader tells its students already)."""
    if group.declared_mistake:
        message = group.declared_mistake
        shown = message if len(message) <= 60 else message[:57] + "..."
        return f"Declared already: these students read \"{shown}\""
    assignment, _, name = group.problem_id.partition(".")
    if any(words in group.diagnosis for words in SAID_OF_THE_ANSWER):  # a mistake would repeat
        return (f"The grader tells these {group.count} students what their answer is already "
                "(above): a [[problem.mistake]] would say it again.")
    return (f"To explain it to these {group.count} students, add a [[problem.mistake]] to "
            f"problem {name or assignment} in problems/{assignment}.toml: function = a "
            "reference function returning this answer, message = what went wrong.")


def to_csv_rows(groups: Iterable[Group]) -> list[dict]:
    """One row per group, for common-wrong-answers.csv (columns: CSV_COLUMNS)."""
    return [{"problem": g.problem_id, "case": g.case_id, "students_count": g.count,
             "students": "; ".join(g.students), "answer": g.answer,
             "declared_mistake": g.declared_mistake or "", "diagnosis": g.diagnosis}
            for g in groups]
