"""The class page's figures (`ClassSummary`), accumulated one student at a time: the
gradebook's rows, the score histogram and its geometry, per-problem figures, the wrong answers
and errors students share (grouped, with what each group was told; the same students' wrong
answers across problems, joined), the known mistakes made and the failures of whole files; and
the rows of common-wrong-answers.csv. Plain data for the template (see
grader.report.render.render_class), testable without rendering.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Container

from grader.compare.message import SAID_OF_THE_ANSWER
from grader.results.summary import (file_level, file_problems, fraction, points,
                                   without_mistake)
from grader.results.common import hint
from grader.results.model import SubmissionResult, has_grader_error


def diagnosis(case) -> str:
    """What the grader told a student of a wrong answer, for the class page: the first line of
    the case's feedback (a known mistake's sentence aside), and its last if it says what the
    answer evidently is ("Your answer is the expected one transposed ...")."""
    lines = without_mistake(case.feedback, case.mistake).splitlines()
    if not lines:
        return ""
    said = lines[0]
    if len(lines) > 1 and lines[-1].startswith(SAID_OF_THE_ANSWER):
        said += " " + lines[-1]
    return said


def _missing(problem) -> bool:
    """Whether a problem's file was not handed in (every case says so)."""
    return bool(problem.cases) and all(c.error_kind == "missing_file" for c in problem.cases)


def histogram(scores: list[float], maximum: float, bins: int = 10) -> list[dict]:
    """Counts of scores in `bins` equal ranges of [0, maximum] (full marks in the last)."""
    counts = [0] * bins
    for score in scores:
        index = min(int(score / maximum * bins), bins - 1) if maximum > 0 else 0
        counts[index] += 1
    width = maximum / bins if maximum else 0
    return [{"low": round(i * width, 2), "high": round((i + 1) * width, 2), "count": n}
            for i, n in enumerate(counts)]


def bin_count(maximum: float) -> int:
    """Ten bins, or one per point when the maximum is a small whole number."""
    if maximum > 0 and float(maximum).is_integer() and maximum <= 20:
        return int(maximum)
    return 10


# The plot's frame in SVG units: the bars stand on the x axis, left of them the y axis; a
# bar's count is written count_font high, 4 units above the bar.
PLOT = {"width": 640, "height": 270, "left": 64, "right": 616, "top": 24, "bottom": 200,
        "count_font": 11}


def _steps(tallest: int) -> list[int]:
    """Whole-number ticks of the count axis (steps of 1, 2, 5, 10, 20, 50, ...), at most six."""
    step, scale = 1, 1
    while tallest / step > 5:
        for factor in (1, 2, 5):
            step = factor * scale
            if tallest / step <= 5:
                break
        scale *= 10
    return list(range(0, tallest + 1, step)) if tallest else [0]


def histogram_plot(scores: list[float], maximum: float, mean: float | None) -> dict:
    """The geometry of the score distribution plot: bars, axis ticks and labels, the mean."""
    bins = histogram(scores, maximum, bin_count(maximum))
    tallest = max((b["count"] for b in bins), default=0)
    ticks_y = _steps(tallest)
    top_count = max(ticks_y[-1], tallest, 1)
    left, right, top, bottom = PLOT["left"], PLOT["right"], PLOT["top"], PLOT["bottom"]
    slot = (right - left) / len(bins)

    def x_of(score: float) -> float:
        return round(left + (score / maximum if maximum else 0) * (right - left), 1)

    def y_of(count: float) -> float:
        return round(bottom - count / top_count * (bottom - top), 1)

    bars = [{"x": round(left + i * slot + 2, 1), "width": round(slot - 4, 1),
             "y": y_of(b["count"]), "height": round(bottom - y_of(b["count"]), 1),
             "count": b["count"], "middle": round(left + (i + 0.5) * slot, 1),
             "range": f"{points(b['low'])} to {points(b['high'])}"}
            for i, b in enumerate(bins)]
    edges = [b["low"] for b in bins] + [maximum]
    every = 1 if len(edges) <= 11 else 2
    ticks_x = [{"x": x_of(edge), "label": points(edge), "maximum": i == len(edges) - 1}
               for i, edge in enumerate(edges) if i % every == 0 or i == len(edges) - 1]
    return {**PLOT, "bars": bars, "ticks_x": ticks_x,
            "ticks_y": [{"y": y_of(t), "label": t} for t in ticks_y],
            "maximum": points(maximum),
            "mean": None if mean is None else {  # its label above the tallest bar's count
                "x": x_of(mean), "y": top - 4 - PLOT["count_font"], "label": points(mean)}}


class ClassSummary:
    """The class page's figures, accumulated one student at a time, so that summarising a
    class never holds more than one student's full result in memory. Summaries of parts of a
    class (each process's students) `merge` into the summary of the whole, the same whatever
    the order the students came in; a summary pickles without its tolerance."""

    def __init__(self, tolerance=None, *, share: int = 1):
        """`tolerance` maps a problem id to its tolerance (as `compare` takes it), for
        grouping the class's wrong answers; without it, only identical answers group. A
        summary of one of `share` parts of a class holds that share of the memory for wrong
        answers (see grader.results.common)."""
        from grader.course.model import Tolerance
        from grader.results.common import KEPT, CommonAnswers
        self._students: dict[str, dict] = {}
        self.rates: dict[str, list[int]] = {}  # problem id -> [passed, graded]
        self.missing: Counter = Counter()  # problem id -> students without its file
        self.unloaded: Counter = Counter()  # problem id -> students whose file did not load
        self.spread: dict[str, list[int]] = {}  # problem id -> [full, partial, zero] points
        self.mistakes: Counter = Counter()
        self.hidden_cases: set[tuple[str, str]] = set()  # (problem id, case id) of answers
        # (problem id, first line of an error) -> the students whose code failed so
        self.errors: dict[tuple[str, str], dict[str, None]] = {}
        # (error kind, problems stopped) of a file-level failure -> the students it stopped
        self.file_failures: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        self.common = CommonAnswers(tolerance or (lambda problem_id: Tolerance(0.0, 0.0)),
                                    kept=KEPT // share)

    def __getstate__(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "_groups"}

    @property
    def students(self) -> list[dict]:
        """Every student summarised, by name."""
        return [self._students[name] for name in sorted(self._students)]

    def __contains__(self, student: str) -> bool:
        return student in self._students

    def add(self, result: SubmissionResult) -> None:
        """One student's result (a student is summarised once)."""
        if result.student in self._students:
            raise ValueError(f"{result.student} is summarised already")
        failed = [p for p in result.problems if p.grader_error]
        error = result.grader_error or None
        if not error and failed:  # each problem named, the first one's error said
            error = f"{failed[0].problem_id}: {failed[0].grader_error}" + "".join(
                f"; {p.problem_id} too" for p in failed[1:])
        self._students[result.student] = {  # a problem the grader failed on has no points
            "name": result.student, "score": result.score, "max_score": result.max_score,
            "grader_error": error, "total": fraction(result.score, result.max_score),
            "points": {p.problem_id: None if p.grader_error else p.points
                       for p in result.problems}}
        if has_grader_error(result):
            return
        stopped: dict[tuple[str, str], dict[str, None]] = {}  # (kind, assignment) -> problems
        for failure in file_problems(result):  # a package's files failing alike: one line
            for problem_id in failure.problems:
                stopped.setdefault((failure.kind, problem_id.split(".")[0]), {})[problem_id] = None
        failures = {(kind, tuple(problems)) for (kind, _), problems in stopped.items()}
        if result.problems and all(_missing(p) for p in result.problems):
            failures = {("nothing", ())}  # one line, not one per homework
        for key in failures:
            self.file_failures.setdefault(key, []).append(result.student)
        for problem in result.problems:
            counts = self.rates.setdefault(problem.problem_id, [0, 0])
            spread = self.spread.setdefault(problem.problem_id, [0, 0, 0])
            if _missing(problem):
                self.missing[problem.problem_id] += 1  # not in its figures: counted apart
                continue
            if problem.cases and all(file_level(c) for c in problem.cases):
                self.unloaded[problem.problem_id] += 1
                continue
            counts[0] += problem.passed
            counts[1] += 1
            spread[0 if problem.passed else 1 if problem.points > 0 else 2] += 1
            self.mistakes.update((problem.problem_id, m) for m in problem.mistakes)
            for case in problem.cases:
                if case.answer is not None and not case.passed:
                    self._add_answer(result.student, problem.problem_id, case)
                elif case.error_kind not in (None, "not_run") and not case.passed \
                        and not file_level(case):
                    line = case.first_line[:ERROR_LINE]
                    self.errors.setdefault((problem.problem_id, line), {})[result.student] = None

    def merge(self, other: "ClassSummary") -> None:
        """Add the students of `other` (which is consumed; none of them summarised here)."""
        if not self._students.keys().isdisjoint(other._students):
            raise ValueError("the summaries share students")
        self._students.update(other._students)
        for counted, theirs in ((self.rates, other.rates), (self.spread, other.spread)):
            for problem_id, counts in theirs.items():
                mine = counted.setdefault(problem_id, [0] * len(counts))
                mine[:] = [a + b for a, b in zip(mine, counts)]
        self.mistakes.update(other.mistakes)
        self.missing.update(other.missing)
        for key, students in other.errors.items():
            self.errors.setdefault(key, {}).update(students)
        self.unloaded.update(other.unloaded)
        self.hidden_cases |= other.hidden_cases
        for key, students in other.file_failures.items():
            self.file_failures.setdefault(key, []).extend(students)
        self.common.merge(other.common)
        self.__dict__.pop("_groups", None)

    def _ranked_mistakes(self) -> list[tuple[tuple[str, str], int]]:
        """(problem id, message) and its count, most frequent first, then by problem and
        message."""
        return sorted(self.mistakes.items(), key=lambda item: (-item[1], item[0]))

    def _add_answer(self, student: str, problem_id: str, case) -> None:
        from grader.results.common import Record
        from grader.sandbox import wire
        try:
            value = wire.decode(case.answer)
        except wire.WireError:  # a damaged grade.json: that answer is not grouped
            return
        self.common.add(Record(student, problem_id, case.case_id, value, case.mistake,
                               diagnosis=diagnosis(case)))
        if case.visibility == "hidden":
            self.hidden_cases.add((problem_id, case.case_id))

    def common_groups(self) -> list:
        """The class's shared wrong answers, largest groups first (see grader.results.common)."""
        if not hasattr(self, "_groups"):
            self._groups = self.common.groups()
        return self._groups

    def _problems(self) -> list[dict]:
        """Per problem, of the students whose file of it was handed in and loaded: how many
        earned full, partial and no points, and the share who made each declared mistake; and
        how many did not hand it in, and whose file did not load (a syntax error ...)."""
        rows = []
        for problem_id, (full, partial, zero) in self.spread.items():
            total = full + partial + zero
            mistakes = [{"message": m, "students": n, "share": n / total}
                        for (p, m), n in self._ranked_mistakes() if p == problem_id]
            passed = self.rates[problem_id][0]
            rows.append({"id": problem_id, "students": total, "full": full, "passed": passed,
                         "rate": passed / total if total else 0.0,
                         "partial": partial, "zero": zero,
                         "missing": self.missing[problem_id],
                         "unloaded": self.unloaded[problem_id],
                         "widths": [round(100 * n / total, 1) if total else 0
                                    for n in (full, partial, zero)],
                         "mistakes": mistakes})
        return rows

    def _file_failures(self) -> list[dict]:
        """Each file-level failure by kind and the problems it stopped, with its students: the
        most students first (then by kind and problems). Problems that are all of an
        assignment's (as far as the class shows them) are said as that assignment."""
        assignments: dict[str, int] = Counter(p.split(".")[0] for p in self.spread)
        rows = sorted(self.file_failures.items(), key=lambda item: (-len(item[1]), item[0]))

        def stopped(problems: tuple[str, ...]) -> str:
            if not problems:
                return "all"
            names = sorted({p.split(".")[0] for p in problems})
            if len(names) == 1 and len(problems) == assignments[names[0]]:
                return f"all of {names[0]} ({len(problems)})"
            return ", ".join(problems)
        return [{"what": FILE_FAILURES.get(kind, kind), "stopped": stopped(problems),
                 "count": len(students), **_who(sorted(students))}
                for (kind, problems), students in rows]

    def _mistakes_by_message(self) -> list[dict]:
        """Each declared mistake made, once per message (one misconception may be declared on
        several problems), with the problems it was made on and how many students made it on
        each; the most made first."""
        rows: dict[str, list[tuple[str, int]]] = {}
        for (problem_id, message), count in self._ranked_mistakes():
            rows.setdefault(message, []).append((problem_id, count))
        return [{"message": message, "problems": made} for message, made in rows.items()]

    def _common_errors(self) -> list[dict]:
        """Errors several students' code met on the same problem (the same first line: an
        exception raised, a function missing, a type refused), the most students first."""
        rows = sorted(((key, list(students)) for key, students in self.errors.items()
                       if len(students) >= 2), key=lambda item: (-len(item[1]), item[0]))
        return [{"problem": problem_id, "error": line, "count": len(students),
                 **_who(sorted(students))}
                for (problem_id, line), students in rows[:COMMON_SHOWN]]

    def context(self) -> dict:
        students = self.students
        graded = [s for s in students if not s["grader_error"]]
        maximum = max((s["max_score"] for s in students), default=0.0)
        mean = sum(s["score"] for s in graded) / len(graded) if graded else 0.0
        return {
            "students": students, "count": len(students), "maximum": maximum,
            "mean": mean, "graded": len(graded),
            "plot": histogram_plot([s["score"] for s in graded], maximum,
                                   mean if graded else None),
            "mistakes": self._mistakes_by_message(),
            "problems": self._problems(),
            **_shown_rows(common_rows(self.common_groups(), self.hidden_cases)),
            "across": across_problems(self.common_groups()),
            "file_failures": self._file_failures(),
            "common_errors": self._common_errors(),
            "grader_errors": [{"name": s["name"], "error": s["grader_error"]}
                              for s in students if s["grader_error"]],
        }


# What each file-level failure (grader.results.summary.FILE_LEVEL_KINDS) is, on the class page
FILE_FAILURES = {"nothing": "handed in nothing", "missing_file": "not handed in",
                 "syntax": "a syntax error",
                 "import": "failed while loading (an error, an exit or a limit)",
                 "files_too_large": "files too large to grade"}
ERROR_LINE = 200  # characters of an error's first line kept to group the class's errors
SHOWN_STUDENTS = 12  # students named in a row of the class page (the others counted)
COMMON_SHOWN = 50  # rows of common wrong answers on the class page (all go to the CSV)


def _who(students) -> dict:
    """The students a row of the class page names, in the order given, and how many more."""
    return {"students": list(students[:SHOWN_STUDENTS]),
            "more": max(0, len(students) - SHOWN_STUDENTS)}


def _shown_rows(rows: list[dict]) -> dict:
    """The rows of shared wrong answers the class page shows (the first COMMON_SHOWN: the
    undeclared ones first, then the largest), and what it leaves to the CSV: how many rows,
    how many of the CSV's, on which problems."""
    rows = sorted(rows, key=lambda row: row["declared"] is not None)  # stable: largest first
    left = rows[COMMON_SHOWN:]
    return {"common": rows[:COMMON_SHOWN], "common_left": len(left),
            "common_left_csv": sum(len(row["cases"]) for row in left),
            "common_left_problems": sorted({row["problem"] for row in left})}


def common_rows(groups: list, hidden: Container[tuple[str, str]] = ()) -> list[dict]:
    """The class page's rows of shared wrong answers: the groups of one problem that hold the
    same students (one mistake, made on each of the problem's cases) are one row, which names
    their cases, public ones first (those whose (problem, case) is not in `hidden`), and shows
    the answer to the first; in the order of `groups` (largest first). common-wrong-answers.csv
    keeps a row per case."""
    joined: dict[tuple, list] = {}
    for g in groups:
        joined.setdefault((g.problem_id, g.students, g.declared_mistake), []).append(g)
    rows = []
    for same in joined.values():
        same.sort(key=lambda g: (g.problem_id, g.case_id) in hidden)  # stable: public first
        first = same[0]
        rows.append({"problem": first.problem_id, "cases": [g.case_id for g in same],
                     "count": first.count, **_who(first.students), "answer": first.answer,
                     "diagnosis": first.diagnosis, "declared": first.declared_mistake,
                     "hint": hint(first)})
    return rows


def across_problems(groups: list) -> list[dict]:
    """The class page's rows of students who share wrong answers on several problems: the
    groups of `groups` (see grader.results.common) whose students are the same, once they span
    two problems or more, as one row naming the students and the problems, the most students
    first, then the most problems. One mistake (a helper the functions share, a formula
    learned wrong) shows as one row, not one per problem. At most COMMON_SHOWN rows."""
    problems: dict[tuple[str, ...], set[str]] = {}
    for group in groups:
        problems.setdefault(tuple(sorted(group.students)), set()).add(group.problem_id)
    rows = [{"problems": sorted(ids), "count": len(students), **_who(students)}
            for students, ids in problems.items() if len(ids) >= 2]
    rows.sort(key=lambda row: (-row["count"], -len(row["problems"]), row["problems"],
                               row["students"]))
    return rows[:COMMON_SHOWN]
