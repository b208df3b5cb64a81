"""What every report says the same way (the self-check's table, report.html, results.json):
points rounded for reading (`0.86 / 1`, never `0.857143`), a long list cut short ("a, b and 4
more"), a problem's status (passed, partial, failed, error), and the problems of a whole file
(a syntax error, an import error, a missing file), said once at the top instead of once per
case. Plain functions over the result model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Container, Sequence

from grader.results.export import format_score
from grader.results.model import FEEDBACK_LINES, CaseResult, ProblemResult, SubmissionResult

# Error kinds (grader.errors) that come from a file as a whole, not from one call.
FILE_LEVEL_KINDS = frozenset({"syntax", "missing_file", "import", "files_too_large"})


def points(value: float) -> str:
    """Points for reading: at most two decimals, no trailing zeros ("0.86", "36")."""
    return format_score(value)


def listed(names: Sequence[str], shown: int = 5, separator: str = ", ") -> str:
    """At most `shown` of `names`, then how many more: "a, b, c and 4 more"."""
    return separator.join(names[:shown]) + (f" and {len(names) - shown} more"
                                            if len(names) > shown else "")


def fraction(earned: float, maximum: float, separator: str = " / ") -> str:
    return f"{points(earned)}{separator}{points(maximum)}"


def status(problem: ProblemResult) -> str:
    """passed (every case), partial (some points), failed (none) or error (the grader's)."""
    if problem.grader_error:
        return "error"
    if problem.passed:
        return "passed"
    return "partial" if problem.points > 0 else "failed"


def file_level(case: CaseResult) -> bool:
    """Whether a case failed because of its whole file (the same message for every case)."""
    return not case.passed and case.error_kind in FILE_LEVEL_KINDS


@dataclass
class FileProblem:
    """One file-level failure (its message and `kind`, an error kind of FILE_LEVEL_KINDS) and
    the problems it stopped, in the course's order."""
    message: str
    problems: list[str] = field(default_factory=list)
    kind: str = ""

    @property
    def headline(self) -> str:
        return self.message.splitlines()[0] if self.message else ""

    @property
    def where(self) -> str:
        """What it is a problem with: a notebook's cell, or a whole file."""
        return "a notebook cell" if _in_a_cell(self.headline) else "a whole file"

    @property
    def stops(self) -> str:
        """What it stops: "stops 2 problems (optim.gd, optim.nesterov):"."""
        count = len(self.problems)
        return f"stops {count} problem{'s' if count != 1 else ''} ({', '.join(self.problems)}):"

    @property
    def stopped(self) -> str:
        """The sentence that leads its message wherever it is shown (report.html sets its
        first words in bold): "A problem with a whole file stops 2 problems (...):"."""
        return f"A problem with {self.where} {self.stops}"


def file_problems(result: SubmissionResult, *, hidden: bool = True) -> list[FileProblem]:
    """The distinct file-level failures of a submission, each with the problems it stopped
    (as its public cases show them only, with `hidden` false)."""
    found: dict[str, FileProblem] = {}
    for problem in result.problems:
        for case in problem.cases:
            if file_level(case) and (hidden or case.visibility != "hidden"):
                entry = found.setdefault(case.feedback, FileProblem(case.feedback,
                                                                    kind=case.error_kind))
                if problem.problem_id not in entry.problems:
                    entry.problems.append(problem.problem_id)
    return list(found.values())


def notes_besides(result: SubmissionResult, *, hidden: bool = True) -> list[str]:
    """The submission's notes but those its file-level failures (see `file_problems`) say
    again: a notebook cell's syntax error, noted when the notebook was read, fails the
    functions the cell defines."""
    said = [f.headline.split(": syntax error")[0] + ": syntax error"
            for f in file_problems(result, hidden=hidden) if ": syntax error" in f.headline]
    return [note for note in result.notes if not note.startswith(tuple(said))] if said \
        else list(result.notes)


def _in_a_cell(headline: str) -> bool:
    """Whether a file-level failure is a notebook cell's (its location names the cell)."""
    return ".ipynb, cell " in headline


def pasteable(case: CaseResult) -> bool:
    """Whether a case can be given to the student as Python to paste: a public one whose call
    reaches the student's function (not a whole file's failure, nor a missing function)."""
    return case.visibility == "public" and not file_level(case) \
        and case.error_kind != "missing_function"


def without_mistake(feedback: str, mistake: str | None) -> str:
    """A case's feedback without the known-mistake sentence, which the page shows once, at the
    top of the problem."""
    lead = f"Known mistake: {mistake}\n"
    return feedback[len(lead):] if mistake and feedback.startswith(lead) else feedback


def case_feedback(case: CaseResult, *, at_top: Container[str] | None = None) -> str:
    """A case's feedback; a file-level failure in one line that points to the top (when it is
    there: its message is in `at_top`, if given)."""
    if file_level(case) and (at_top is None or case.feedback in at_top):
        first = case.feedback.splitlines()[0] if case.feedback else ""
        what = "a notebook cell" if _in_a_cell(first) else "the whole file"
        return f"{first} (a problem with {what}, shown at the top)"
    return case.feedback


def problem_feedback(problem: ProblemResult, *, cases: list[CaseResult] | None = None,
                     feedback_lines: int | None = FEEDBACK_LINES, output_lines: int = 10,
                     at_top: Container[str] | None = None) -> str:
    """All the verdicts and feedback of a problem's cases (or of `cases`), as the student reads
    them, file-level failures shortened to a line (those whose message is in `at_top`, if
    given); each case's feedback cut to `feedback_lines` lines (None: all of it)."""
    return problem.feedback(cases=cases, text=lambda case: case_feedback(case, at_top=at_top),
                            feedback_lines=feedback_lines, output_lines=output_lines)
