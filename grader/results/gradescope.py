"""A submission's result as Gradescope's results.json: one test per problem (score, max_score,
status, the feedback as output), optional fields left out rather than written as null.
"""
from __future__ import annotations

from grader.results.model import ProblemResult, SubmissionResult


def gradescope_test(problem: ProblemResult, *, visibility: str | None = None) -> dict:
    test = {
        "name": f"{problem.problem_id} ({problem.passed_cases}/{len(problem.cases)} cases)",
        "score": problem.points,
        "max_score": problem.max_points,
        "status": "passed" if problem.passed else "failed",
        "output": problem.feedback(),
    }
    if visibility:
        test["visibility"] = visibility
    if problem.mistakes:
        test["tags"] = ["mistake"]
    return test


def to_gradescope(result: SubmissionResult, *, execution_time: float | None = None,
                  visibility: dict | None = None) -> dict:
    """results.json for one submission. `visibility` maps a problem id to a visibility value.
    Optional fields are left out rather than written as null."""
    visibility = visibility or {}
    data = {
        "score": result.score,
        "tests": [gradescope_test(p, visibility=visibility.get(p.problem_id))
                  for p in result.problems],
    }
    if execution_time is not None:
        data["execution_time"] = round(execution_time, 3)
    if result.grader_error:
        data["output"] = f"The grader failed on this submission: {result.grader_error}"
    return data
