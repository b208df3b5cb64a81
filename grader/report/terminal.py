"""The self-check's table for a terminal: one line per problem with its verdict and points,
the feedback of its first failing case under it (all of it with `verbose`), and a total."""
from __future__ import annotations

from grader.results.model import SubmissionResult

FEEDBACK_LINES = 4


def table(result: SubmissionResult, *, verbose: bool = False) -> str:
    width = max((len(p.problem_id) for p in result.problems), default=8) + 2
    lines = [f"{'problem':<{width}}{'result':<8}points"]
    for problem in result.problems:
        verdict = "ERROR" if problem.grader_error else "passed" if problem.passed else "FAILED"
        lines.append(f"{problem.problem_id:<{width}}{verdict:<8}"
                     f"{problem.points:g}/{problem.max_points:g}")
        if problem.passed:
            continue
        failed = next((c for c in problem.cases if not c.passed), None)
        text = problem.feedback() if failed is None or verbose else \
            f"case '{failed.case_id}': {failed.feedback}"
        shown = text.splitlines()
        if not verbose and len(shown) > FEEDBACK_LINES:
            shown = shown[:FEEDBACK_LINES] + ["... (grader check -v shows all of it)"]
        lines += ["    " + line for line in shown]
    passed = sum(p.passed for p in result.problems)
    lines.append(f"{passed} of {len(result.problems)} problems passed; "
                 f"{result.score:g} / {result.max_score:g} points on the public cases")
    errors = [p.problem_id for p in result.problems if p.grader_error]
    if result.grader_error or errors:
        lines.append("The grader itself failed on " + (", ".join(errors) or "this submission")
                     + ": this is not a problem with your code; tell your instructors.")
    return "\n".join(lines)
