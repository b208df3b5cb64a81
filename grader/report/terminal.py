"""The self-check's table for a terminal: the notes about the submission and its file-level
problems first (each once), then one line per problem with its status (passed, partial, FAILED,
ERROR, each in its own colour on a terminal) and rounded points, the feedback of its first
failing case under it (its first lines, or of an error its message and the innermost frame of
its traceback; all of it, and the failing public case as Python to paste, with
`verbose`), the assignments not checked, and a total. Text from a submission is shown with its
control characters escaped (`printable`): a terminal would obey them."""
from __future__ import annotations

import re
from typing import Callable, Sequence

from grader.results.summary import (file_level, file_problems, fraction, notes_besides,
                                   pasteable, points, problem_feedback, status)
from grader.results.model import ProblemResult, SubmissionResult
from grader.sandbox import stuck

FEEDBACK_LINES = 4
VERDICTS = {"passed": ("passed", "green"), "partial": ("partial", "yellow"),
            "failed": ("FAILED", "red"), "error": ("ERROR", "magenta")}


# Characters that a terminal obeys rather than shows (C0 and C1 controls but newline and tab):
# from a submission, they could clear the screen, draw a fake table, set the window's title or
# the clipboard; and Unicode's bidirectional controls, which reorder how a line reads.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from a submission as a terminal may show it: each control character written as an
    escape (ESC as \\x1b, the right-to-left override as \\u202e), a Windows line end as a plain
    one."""
    return _CONTROL.sub(_escape, text.replace("\r\n", "\n"))


def _escape(found: re.Match) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _indent(text: str, prefix: str = "    ") -> list[str]:
    return [prefix + line for line in printable(text).splitlines()]


def _in_full(problem: ProblemResult, reproduce) -> list[str]:
    """A failed problem's lines with `-v`: all its feedback, and its first failing public case
    as Python to paste."""
    lines = _indent(problem_feedback(problem, feedback_lines=None, output_lines=1000))
    public = next((c for c in problem.cases if not c.passed and pasteable(c)), None)
    code = reproduce(problem.problem_id, public.case_id) \
        if public is not None and reproduce is not None else None
    if code:
        lines.append(f"    To run case '{public.case_id}' yourself, paste this into Python in "
                     "your submission's folder (or, without its from-import, into a new cell at "
                     "the end of your notebook):")
        lines += _indent(code, "        ")
    return lines


def _in_short(problem: ProblemResult, reproduce) -> list[str]:
    """A failed problem's lines in the table: its first failing case's feedback, cut to
    FEEDBACK_LINES and a line saying `-v` shows the rest; kept of a longer message: of an
    error, where it was raised (or stuck), the innermost frame of its traceback; of a wrong
    answer, the lines that end it (the other outputs that differ, what the answer evidently
    is)."""
    failed = next((c for c in problem.cases if not c.passed), None)
    if failed is None:
        return _indent(problem_feedback(problem))
    if file_level(failed):
        return [f"    {printable(failed.first_line)} (see above)"]
    shown = printable(f"case '{failed.case_id}': {failed.feedback}").splitlines()
    if len(shown) > FEEDBACK_LINES:
        pasted = reproduce is not None and pasteable(failed) \
            and reproduce(problem.problem_id, failed.case_id) is not None
        more = "... (grader check -v shows all of it" + (
            ", and the case as Python to paste)" if pasted else ")")
        frames = [n for n, line in enumerate(shown) if stuck.FRAME_LINE.fullmatch(line)]
        if frames:
            shown = shown[:min(frames[0], FEEDBACK_LINES - 2)] \
                + shown[frames[-1]:frames[-1] + 2] + [more]
        else:
            from grader.compare.message import ALSO, SAID_OF_THE_ANSWER  # (NumPy's, loaded)
            said = [line for line in shown[FEEDBACK_LINES - 2:]
                    if line.startswith((*SAID_OF_THE_ANSWER, ALSO))]
            shown = shown[:FEEDBACK_LINES - len(said)] + [more] + said
    return ["    " + line for line in shown]


def table(result: SubmissionResult, *, verbose: bool = False,
          skipped: Sequence[str] = (),
          reproduce: Callable[[str, str], str | None] | None = None,
          color: bool = False) -> str:
    """The table for `result`. `skipped` names what was not checked (one line each);
    `reproduce(problem id, case id)` gives a case as Python to paste (shown with `verbose`);
    `color` adds terminal colours to the statuses."""
    def paint(text: str, colour: str) -> str:
        if not color:
            return text
        import click
        return click.style(text, fg=colour, bold=colour != "green")

    lines = [f"Note: {printable(note)}" for note in notes_besides(result)]
    for problem in file_problems(result):
        lines.append(problem.stopped)
        lines += _indent(problem.message)
    if not result.problems:
        return "\n".join(lines + list(map(printable, skipped)) + [
            "Nothing was checked: none of the homework's files is in your submission (see the "
            "notes above)."])
    width = max(len(p.problem_id) for p in result.problems) + 2
    lines.append(f"{'problem':<{width}}{'result':<8}points")
    for problem in result.problems:
        word, colour = VERDICTS[status(problem)]
        lines.append(f"{problem.problem_id:<{width}}{paint(word, colour)}{' ' * (8 - len(word))}"
                     f"{fraction(problem.points, problem.max_points, '/')}")
        if not problem.passed:
            lines += _in_full(problem, reproduce) if verbose else _in_short(problem, reproduce)
    lines += map(printable, skipped)
    passed = sum(p.passed for p in result.problems)
    lines.append(f"{passed} of {len(result.problems)} problem"
                 f"{'s' if len(result.problems) != 1 else ''} passed; "
                 f"{points(result.score)} / {points(result.max_score)} points on the public "
                 "cases")
    errors = [p.problem_id for p in result.problems if p.grader_error]
    if result.grader_error or errors:
        lines.append("The grader itself failed on " + (", ".join(errors) or "this submission")
                     + ": this is not a problem with your code; tell your instructors.")
    return "\n".join(lines)
