"""The result model (case, problem, submission) and its plain serialisations: the Gradescope
`results.json` dict, CSV rows, and reading a results.json back. Scores are computed here and
nowhere else: a problem earns its points times the fraction of its cases passed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

FEEDBACK_LINES = 40


@dataclass
class CaseResult:
    case_id: str
    visibility: str
    passed: bool
    feedback: str = ""
    mistake: str | None = None
    error_kind: str | None = None
    output: str = ""
    output_dropped: int = 0

    @property
    def first_line(self) -> str:
        return self.feedback.splitlines()[0] if self.feedback else ""


@dataclass
class ProblemResult:
    problem_id: str
    max_points: float
    cases: list[CaseResult] = field(default_factory=list)
    grader_error: str | None = None

    @property
    def passed_cases(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def points(self) -> float:
        if self.grader_error or not self.cases:
            return 0.0
        return round(self.max_points * self.passed_cases / len(self.cases), 6)

    @property
    def passed(self) -> bool:
        return not self.grader_error and bool(self.cases) and self.passed_cases == len(self.cases)

    @property
    def mistakes(self) -> list[str]:
        return sorted({c.mistake for c in self.cases if c.mistake})

    def feedback(self) -> str:
        """All cases' verdicts and feedback, as the student reads them."""
        if self.grader_error:
            return f"The grader itself failed on this problem (not your fault): {self.grader_error}"
        blocks = []
        for case in self.cases:
            verdict = "passed" if case.passed else "FAILED"
            lines = [f"{case.visibility} case '{case.case_id}': {verdict}"]
            if case.feedback:
                lines += ["  " + line for line in case.feedback.splitlines()[:FEEDBACK_LINES]]
            if case.output:
                lines.append("  Your code printed:")
                lines += ["    " + line for line in case.output.splitlines()[:10]]
                if case.output_dropped or len(case.output.splitlines()) > 10:
                    lines.append(f"    ... (output truncated; {case.output_dropped} more "
                                 "characters not kept)")
            blocks.append("\n".join(lines))
        return "\n".join(blocks)


@dataclass
class SubmissionResult:
    student: str
    problems: list[ProblemResult] = field(default_factory=list)
    grader_error: str | None = None

    @property
    def score(self) -> float:
        return round(sum(p.points for p in self.problems), 6)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_points for p in self.problems), 6)


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


def to_dict(result: SubmissionResult) -> dict:
    """Everything about a result, for `grade.json` (from which every report can be redone)."""
    return {"student": result.student, "grader_error": result.grader_error,
            "problems": [{"problem_id": p.problem_id, "max_points": p.max_points,
                          "grader_error": p.grader_error,
                          "cases": [vars(c).copy() for c in p.cases]}
                         for p in result.problems]}


def from_dict(data: dict) -> SubmissionResult:
    problems = [ProblemResult(p["problem_id"], p["max_points"],
                              [CaseResult(**c) for c in p["cases"]], p.get("grader_error"))
                for p in data["problems"]]
    return SubmissionResult(data["student"], problems, data.get("grader_error"))
