"""HTML reports rendered with Jinja2 (autoescaped: everything that came from student code is
shown as text): a page per student and the class page. The student page's context is built by
a plain function, testable without rendering; the class page's by grader.report.classpage.
"""
from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING

from grader.results.summary import (case_feedback, file_level, file_problems, fraction,
                                   notes_besides, points, status, without_mistake)
from grader.results.model import SubmissionResult, said_once

if TYPE_CHECKING:
    from grader.report.classpage import ClassSummary


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    class DictsFirst(Environment):
        """Reads `x.key` of a context dict as its item at once (Jinja tries an attribute
        first, and a failed lookup costs an exception: thousands per report)."""

        def getattr(self, obj, attribute):
            if type(obj) is dict and attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)

    environment = DictsFirst(loader=PackageLoader("grader.report", "templates"),
                              autoescape=select_autoescape(default=True,
                                                           default_for_string=True),
                              trim_blocks=True, lstrip_blocks=True,
                              auto_reload=False)  # the package's own files: never stat them again
    environment.filters["points"] = points
    environment.globals["case_section"] = case_section
    return environment


def prepare_templates() -> None:
    """Load and compile the templates now (processes forked afterwards share them)."""
    for name in ("report.html", "case.html", "index.html"):
        _environment().get_template(name)


def case_section(case: dict):
    """One case of a student's page (case.html, from a case of `student_context`). Most cases
    read the same for many students (every student who passes a case, and each common wrong
    answer): one without a picture, printed output or a case to paste, and with a short ASCII
    feedback (a student's own error text can be neither), is rendered once for all of them."""
    feedback = case["feedback"]
    if case["picture"] is None and not case["output"] and not case["reproduce"] \
            and len(feedback) <= _PLAIN_FEEDBACK and feedback.isascii():
        return _plain_case_section(*(case[key] for key in _PLAIN_CASE))
    return _case_section(case)


def _case_section(case: dict):
    from markupsafe import Markup  # the template escaped what it holds
    return Markup(_environment().get_template("case.html").render(c=case))


_PLAIN_CASE = ("id", "visibility", "passed", "feedback", "file_level", "mistake")
_PLAIN_FEEDBACK = 1024  # characters (the longest of the bench's wrong answers: 475), so that
# a kept case, its key and its page text (escaping at most quintuples it), takes under 8 KB


@lru_cache(maxsize=1024)
def _plain_case_section(*values):
    return _case_section(dict(zip(_PLAIN_CASE, values), picture=None, output="",
                              output_dropped=0, reproduce=None))


def student_context(result: SubmissionResult, *, student_copy: bool = False) -> dict:
    """What a student's page shows: the instructor's copy, or with `student_copy`, the
    student's (see `SubmissionResult.student_copy`), each saying at its top which it is."""
    if student_copy:
        result = result.student_copy()
    hidden = any(c.visibility == "hidden" for p in result.problems for c in p.cases)
    return {
        "student": result.student, "score": result.score, "max_score": result.max_score,
        "total": fraction(result.score, result.max_score),
        "grader_error": result.grader_error, "notes": notes_besides(result),
        "hidden_shown": hidden and not student_copy, "hidden_kept": hidden and student_copy,
        "file_problems": [{"message": f.message, "where": f.where, "stops": f.stops}
                          for f in file_problems(result)],
        "problems": [{
            "id": p.problem_id, "points": p.points, "max_points": p.max_points,
            "score": fraction(p.points, p.max_points), "status": status(p),
            "passed": p.passed, "grader_error": p.grader_error, "mistakes": p.mistakes,
            "cases": [{"id": c.case_id, "visibility": c.visibility, "passed": c.passed,
                       "feedback": said, "file_level": file_level(c), "picture": c.picture,
                       "mistake": c.mistake, "reproduce": c.reproduce, "output": c.output,
                       "output_dropped": c.output_dropped}
                      for c, said in zip(p.cases, said_once(
                          p.cases, lambda c: without_mistake(case_feedback(c), c.mistake)))],
        } for p in result.problems],
    }


def render_student(result: SubmissionResult, *, student_copy: bool = False) -> str:
    """A student's page: the instructor's copy, or the student's (see `student_context`)."""
    return _environment().get_template("report.html").render(
        student_context(result, student_copy=student_copy))


def render_class(summary: ClassSummary) -> str:
    return _environment().get_template("index.html").render(summary.context())
