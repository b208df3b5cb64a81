"""The `grader` command: a thin click layer over the plugin and the validator.

Exit codes, for every command: 0 success (check: all problems passed; validate: the course is
sound; grade: every student was graded); 1 some problem failed or the course has findings;
2 bad usage or input (click's own code); 3 the grader itself failed (for grade: on at least
one student, who is listed as such); 130 grade was interrupted (rerun it to continue).
"""
from __future__ import annotations

import os
from pathlib import Path

import click

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_PYTEST_INTERRUPTED = 2
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
CHUNK = 200  # students per pytest session in `grader grade`
FEEDBACK_LINES = 4


class _Collect:
    """Keeps the grading state of an in-process pytest run."""
    state = None

    def pytest_sessionfinish(self, session):
        from grader.pytest_plugin.session import session_of
        self.state = session_of(session.config)


def run_pytest(*, submissions: list[Path], problems_dir: Path, reference_dir: Path,
               public_only: bool = False, results: Path | None = None, problems=None,
               out: Path | None = None, jobs: int = 1, kit: Path | None = None,
               students_only: bool = False, plugins=()):
    """Grade through pytest in this process; returns (pytest exit code, GraderSession)."""
    import pytest
    config = Path(__file__).with_name("isolated.ini")
    args = ["-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:logging",
            "-p", "no:unraisableexception", "--capture=no", "--assert=plain",
            "-c", str(config), "--rootdir",
            str(Path.cwd()),
            "--problems-dir", str(problems_dir), "--reference-dir", str(reference_dir)]
    for path in submissions:
        args += ["--submission", str(path)]
    if public_only:
        args.append("--public-only")
    if kit is not None:
        args += ["--kit", str(kit)]
    if results is not None:
        args += ["--results", str(results)]
    for problem in problems or ():
        args += ["--problem", problem]
    if out is not None:
        args += ["--out", str(out), "--jobs", str(jobs)]
    if students_only:
        args.append("--out-students-only")
    collect = _Collect()
    code = pytest.main(args, plugins=[collect, *plugins])
    return int(code), collect.state


def _table(result) -> str:
    width = max(len(p.problem_id) for p in result.problems) + 2
    lines = [f"{'problem':<{width}}{'result':<8}points"]
    for problem in result.problems:
        verdict = "passed" if problem.passed else "FAILED"
        lines.append(f"{problem.problem_id:<{width}}{verdict:<8}"
                     f"{problem.points:g}/{problem.max_points:g}")
        if not problem.passed:
            failed = next((c for c in problem.cases if not c.passed), None)
            text = problem.feedback() if failed is None else (
                f"case '{failed.case_id}': {failed.feedback}")
            lines += ["    " + line for line in text.splitlines()[:FEEDBACK_LINES]]
    passed = sum(p.passed for p in result.problems)
    lines.append(f"{passed} of {len(result.problems)} problems passed; "
                 f"{result.score:g} / {result.max_score:g} points on the public cases")
    return "\n".join(lines)


course_options = [
    click.option("--problems", "problems_dir", type=click.Path(file_okay=False, path_type=Path),
                 default="problems", show_default=True, help="Directory of problem manifests."),
    click.option("--reference", "reference_dir",
                 type=click.Path(file_okay=False, path_type=Path), default="reference",
                 show_default=True, help="Directory of reference solutions."),
]


def with_course(function):
    for option in reversed(course_options):
        function = option(function)
    return function


@click.group()
def main():
    """Grade numerical homework (arrays, gradients, matrices) safely, through pytest."""


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@with_course
@click.option("--problem", "problems", multiple=True, metavar="ID",
              help="Check only this problem id (repeatable), e.g. rnn.bptt_grads.")
@click.option("--kit", type=click.Path(exists=True, path_type=Path),
              help="A student kit from `grader kit`, instead of --problems/--reference.")
def check(paths, problems_dir, reference_dir, problems, kit):
    """Self-check a submission on the public cases.

    PATHS is your submission directory, or your files (rnn.py, optim.py, layers.py).
    Prints one line per problem with the first lines of feedback, and exits 0 only if
    every problem passes.

    Example: grader check my_homework/    (students: grader check --kit KIT my_homework/)
    """
    code, state = run_pytest(submissions=list(paths), problems_dir=problems_dir,
                             reference_dir=reference_dir, public_only=True,
                             problems=list(problems) or None, kit=kit)
    if state is None or not state.results:
        raise SystemExit(EXIT_USAGE if code == 4 else EXIT_INTERNAL)
    (result,) = state.results.values()
    click.echo(_table(result))
    raise SystemExit(EXIT_OK if all(p.passed for p in result.problems) else EXIT_FAILED)


class _Progress:
    """Advances a click progress bar as each student is graded."""

    def __init__(self, bar):
        self.bar = bar

    def pytest_grader_submission_graded(self, result, config):
        self.bar.update(1, result.student)


def _summary(students: list[dict], *, graded: int, kept: int, seconds: float, out: Path) -> str:
    failed = [s for s in students if s["grader_error"]]
    scores = [s["score"] for s in students if not s["grader_error"]]
    maximum = max((s["max_score"] for s in students), default=0)
    lines = [f"Students: {len(students)} ({graded} graded now in {seconds:.1f} s, "
             f"{kept} unchanged since the last run)"]
    if scores:
        lines.append(f"Mean score: {sum(scores) / len(scores):.2f} / {maximum:g}")
    if failed:
        lines.append(f"Grader failures ({len(failed)}), not counted as zero; rerun to retry:")
        lines += [f"  {s['name']}: {s['grader_error']}" for s in failed]
    lines += [f"Gradebook: {out / 'gradebook.csv'}",
              f"Reports:   {out / 'index.html'} and {out}/<student>/report.html"]
    return "\n".join(lines)


@main.command()
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the reports and the gradebook.")
@with_course
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1,
              show_default="all cores", help="Submissions graded at once.")
@click.option("--force", is_flag=True, help="Regrade every student, even unchanged ones.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def grade(submissions, out, problems_dir, reference_dir, jobs, force, quiet):
    """Grade a whole class: each subdirectory of SUBMISSIONS is one student.

    Writes OUT/<student>/results.json (Gradescope format), report.csv and report.html as
    soon as each student is done, then OUT/gradebook.csv and OUT/index.html. A rerun skips
    students whose submission and course have not changed (use --force to regrade all), so
    an interrupted run continues where it stopped.

    Example: grader grade submissions_example --out reports/
    """
    import time
    from grader.batch import outputs as batch
    from grader.engine import Grader
    from grader.course.manifest import ManifestError, load_course
    from grader.pytest_plugin.session import SharedGrading, _hideable
    from grader.sandbox.host import Sandbox
    try:
        course = load_course(problems_dir, reference_dir)
    except ManifestError as exc:
        raise click.BadParameter(str(exc), param_hint="--problems/--reference") from None
    fingerprint = batch.course_fingerprint(problems_dir, reference_dir)
    todo, kept = batch.plan(submissions, out, fingerprint, force=force)
    if not todo and not kept:
        raise click.BadParameter(f"{submissions} has no student subdirectory",
                                 param_hint="SUBMISSIONS")
    start = time.monotonic()
    with Sandbox(hide=_hideable([problems_dir, reference_dir, submissions, out])) as sandbox, \
            click.progressbar(length=len(todo), label="Grading", show_pos=True,
                              item_show_func=lambda s: s, hidden=quiet or not todo) as bar:
        shared = SharedGrading(course, sandbox, Grader(course, sandbox, hidden=True))
        # One pytest session per chunk: its items (one per student and problem) are freed
        # after each chunk, so memory stays flat however large the class. The course, the
        # sandbox and the reference answers are set up once for all chunks.
        for first in range(0, len(todo), CHUNK):
            code, state = run_pytest(submissions=todo[first:first + CHUNK],
                                     problems_dir=problems_dir, reference_dir=reference_dir,
                                     out=out, jobs=jobs, students_only=True,
                                     plugins=[_Progress(bar), shared])
            if code == EXIT_PYTEST_INTERRUPTED:
                click.echo("Interrupted. Every student graded so far is saved: run the same "
                           "command again to continue.", err=True)
                raise SystemExit(EXIT_INTERRUPTED)
            if state is None or code not in (0, 1):
                raise SystemExit(EXIT_INTERNAL)
            del state  # this chunk's items and results can go before the next chunk starts
    students = batch.write_class(out).students
    click.echo(_summary(students, graded=len(todo), kept=len(kept),
                        seconds=time.monotonic() - start, out=out))
    raise SystemExit(EXIT_INTERNAL if any(s["grader_error"] for s in students) else EXIT_OK)


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the kit to.")
@with_course
def kit(out, problems_dir, reference_dir):
    """Write the student kit: the public cases and their expected values.

    Students check their work with it on their own machine, with only grader installed:
    grader check --kit KIT my_homework/. The kit holds no reference code, no hidden seed
    and no hidden case.

    Example: grader kit --out kit/
    """
    from grader.course.kit import build_kit
    from grader.course.manifest import ManifestError, load_course
    try:
        course = load_course(problems_dir, reference_dir)
    except ManifestError as exc:
        raise click.BadParameter(str(exc), param_hint="--problems/--reference") from None
    for path in build_kit(course, out):
        click.echo(f"wrote {path}")


@main.group()
def gradescope():
    """Build a Gradescope autograder, and run it inside the container."""


@gradescope.command("build")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default="autograder.zip", show_default=True, help="The zip to write.")
@with_course
@click.option("--hidden-visibility", type=click.Choice(VISIBILITIES), default="after_due_date",
              show_default=True, help="When students see problems that have hidden cases.")
@click.option("--stdout-visibility", type=click.Choice(VISIBILITIES), default="hidden",
              show_default=True, help="When students see what the autograder printed.")
def gradescope_build(out, problems_dir, reference_dir, hidden_visibility, stdout_visibility):
    """Pack the course into a Gradescope autograder zip.

    The zip holds setup.sh (installs grader and its pinned requirements with pip), an
    executable run_autograder, the manifests and reference solutions. The requirements
    are pinned to the versions installed here: build with the Python version of the
    Gradescope image.

    Example: grader gradescope build --out autograder.zip
    """
    from grader.gradescope.container import build
    from grader.course.manifest import ManifestError
    try:
        path = build(problems_dir=problems_dir, reference_dir=reference_dir, out=out,
                     hidden_visibility=hidden_visibility, stdout_visibility=stdout_visibility)
    except ManifestError as exc:
        raise click.BadParameter(str(exc), param_hint="--problems/--reference") from None
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {path}")


@gradescope.command("run")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default="/autograder",
              show_default=True, help="The autograder folder (source/, submission/, results/).")
def gradescope_run(root):
    """Grade ROOT/submission and write ROOT/results/results.json (inside the container).

    Always writes a valid results.json; if the grader itself fails, students see a short
    message and the traceback is in a test only instructors see.

    Example: grader gradescope run --root /autograder
    """
    from grader.gradescope.container import run
    data = run(root=root)
    click.echo(f"score {data['score']:g}; wrote {root / 'results' / 'results.json'}")


@main.command()
@with_course
@click.option("-q", "--quiet", is_flag=True, help="Print findings only.")
def validate(problems_dir, reference_dir, quiet):
    """Check the course itself before students see it.

    Every manifest loads; the reference reproduces the known numbers; each declared mistake
    differs from the reference on some case; derivative answers agree with finite
    differences; generators are deterministic per seed; and the reference, graded as a
    student with hidden cases, earns full marks.

    Example: grader validate --problems problems --reference reference
    """
    from grader.course.validate import validate as run
    findings = run(problems_dir, reference_dir,
                   progress=(lambda line: None) if quiet else click.echo)
    for finding in findings:
        click.echo(f"error: {finding}", err=True)
    if findings:
        click.echo(f"{len(findings)} problem(s) found in the course.", err=True)
        raise SystemExit(EXIT_FAILED)
    click.echo("The course is valid.")


if __name__ == "__main__":
    main()
