"""The message a student reads about a `Mismatch`: where in the output, what was expected and
what was found; for numbers, how many elements differ out of how many, the first differing
indices with yours | expected, the largest absolute and relative differences among them and
the tolerance used (the information numpy's assert_allclose gives, and where it happened).
"""
from __future__ import annotations

from typing import Callable

from grader.compare.mismatch import Mismatch, compare, number
from grader.course.model import Tolerance


def where(path: tuple) -> str:
    """Where in the output a difference is: `In output['U'][2]: ` (see `named`)."""
    return f"In {named(path)}: " if path else ""


def named(path: tuple) -> str:
    """A part of the output: `output['U'][2]`. A first key that is not a name (a driver's
    label such as "config['m'] (step 2)") is shown as it is."""
    first, rest = path[0], path[1:]
    if isinstance(first, str) and not first.isidentifier():
        return first + "".join(f"[{p!r}]" for p in rest)
    return "output" + "".join(f"[{p!r}]" for p in path)


def _listing(mismatch: Mismatch, mine: str) -> str:
    rows = [f"First differences (index: {mine} | expected):"]
    for difference in mismatch.differences:
        rows.append(f"  {list(difference.index)}: {number(difference.yours)} | "
                    f"{number(difference.expected)}")
    more = mismatch.count - len(mismatch.differences)
    if more > 0:
        rows.append(f"  ... and {more} more")
    return "\n".join(rows)


# How the lines that end a message begin: what the student's answer evidently is (its
# likeness, or None), and the other outputs that differ too. The class page and the
# terminal's short form look for them.
ANSWER_IS = "Your answer is "
NONE_RETURNED = "Your function returned None"
NONE_PART = "That part of your answer is None"
SAID_OF_THE_ANSWER = (ANSWER_IS, NONE_RETURNED, NONE_PART)
ALSO = "Also not as expected: "

LIKENESS = {
    "transposed": "{Mine} is the expected one transposed (rows and columns swapped).",
    "negated": "{Mine} is the expected one with its sign flipped.",
    "float32": "{Mine} is float32, and the expected value at that precision (about 7 "
               "significant digits): compute in float64, NumPy's default.",
    "float16": "{Mine} is float16, and the expected value at that precision (about 3 "
               "significant digits): compute in float64, NumPy's default.",
}


def render(mismatch: Mismatch, mine: str = "yours") -> str:
    """The full message for one mismatch; `mine` names the value compared with the expected
    one (the student's, "yours", unless an instructor's tool says whose). What the value
    evidently is (transposed, negated, of a lower precision, rounded) ends it, when it is
    known."""
    text = _render(mismatch, mine)
    if mismatch.others:
        text += "\n" + ALSO + ", ".join(named((key,)) for key in mismatch.others) + "."
    whose = "Your answer" if mine == "yours" else f"The {mine}'s answer"
    if mismatch.likeness in LIKENESS:
        text += "\n" + LIKENESS[mismatch.likeness].format(Mine=whose)
    elif mismatch.likeness.startswith("rounded to "):
        places = int(mismatch.likeness.rsplit(" ", 1)[1])
        text += (f"\n{whose} is the expected one rounded to {places} decimal place"
                 f"{'s' if places != 1 else ''}: return it at full precision (round only what "
                 "you print).")
    return text


def _render(mismatch: Mismatch, mine: str) -> str:
    at = where(mismatch.path)
    stage = mismatch.stage
    if stage in ("type", "length"):
        text = f"{at}expected {mismatch.expected}, got {mismatch.actual}."
        if mismatch.actual == "None" and mine == "yours":  # a stub, or a `return` left out
            text += (f"\n{NONE_PART}: is it still the starter code's placeholder?"
                     if mismatch.path else
                     f"\n{NONE_RETURNED}: is a `return` missing, or is it still the starter code?")
        return text
    if stage == "keys":
        parts = [f"missing keys {list(mismatch.missing)}" if mismatch.missing else "",
                 f"unexpected keys {list(mismatch.extra)}" if mismatch.extra else ""]
        return f"{at}the dict has {' and '.join(p for p in parts if p)}."
    if stage == "shape":
        if mismatch.expected_shape == ():
            return f"{at}expected a single number, got an array of shape {mismatch.actual_shape}."
        return (f"{at}shape mismatch: expected {mismatch.expected_shape}, got "
                f"{mismatch.actual_shape}" + (" (a list)" if mismatch.from_list else "") + ".")
    if stage == "bools":
        first = mismatch.differences[0]
        return (f"{at}{mismatch.count} / {mismatch.total} bools differ; first at "
                f"{list(first.index)}: {mine} {first.yours}, expected {first.expected}.")
    if stage == "nan":
        also = (f" Besides, {mismatch.also} of the other elements are not equal to tolerance "
                f"{mismatch.tolerance}." if mismatch.also else "")
        return (f"{at}NaN/inf positions differ: {mismatch.count} / {mismatch.total} elements."
                f"{also}\n" + _listing(mismatch, mine))
    lines = [f"{at}not equal to tolerance {mismatch.tolerance}."]
    if mismatch.scalar:
        first = mismatch.differences[0]
        width = max(len(mine), len("expected")) + 2
        lines += [f"  {mine + ':':<{width}}{number(first.yours)}",
                  f"  {'expected:':<{width}}{number(first.expected)}"]
    else:
        lines.append(f"Mismatched elements: {mismatch.count} / {mismatch.total} "
                     f"({100 * mismatch.count / mismatch.total:.3g}%)")
    lines.append(f"Max absolute difference among violations: {number(mismatch.max_abs)}")
    lines.append(f"Max relative difference among violations: {number(mismatch.max_rel)}")
    if not mismatch.scalar:
        lines.append(_listing(mismatch, mine))
    return "\n".join(lines)


def explain(actual, expected, tolerance: Callable[[str], Tolerance] | Tolerance, *,
            mine: str = "yours") -> str | None:
    """None if `actual` matches `expected`, else the message (compare, then render; `mine`
    names `actual`)."""
    mismatch = compare(actual, expected, tolerance)
    return None if mismatch is None else render(mismatch, mine)
