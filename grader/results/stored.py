"""A submission's result as a plain dict and back, for grade.json (from which every report of a
class can be redone without grading again)."""
from __future__ import annotations

from grader.results.model import CaseResult, ProblemResult, SubmissionResult


def to_dict(result: SubmissionResult) -> dict:
    """Everything about a result, for `grade.json` (from which every report can be redone)."""
    return {"student": result.student, "grader_error": result.grader_error,
            "notes": list(result.notes),
            "problems": [{"problem_id": p.problem_id, "max_points": p.max_points,
                          "grader_error": p.grader_error,
                          "cases": [vars(c).copy() for c in p.cases]}
                         for p in result.problems]}


def from_dict(data: dict) -> SubmissionResult:
    problems = [ProblemResult(p["problem_id"], p["max_points"],
                              [CaseResult(**c) for c in p["cases"]], p.get("grader_error"))
                for p in data["problems"]]
    return SubmissionResult(data["student"], problems, data.get("grader_error"),
                            list(data.get("notes") or []))
