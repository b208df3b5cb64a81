"""HTML reports rendered with Jinja2 (autoescaped: everything that came from student code is
shown as text): a page per student and the class summary page. The template contexts are
built by plain functions, testable without rendering.
"""
from __future__ import annotations

from collections import Counter
from functools import cache

from grader.results import SubmissionResult


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape
    return Environment(loader=PackageLoader("grader", "templates"),
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


def class_context(results: list[SubmissionResult]) -> dict:
    graded = [r for r in results if not r.grader_error]
    maximum = max((r.max_score for r in results), default=0.0)
    problem_ids = [p.problem_id for p in results[0].problems] if results else []
    rates = []
    for problem_id in problem_ids:
        rows = [p for r in graded for p in r.problems if p.problem_id == problem_id]
        passed = sum(p.passed for p in rows)
        rates.append({"id": problem_id, "passed": passed, "students": len(rows),
                      "rate": passed / len(rows) if rows else 0.0})
    mistakes = Counter((p.problem_id, m) for r in graded for p in r.problems for m in p.mistakes)
    bins = histogram([r.score for r in graded], maximum)
    return {
        "students": [{"name": r.student, "score": r.score, "max_score": r.max_score,
                      "grader_error": r.grader_error} for r in results],
        "count": len(results), "maximum": maximum,
        "mean": sum(r.score for r in graded) / len(graded) if graded else 0.0,
        "histogram": bins, "tallest": max((b["count"] for b in bins), default=0) or 1,
        "rates": rates,
        "mistakes": [{"problem": p, "message": m, "students": n}
                     for (p, m), n in mistakes.most_common(10)],
        "grader_errors": [{"name": r.student, "error": r.grader_error}
                          for r in results if r.grader_error],
    }


def render_student(result: SubmissionResult) -> str:
    return _environment().get_template("report.html").render(student_context(result))


def render_class(results: list[SubmissionResult]) -> str:
    return _environment().get_template("index.html").render(class_context(results))
