"""A submission's result as Gradescope's results.json: one test per problem (score, max_score,
status, the feedback as output), or, with `hidden_visibility`, each problem split in two tests
whose scores add up to the problem's: its public cases (visible at once, known-mistake messages
included) and its hidden cases (shown as `hidden_visibility` says). The notes about the
submission and its file-level problems are said once, in the top-level output (split, those of
public cases only: a hidden case's is said in its hidden test). Optional fields are left out
rather than written as null. In the Gradescope container (`in_container`), the output also
names the students, says a late submission and sums up the public cases, and a failure of the
grader is a test only instructors see. Text that is not valid Unicode (a file name of raw bytes quoted
in a note, whose JSON escape some readers refuse) is written with "?", as every report writes it.
"""
from __future__ import annotations

from grader.results.summary import file_problems, notes_besides, problem_feedback
from grader.results.model import CaseResult, ProblemResult, SubmissionResult, has_grader_error
from grader.sandbox.wire import mend_text


def gradescope_test(problem: ProblemResult, *, visibility: str | None = None) -> dict:
    test = {
        "name": f"{problem.problem_id} ({problem.passed_cases}/{len(problem.cases)} cases)",
        "score": problem.points,
        "max_score": problem.max_points,
        "status": "passed" if problem.passed else "failed",
        "output": problem_feedback(problem),
    }
    if visibility:
        test["visibility"] = visibility
    if problem.mistakes:
        test["tags"] = ["mistake"]
    return test


def _part(problem: ProblemResult, cases: list[CaseResult], which: str, visibility: str,
          share: tuple[float, float], at_top: set[str]) -> dict:
    """The test for the public or the hidden cases of a problem, with its `share` of the
    points (see ProblemResult.split). A file-level failure whose message is not `at_top` is
    said here in full."""
    passed = sum(c.passed for c in cases)
    test = {
        "name": f"{problem.problem_id}: {which} cases ({passed}/{len(cases)} passed)",
        "score": share[0],
        "max_score": share[1],
        "status": "passed" if passed == len(cases) else "failed",
        "output": problem_feedback(problem, cases=cases, at_top=at_top),
        "visibility": visibility,
    }
    if any(c.mistake for c in cases):
        test["tags"] = ["mistake"]
    return test


def split_tests(problem: ProblemResult, *, hidden_visibility: str,
                at_top: set[str]) -> list[dict]:
    """The problem as a visible test of its public cases and a test of its hidden cases with
    `hidden_visibility` (one test when it has only one kind, or when the grader failed on it:
    that is always visible); their scores add up to the problem's. `at_top`: the messages of
    the file-level failures said in the top-level output."""
    public = [c for c in problem.cases if c.visibility != "hidden"]
    hidden = [c for c in problem.cases if c.visibility == "hidden"]
    if problem.grader_error or not problem.cases:
        return [gradescope_test(problem, visibility="visible")]
    public_share, hidden_share = problem.split(public)
    tests = []
    if public:
        tests.append(_part(problem, public, "public", "visible", public_share, at_top))
    if hidden:
        tests.append(_part(problem, hidden, "hidden", hidden_visibility, hidden_share, at_top))
    return tests


def overview(result: SubmissionResult, *, hidden: bool = True) -> list[str]:
    """What is said once about the whole submission: the grader's failure, the notes about
    the files handed in, and each file-level problem with the problems it stopped (as its
    public cases show them only, with `hidden` false: what student code says in a hidden case,
    which holds the hidden inputs, must not reach what students see at once)."""
    lines = []
    if result.grader_error:
        lines.append(f"The grader failed on this submission: {result.grader_error}")
    lines += notes_besides(result, hidden=hidden)
    for problem in file_problems(result, hidden=hidden):
        lines.append(f"{problem.stopped}\n{problem.message}")
    return lines


def to_gradescope(result: SubmissionResult, *, execution_time: float | None = None,
                  visibility: dict | None = None,
                  hidden_visibility: str | None = None) -> dict:
    """results.json for one submission. `visibility` maps a problem id to a visibility value
    (one test per problem); `hidden_visibility` instead splits every problem into its public
    part (visible) and its hidden part (with this visibility)."""
    visibility = visibility or {}
    if hidden_visibility:
        at_top = {p.message for p in file_problems(result, hidden=False)}
        tests = [t for p in result.problems
                 for t in split_tests(p, hidden_visibility=hidden_visibility, at_top=at_top)]
    else:
        tests = [gradescope_test(p, visibility=visibility.get(p.problem_id))
                 for p in result.problems]
    data = {"score": result.score, "tests": tests}
    if execution_time is not None:
        data["execution_time"] = round(execution_time, 3)
    said = overview(result, hidden=not hidden_visibility)
    if said:
        data["output"] = "\n\n".join(said)
    mend_text(data)
    return data


GRADER_ERROR_TEST = "grader error (for the instructors)"  # a hidden test: the grader failed
GRADER_FAILED = ("The autograder could not grade (all of) this submission. This is not a "
                 "problem with your code: please tell your instructors, who can see why in "
                 "this submission's results.")


def _grader_error_test(details: str) -> dict:
    """The test, hidden from students, that tells instructors how the grader failed."""
    return {"name": GRADER_ERROR_TEST, "score": 0.0, "max_score": 0.0, "status": "failed",
            "output": details, "visibility": "hidden"}


def grader_failed(details: str, execution_time: float) -> dict:
    """results.json when the grader could not grade the submission at all: no score, a
    sentence for the student, the `details` (a traceback) for the instructors."""
    return {"score": 0.0, "execution_time": round(execution_time, 3), "output": GRADER_FAILED,
            "tests": [_grader_error_test(details)]}


def in_container(result: SubmissionResult, *, execution_time: float, names: list[str],
                 late: list[str], hidden_visibility: str, stdout_visibility: str) -> dict:
    """results.json as the Gradescope container writes it: `to_gradescope` split into public
    and hidden tests, its output led by the students' `names` and the `late` notes and ended by
    the public cases' tally; `extra_data` for instructors; a failure of the grader on some
    problems said first, and in full in a test only instructors see."""
    data = to_gradescope(result, execution_time=execution_time,
                         hidden_visibility=hidden_visibility)
    public = []
    for problem in result.problems:
        cases = [case for case in problem.cases if case.visibility == "public"]
        public.append(f"{problem.problem_id}: not graded (the autograder failed on it)"
                      if problem.grader_error else
                      f"{problem.problem_id}: {sum(c.passed for c in cases)}/{len(cases)} "
                      "public cases passed")
    head = [f"Submission of {', '.join(names)}."] if names else []
    head += late
    if data.get("output"):
        head.append(data["output"])
    data["output"] = "\n\n".join(head + ["Public cases (their feedback is in the tests below; "
                                          "hidden cases are shown as the course chose):\n"
                                          + "\n".join(public)])
    data["stdout_visibility"] = stdout_visibility
    data["extra_data"] = {"students": names, "notes": result.notes, "late": bool(late)}
    if has_grader_error(result):
        details = "\n".join(f"{p.problem_id}: {p.grader_error}" for p in result.problems
                            if p.grader_error) or str(result.grader_error)
        data["output"] = GRADER_FAILED + "\n\n" + data["output"]
        data["tests"].append(_grader_error_test(details))
    return data
