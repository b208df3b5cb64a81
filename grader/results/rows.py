"""A submission's result as rows: one per case, for the student's report.csv."""
from __future__ import annotations

from grader.results.model import SubmissionResult


def csv_rows(result: SubmissionResult) -> list[dict]:
    """One row per case, for the per-student report.csv."""
    rows = []
    for problem in result.problems:
        for case in problem.cases:
            rows.append({
                "problem": problem.problem_id, "case": case.case_id,
                "visibility": case.visibility, "passed": case.passed,
                "points": round(problem.max_points / len(problem.cases), 6) * case.passed,
                "max_points": round(problem.max_points / len(problem.cases), 6),
                "mistake": case.mistake or "", "feedback": case.first_line,
            })
    return rows
