"""The result model (case, problem, submission) and the one scoring rule: a problem earns its
points times the fraction of its cases passed; a problem the grader itself failed on earns
nothing and says so. Scores are computed here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

FEEDBACK_LINES = 40
GRADER_ERROR_KEPT = "the instructor's copy of this report says what failed"  # a student's copy


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
    # for reports, kept only when the engine is asked for details (batch grading):
    picture: dict | None = None  # where the answer differs (grader.report.pictures)
    reproduce: str | None = None  # a failing public case as Python to paste
    answer: Any = None  # a wrong answer, wire-encoded and bounded (for common wrong answers)

    @property
    def first_line(self) -> str:
        return self.feedback.splitlines()[0] if self.feedback else ""


def said_once(cases: list[CaseResult],
              text: Callable[[CaseResult], str] = lambda case: case.feedback) -> list[str]:
    """Each case's `text` as read one case after another: a failing case whose text is word
    for word an earlier case's (a missing function, an error raised on every input) reads
    "The same as case 'ID' above." instead."""
    first: dict[str, str] = {}
    shown = []
    for case in cases:
        said = text(case)
        if said and not case.passed:
            earlier = first.setdefault(said, case.case_id)
            if earlier != case.case_id:
                said = f"The same as case '{earlier}' above."
        shown.append(said)
    return shown


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

    def split(self, part: list[CaseResult]) -> tuple[tuple[float, float], tuple[float, float]]:
        """(points, maximum) of `part` of the problem's cases and of the others: each part's
        share of the cases, by the same rule as `points`, and the two add up to `points` and
        `max_points` exactly."""
        total = len(self.cases)
        points = round(self.max_points * sum(c.passed for c in part) / total, 6)
        most = round(self.max_points * len(part) / total, 6)
        return (points, most), (round(self.points - points, 6), round(self.max_points - most, 6))

    @property
    def mistakes(self) -> list[str]:
        return sorted({c.mistake for c in self.cases if c.mistake})

    def feedback(self, *, cases: list[CaseResult] | None = None,
                 text: Callable[[CaseResult], str] = lambda case: case.feedback,
                 feedback_lines: int | None = FEEDBACK_LINES, output_lines: int = 10) -> str:
        """The verdicts and feedback of the problem's cases (or of `cases`), as the student reads
        them: each case's `text` cut to `feedback_lines` lines (None: all of it), and what it
        printed cut to `output_lines`."""
        if self.grader_error:
            return f"The grader itself failed on this problem (not your fault): {self.grader_error}"
        blocks = []
        cases = self.cases if cases is None else cases
        for case, said in zip(cases, said_once(cases, text)):
            verdict = "passed" if case.passed else "FAILED"
            lines = [f"{case.visibility} case '{case.case_id}': {verdict}"]
            if said:
                lines += ["  " + line for line in said.splitlines()[:feedback_lines]]
            if case.output:
                printed = case.output.splitlines()
                lines.append("  Your code printed:")
                lines += ["    " + line for line in printed[:output_lines]]
                if case.output_dropped or len(printed) > output_lines:
                    lines.append(f"    ... (output truncated; {case.output_dropped} more "
                                 "characters not kept)")
            blocks.append("\n".join(lines))
        return "\n".join(blocks)


@dataclass
class SubmissionResult:
    student: str
    problems: list[ProblemResult] = field(default_factory=list)
    grader_error: str | None = None
    notes: list[str] = field(default_factory=list)  # about the submission as handed in

    @property
    def score(self) -> float:
        return round(sum(p.points for p in self.problems), 6)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_points for p in self.problems), 6)

    def student_copy(self) -> SubmissionResult:
        """The result as its student may read it while the hidden cases stay hidden: every case
        keeps its verdict, so every score is the same, and a hidden case keeps nothing else but
        the known mistake it matched (the course's own words): not its feedback, printed output,
        picture or answer, any of which may show what it was given or expected. The grader's
        own failures are said without their details, which may quote a hidden case's inputs
        (the course's code failing on them)."""
        return replace(self, notes=list(self.notes),
                       grader_error=self.grader_error and GRADER_ERROR_KEPT, problems=[
            replace(problem, grader_error=problem.grader_error and GRADER_ERROR_KEPT,
                    cases=[case if case.visibility != "hidden" else CaseResult(
                        case.case_id, case.visibility, case.passed, mistake=case.mistake)
                        for case in problem.cases])
            for problem in self.problems])


def has_grader_error(result: SubmissionResult) -> bool:
    """Whether the grader itself failed on any part of this submission."""
    return bool(result.grader_error) or any(p.grader_error for p in result.problems)
