"""The verdicts an engine has reached, kept by problem, case and the exact contents of the
answers: a digest of what they were decoded from (the bytes of the child's frame that held
each value, which decode to the same value every time), or, for answers given otherwise, of
their types, shapes and bytes; computed here, never anything the child says about them. A
class shares most of its answers, the right ones and the common wrong ones, and a
deterministic kind's verdict depends on nothing else: each later student with the same
answers gets the same verdict without the comparison, its description or the statistical
test being made again, nor what reports show of those answers (their
picture, the answer as kept for the class page; see `Verdicts.show`). What the kept verdicts
hold (their messages, the answers their differences keep and what is shown of them) is bounded,
the least recently recalled dropped first, so memory stays flat however many students are
graded. Only kinds that say their verdict is deterministic are recalled.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from grader.results.common import fingerprint

BUDGET = 32 << 20  # bytes kept at most, counted as `_held` counts them
ENTRY = 2560       # bytes of a kept verdict's objects and key besides its text and arrays
# (measured with tracemalloc, text and arrays included: 1.4-2.4 KB for a wrong number or small
# array, its difference described; about 400 bytes for a passing verdict)


def _held(verdict) -> int:
    """The bytes a kept verdict holds: its objects, its message (four bytes a character if
    one is wide), and the arrays its difference keeps (for pictures: the answer and the
    expected value, as compared)."""
    message = verdict.message or ""
    arrays = (getattr(verdict.mismatch, name, None) for name in ("yours", "wanted"))
    return ENTRY + len(message) * (1 if message.isascii() else 4) \
        + sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


class Verdicts:
    """`of(kind, ...)` is `kind.verdict(...)`, remembered for answers seen before."""

    def __init__(self, budget: int = BUDGET):
        self.budget, self.held = budget, 0
        self._kept: OrderedDict[tuple, tuple] = OrderedDict()  # key -> (verdict, bytes)
        self._keys: dict[int, tuple] = {}  # id of a kept verdict -> its key
        self._lock = threading.Lock()  # an engine may judge in several threads
        self.hits = self.misses = 0

    def of(self, kind, problem, case, values: list, expected, course, *,
           digests: list | None = None):
        """`digests`, when every answer has one, are those of what the values were decoded
        from (see grader.sandbox.host.Outcome): the values need no digest of their own."""
        if not kind.deterministic:
            return kind.verdict(problem, case, values, expected, course)
        if digests and None not in digests:
            key, sizes = (problem.id, case.id, "frames", *digests), []
        else:
            prints = [fingerprint(value) for value in values]  # (digest, size of its data)
            key = (problem.id, case.id, "values", *(digest for digest, _ in prints))
            sizes = [size for _, size in prints]
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self.hits += 1
                self._kept.move_to_end(key)  # the least recently recalled go first
                return found[0]
            self.misses += 1
        verdict = kind.verdict(problem, case, values, expected, course)
        cost = _held(verdict)
        if any(math.isinf(size) for size in sizes) or cost > self.budget:
            return verdict  # a value not from the wire, or too large to keep
        with self._lock:
            if key not in self._kept:
                self._kept[key] = (verdict, cost)
                self._keys[id(verdict)] = key
                self.held += cost
            self._release()
        return verdict

    def show(self, verdict, name: str, make):
        """What reports show, under `name`, of the answers given `verdict` (their picture, the
        answer as kept): `make()` gives it and its bytes for the first of them; the others
        share it. While the verdict is kept here, those bytes count against the budget."""
        if name in verdict.shown:
            return verdict.shown[name]
        value, size = make()
        verdict.shown[name] = value
        with self._lock:
            key = self._keys.get(id(verdict))
            if key is not None and self._kept[key][0] is verdict:
                self._kept[key] = (verdict, self._kept[key][1] + size)
                self.held += size
                self._release()
        return value

    def _release(self) -> None:
        """Drop the least recently recalled verdicts until the rest fit in the budget (call
        with the lock held)."""
        while self.held > self.budget:
            _, (dropped, cost) = self._kept.popitem(last=False)
            del self._keys[id(dropped)]
            self.held -= cost
