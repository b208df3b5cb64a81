"""HTML reports rendered with Jinja2 (autoescaped: everything that came from student code is
shown as text): a page per student and the class summary page. The template contexts are
built by plain functions, testable without rendering.
"""
from __future__ import annotations

from collections import Counter
from functools import cache

from grader.results.model import SubmissionResult, has_grader_error


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape
    return Environment(loader=PackageLoader("grader.report", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def student_context(result: SubmissionResult) -> dict:
    return {
        "student": result.student, "score": result.score, "max_score": result.max_score,
        "grader_error": result.grader_error,
        "problems": [{
            "id": p.problem_id, "points": p.points, "max_points": p.max_points,
            "passed": p.passed, "grader_error": p.grader_error, "mistakes": p.mistakes,
            "cases": [{"id": c.case_id, "visibility": c.visibility, "passed": c.passed,
                       "feedback": c.feedback, "output": c.output,
                       "output_dropped": c.output_dropped} for c in p.cases],
        } for p in result.problems],
    }


def histogram(scores: list[float], maximum: float, bins: int = 10) -> list[dict]:
    """Counts of scores in `bins` equal ranges of [0, maximum], for the distribution plot."""
    counts = [0] * bins
    for score in scores:
        index = min(int(score / maximum * bins), bins - 1) if maximum > 0 else 0
        counts[index] += 1
    width = maximum / bins if maximum else 0
    return [{"low": round(i * width, 2), "high": round((i + 1) * width, 2), "count": n}
            for i, n in enumerate(counts)]


class ClassSummary:
    """The class page's figures, accumulated one student at a time, so that summarising a
    class never holds more than one student's full result in memory."""

    def __init__(self):
        self.students: list[dict] = []
        self.rates: dict[str, list[int]] = {}  # problem id -> [passed, graded]
        self.mistakes: Counter = Counter()

    def add(self, result: SubmissionResult) -> None:
        error = result.grader_error or next(
            (f"{p.problem_id}: {p.grader_error}" for p in result.problems if p.grader_error), None)
        self.students.append({"name": result.student, "score": result.score,
                              "max_score": result.max_score, "grader_error": error,
                              "points": {p.problem_id: p.points for p in result.problems}})
        if has_grader_error(result):
            return
        for problem in result.problems:
            counts = self.rates.setdefault(problem.problem_id, [0, 0])
            counts[0] += problem.passed
            counts[1] += 1
            self.mistakes.update((problem.problem_id, m) for m in problem.mistakes)

    def context(self) -> dict:
        graded = [s for s in self.students if not s["grader_error"]]
        maximum = max((s["max_score"] for s in self.students), default=0.0)
        bins = histogram([s["score"] for s in graded], maximum)
        return {
            "students": self.students, "count": len(self.students), "maximum": maximum,
            "mean": sum(s["score"] for s in graded) / len(graded) if graded else 0.0,
            "histogram": bins, "tallest": max((b["count"] for b in bins), default=0) or 1,
            "rates": [{"id": pid, "passed": passed, "students": total,
                       "rate": passed / total if total else 0.0}
                      for pid, (passed, total) in self.rates.items()],
            "mistakes": [{"problem": p, "message": m, "students": n}
                         for (p, m), n in self.mistakes.most_common(10)],
            "grader_errors": [{"name": s["name"], "error": s["grader_error"]}
                              for s in self.students if s["grader_error"]],
        }


def render_student(result: SubmissionResult) -> str:
    return _environment().get_template("report.html").render(student_context(result))


def render_class(summary: ClassSummary) -> str:
    return _environment().get_template("index.html").render(summary.context())
