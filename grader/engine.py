"""The grading engine, shared by every context (self-check, pytest, batch, Gradescope, kit):
plan the calls of a submission (problems x cases, through each problem's kind), run them in the
sandbox under each problem's own limits, judge each answer against the expected value (computed
once per case in this process from the course's trusted code, never sent to the child), and
build the `SubmissionResult`. It also owns the policy for the grader's own failures: a failing
reference marks its problem, a failing sandbox marks the submission, and the run goes on.

    course = load_course(Path("problems"), Path("reference"))  # grader.course.manifest
    with start_sandbox(private=[Path("problems"), Path("reference")]) as sandbox:
        result = grade_submission(course=course, submission=Path("alice"), sandbox=sandbox)
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from grader import errors
from grader.course.cases import HIDDEN, Case, cases_for
from grader.course.model import Course, Limits, Problem
from grader.kinds import kind_of
from grader.kinds.base import Answer, Expected, Judged, Kind, failed
from grader.kinds.verdicts import Verdicts
from grader.results.model import ProblemResult, SubmissionResult
from grader.submission.collect import submission_files


def _drop_unfounded_mistakes(graded: ProblemResult) -> None:
    """A declared mistake is named only if every wrong answer of the problem (one that is a
    value, not an error) is that mistake's: a wrong True where the mistake also says True,
    beside wrong answers the mistake does not give, shows another error, not the mistake."""
    wrong = [case for case in graded.cases if not case.passed and case.error_kind is None]
    named = {case.mistake for case in wrong}
    if len(named) <= 1 and None not in named:
        return
    for case in wrong:
        if case.mistake is not None:
            case.feedback = case.feedback.removeprefix(f"Known mistake: {case.mistake}\n")
            case.mistake = None


ANSWER_KEPT = 16 << 10  # bytes of a wrong answer kept for the class's common wrong answers


def _picture(mismatch) -> tuple[dict | None, int]:
    """The picture of a difference as a report holds it, and its bytes (None, 0 if none)."""
    from grader.report.pictures import difference_picture
    picture = difference_picture(mismatch)
    if picture is None:
        return None, 0
    return ({"data_uri": picture.data_uri, "caption": picture.caption, "width": picture.width,
             "height": picture.height}, len(picture.data_uri) + len(picture.caption))


def _kept_answer(value) -> tuple[list | None, float]:
    """A wrong answer as the wire encodes it, kept for the class page if it is small, and
    the bytes its encoding holds (None, 0 if it is not kept)."""
    from grader.results.common import data_size
    from grader.sandbox import wire
    if data_size(value, ANSWER_KEPT) > ANSWER_KEPT:
        return None, 0
    try:
        encoded = wire.encode(value)
    except wire.WireError:
        return None, 0
    return encoded, data_size(encoded)  # its nodes are lists and strings: counted as such


@dataclass(frozen=True)
class Planned:
    """One problem of the plan: its kind and the cases every submission gets."""
    problem: Problem
    kind: Kind
    cases: tuple[Case, ...]
    error: str | None = None  # the course's generator failed: the problem cannot be graded


def _cases(planned: Planned, hidden: bool) -> list[Case]:
    """The planned problem's hidden cases, or its public ones."""
    return [case for case in planned.cases if (case.visibility == HIDDEN) == hidden]


class UnknownProblem(KeyError):
    """A problem id that the course does not have."""


def sandbox_limits(limits: Limits):
    """The sandbox's view of a problem's limits."""
    from grader.sandbox.host import SandboxLimits
    return SandboxLimits(memory_mb=limits.memory_mb, submission_time=limits.submission_time,
                         output_chars=limits.output_kb * 1024, processes=limits.processes)


class Engine:
    """Grades submissions against a course. The expected values are computed once per case and
    kept for every later submission; `sandbox` runs the student code (None for an engine that
    only computes expected values, as the kit builder does)."""

    def __init__(self, *, course: Course, sandbox=None, hidden: bool = True,
                 problems: Iterable[str] | None = None, hidden_seed: int | None = None,
                 expectations: dict | None = None, details: bool = False):
        """`problems` limits the plan to these ids; `expectations`, when given, holds the
        expected values by (problem id, case id) (a student kit) instead of the reference;
        `details` keeps, for reports, a picture of the first difference of each problem, its
        first failing public case as Python, and the wrong answers (see CaseResult)."""
        self.course, self.sandbox, self.details = course, sandbox, details
        chosen = course.problems
        if problems is not None:
            wanted = list(problems)
            unknown = sorted(set(wanted) - {p.id for p in chosen})
            if unknown:
                raise UnknownProblem(unknown[0])
            chosen = [p for p in chosen if p.id in wanted]
        self.plan: list[Planned] = [self._planned(p, hidden, hidden_seed) for p in chosen]
        self._expected: dict[tuple[str, str], Expected] = dict(expectations or {})
        self._calls: dict[frozenset | None, dict] = {}
        self._snippets: dict[tuple[str, str], str | None] = {}
        self.verdicts = Verdicts()  # reached so far, by exact answers: most are shared
        self._lock = threading.Lock()

    def _planned(self, problem: Problem, hidden: bool, hidden_seed: int | None) -> Planned:
        kind = kind_of(problem.kind)
        try:
            cases = cases_for(self.course, problem, hidden=hidden, hidden_seed=hidden_seed)
        except Exception as exc:  # a bug in the course's generator, not the student's
            return Planned(problem, kind, (), f"the course's case generator for {problem.id} "
                                              f"failed: {self.course.failure(exc)}")
        return Planned(problem, kind, tuple(cases))

    # -- expected values -------------------------------------------------------------------
    def expected(self, planned: Planned, case: Case) -> Expected:
        key = (planned.problem.id, case.id)
        found = self._expected.get(key)
        if found is None:
            found = self._compute(planned, case)
            with self._lock:
                self._expected.setdefault(key, found)
        return found

    def compute_expected(self) -> None:
        """Compute the expected value of every planned case now (processes forked afterwards
        share them)."""
        for planned in self.plan:
            for case in planned.cases:
                self.expected(planned, case)

    def _compute(self, planned: Planned, case: Case) -> Expected:
        try:
            return planned.kind.expected(self.course, planned.problem, case)
        except Exception as exc:  # a bug in the course's own code, not the student's
            return Expected(error=f"the course's reference for {planned.problem.id} failed on "
                                  f"case {case.id}: {self.course.failure(exc)}")

    # -- calls -----------------------------------------------------------------------------
    def _requests(self, selected: frozenset | None) -> dict:
        """The sandbox calls for the selected problems, grouped by limits, every public case's
        before any hidden one's (the order in which the child answers them: see
        grader.sandbox.host.Call); built once per selection, so each call encodes its arguments
        once for every student."""
        if selected in self._calls:
            return self._calls[selected]
        from grader.sandbox.host import Call
        groups: dict[Limits, list] = defaultdict(list)
        number = 0
        for hidden in (False, True):
            for planned in self.plan:
                problem = planned.problem
                if selected is not None and problem.id not in selected:
                    continue
                assignment = self.course.assignments[problem.assignment]
                for case in _cases(planned, hidden):
                    for args in planned.kind.requests(problem, case):
                        groups[problem.limits].append(Call(
                            number, assignment.file_of(problem), problem.function, args,
                            problem.limits.time, problem.id, module=assignment.module_of(problem),
                            positional=assignment.positional, driver=problem.driver,
                            drivers=problem.assignment if problem.driver else None,
                            hidden=hidden))
                        number += 1
        with self._lock:
            self._calls.setdefault(selected, dict(groups))
        return self._calls[selected]

    @cached_property
    def drivers(self) -> dict[str, str]:
        """The source of each assignment's drivers, sent to the child with the calls."""
        return {name: a.drivers.read_text(encoding="utf-8")
                for name, a in self.course.assignments.items() if a.drivers}

    def _outcomes(self, files: dict, limits: Limits, calls: list,
                  cells: dict[str, str]) -> Iterator[Answer]:
        """The child's answers to calls that share limits, one at a time, as they arrive."""
        for outcome in self.sandbox.stream(files, calls, sandbox_limits(limits),
                                           drivers=self.drivers, sources=cells):
            yield Answer(outcome.value, outcome.error, outcome.output, outcome.output_dropped,
                         outcome.digest)

    # -- grading ---------------------------------------------------------------------------
    def grade(self, student: str, paths: Sequence[Path | str],
              problems: Iterable[str] | None = None) -> SubmissionResult:
        """Grade the submission at `paths` (a folder, or the student's files) on the planned
        problems, or on those of `problems` only. Each answer is judged as it arrives and
        dropped, so memory does not grow with the answers. Never raises for the grader's own
        failures: they are recorded in the result (see `grader.results.model.has_grader_error`)."""
        selected = frozenset(problems) if problems is not None else None
        planned = [p for p in self.plan if selected is None or p.problem.id in selected]
        graded: dict[str, ProblemResult] = {}
        notes: list[str] = []
        cells: dict[str, str] = {}
        try:
            files = submission_files(self.course, paths, notes=notes, cells=cells)
            taken = self._taken(planned, paths)
            for limits, calls in self._requests(selected).items():
                answers = self._outcomes(files, limits, calls, cells)
                entries = [entry for entry in planned if entry.problem.limits == limits]
                for entry in entries:
                    graded[entry.problem.id] = ProblemResult(
                        entry.problem.id, entry.problem.points, grader_error=entry.error)
                for hidden in (False, True):  # in the order of the calls
                    for entry in entries:
                        self._grade_cases(entry, _cases(entry, hidden), answers,
                                          graded[entry.problem.id],
                                          taken.get(entry.problem.assignment))
                answers.close()
                for entry in entries:
                    _drop_unfounded_mistakes(graded[entry.problem.id])
                for entry in entries:
                    if graded[entry.problem.id].grader_error:
                        graded[entry.problem.id].cases = []
        except Exception as exc:  # the sandbox failed: the student is not to blame
            error = f"{type(exc).__name__}: {exc}"
            return SubmissionResult(student, [ProblemResult(p.problem.id, p.problem.points,
                                                            grader_error=error)
                                              for p in planned], grader_error=error)
        return SubmissionResult(student, [
            graded.get(p.problem.id) or ProblemResult(p.problem.id, p.problem.points,
                                                      grader_error=p.error)
            for p in planned], notes=notes)

    def _taken(self, planned: list[Planned], paths: Sequence[Path | str]) -> dict:
        """Single-file assignment -> why its file is not its homework: the file lies at the top
        of a submission beside a package assignment's other files, which take it (as
        `grader check` says, skipping the assignment)."""
        assignments = self.course.assignments
        packaged = {f for a in assignments.values() if a.package for f in a.files}
        singles = [a for a in map(assignments.get, {p.problem.assignment for p in planned})
                   if not a.package and a.file in packaged]
        if not singles:
            return {}
        from grader.submission.intake import survey
        taken = survey(self.course, [Path(p) for p in paths])[1]
        return {a.name: errors.MissingFile(
                    f"{a.file} was taken as part of {taken[a.file]}, whose other files are in "
                    f"your submission too, so it was not graded as this homework's {a.file}.",
                    phase="import", file=a.file)
                for a in singles if a.file in taken}

    def _grade_cases(self, entry: Planned, cases: list[Case], answers: Iterator[Answer],
                     graded: ProblemResult, taken: errors.MissingFile | None) -> None:
        """Add to `graded` a problem's `cases`, judged from the next answers of the child
        (failed with `taken`, if given: its file is another assignment's)."""
        for case in cases:
            mine = [next(answers) for _ in entry.kind.requests(entry.problem, case)]
            if taken is not None:
                graded.cases.append(failed(case, Answer(error=taken)))
                continue
            expected = self.expected(entry, case)
            if expected.error:
                graded.grader_error = expected.error
                continue
            judged = self._judge(entry, case, mine, expected)
            if self.details and not judged.result.passed:
                self._add_details(entry, case, judged, graded)
            graded.cases.append(judged.result)

    def _judge(self, entry: Planned, case: Case, answers: list[Answer],
               expected: Expected) -> Judged:
        """The kind's verdict on the child's answers. What the child sent is the student's to
        answer for: a value that breaks the comparison (an integer too large for a float, a
        course driver's output replaced from inside the child) fails the case, saying so,
        rather than the grader."""
        try:
            return entry.kind.judge(entry.problem, case, answers, expected, self.course,
                                    self.verdicts)
        except Exception as exc:
            first = answers[0]
            error = errors.UnsupportedType(
                f"{entry.problem.function} returned a value the grader could not compare with "
                f"the expected one ({type(exc).__name__}: {str(exc)[:200]}). Return the type "
                "and shape the problem asks for.", phase="call")
            return Judged(failed(case, Answer(error=error, output=first.output,
                                              output_dropped=first.output_dropped)))

    def _add_details(self, entry: Planned, case: Case, judged, graded: ProblemResult) -> None:
        """What reports show of a failing case beyond its feedback: the first picture and the
        first paste-able public case of the problem, and the wrong answer if it is small. The
        picture and the answer are made once for every student who gives the same answer
        (kept with its verdict: see grader.kinds.verdicts.Verdicts.show), and shared."""
        from grader.results.summary import pasteable
        result = judged.result
        first = not any(not c.passed for c in graded.cases)
        if first and judged.mismatch is not None:
            result.picture = self._shown(judged, "picture", lambda: _picture(judged.mismatch))
        if pasteable(result) and not any(c.reproduce for c in graded.cases):
            result.reproduce = self.reproduce(entry.problem.id, case.id)
        if entry.problem.kind == "value" and judged.mismatch is not None:
            result.answer = self._shown(judged, "answer", lambda: _kept_answer(judged.value))

    def _shown(self, judged, name: str, make):
        """What `make()` gives (with its bytes), made once for the answers of one verdict."""
        if judged.verdict is None:
            return make()[0]
        return self.verdicts.show(judged.verdict, name, make)

    def reproduce(self, problem_id: str, case_id: str) -> str | None:
        """A public case as Python the student can paste to call their function on it (never
        a hidden case: its inputs are not shown, nor a case of a problem graded through a
        course driver, whose calls are the course's own); made once per case."""
        key = (problem_id, case_id)
        if key not in self._snippets:
            self._snippets[key] = self._reproduce(problem_id, case_id)
        return self._snippets[key]

    def _reproduce(self, problem_id: str, case_id: str) -> str | None:
        from grader.report.reproduce import snippet
        planned = next((p for p in self.plan if p.problem.id == problem_id), None)
        case = next((c for c in planned.cases if c.id == case_id), None) if planned else None
        problem = planned.problem if planned else None
        if case is None or case.visibility != "public" or problem.driver:
            return None  # a driver calls the student's functions its own way: nothing to paste
        assignment = self.course.assignments[problem.assignment]
        return snippet(function=problem.function, module=assignment.module_of(problem),
                       args=case.args, positional=assignment.positional)

    def grade_many(self, submissions: Iterable[tuple[str, Sequence[Path]]], *, jobs: int = 1,
                   problems: Iterable[str] | None = None) -> Iterator[tuple[SubmissionResult, float]]:
        """(result, seconds) for each submission, in the order given. With `jobs` > 1, the
        next submissions are graded ahead in threads (each drives its own sandboxed child)."""
        problems = list(problems) if problems is not None else None

        def timed(student, paths):
            start = time.perf_counter()
            result = self.grade(student, paths, problems)
            return result, time.perf_counter() - start

        if jobs <= 1:
            for student, paths in submissions:
                yield timed(student, paths)
            return
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(jobs) as pool:
            pending = []
            iterator = iter(submissions)
            try:
                for student, paths in iterator:
                    pending.append(pool.submit(timed, student, paths))
                    if len(pending) >= 2 * jobs:
                        yield pending.pop(0).result()
                while pending:
                    yield pending.pop(0).result()
            finally:
                for future in pending:
                    future.cancel()


def grade_submission(*, course: Course, submission: Path | Sequence[Path], sandbox,
                     student: str | None = None, hidden: bool = True,
                     problems: Iterable[str] | None = None,
                     hidden_seed: int | None = None) -> SubmissionResult:
    """Grade one submission (a folder, or a list of the student's files)."""
    paths = [Path(submission)] if isinstance(submission, (str, Path)) else list(submission)
    engine = Engine(course=course, sandbox=sandbox, hidden=hidden, problems=problems,
                    hidden_seed=hidden_seed)
    return engine.grade(student or paths[0].name, paths)


def start_sandbox(*, private: Iterable[Path | str] = (), started: tuple | None = None):
    """A sandbox for a grading run; `private` lists the folders its children must not see
    (the course, the submissions, the outputs); `started`, a zygote already started (see
    grader.sandbox.launch), is adopted."""
    import tempfile
    from grader.sandbox.host import Sandbox
    temp = Path(tempfile.gettempdir()).resolve()
    hide = []
    for path in private:
        path = Path(path).resolve()
        if path.is_dir() and path != Path("/") and path not in temp.parents and path != temp:
            hide.append(path)
    return Sandbox(hide=hide, started=started)
