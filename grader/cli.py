"""The `grader` command: a thin click layer over the plugin and the validator.

Exit codes, for every command: 0 success (all problems passed / the course is sound);
1 some problem failed or the course has findings; 2 bad usage or input (click's own code);
3 the grader itself failed.
"""
from __future__ import annotations

from pathlib import Path

import click

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FEEDBACK_LINES = 4


class _Collect:
    """Keeps the grading state of an in-process pytest run."""
    state = None

    def pytest_sessionfinish(self, session):
        from grader.plugin import session_of
        self.state = session_of(session.config)


def run_pytest(*, submissions: list[Path], problems_dir: Path, reference_dir: Path,
               public_only: bool = False, results: Path | None = None, problems=None):
    """Grade through pytest in this process; returns (pytest exit code, GraderSession)."""
    import pytest
    config = Path(__file__).with_name("isolated.ini")
    args = ["-p", "no:cacheprovider", "-p", "no:terminal", "-c", str(config), "--rootdir",
            str(Path.cwd()),
            "--problems-dir", str(problems_dir), "--reference-dir", str(reference_dir)]
    for path in submissions:
        args += ["--submission", str(path)]
    if public_only:
        args.append("--public-only")
    if results is not None:
        args += ["--results", str(results)]
    for problem in problems or ():
        args += ["--problem", problem]
    collect = _Collect()
    code = pytest.main(args, plugins=[collect])
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
def check(paths, problems_dir, reference_dir, problems):
    """Self-check a submission on the public cases.

    PATHS is your submission directory, or your files (rnn.py, optim.py, layers.py).
    Prints one line per problem with the first lines of feedback, and exits 0 only if
    every problem passes.

    Example: grader check my_homework/
    """
    code, state = run_pytest(submissions=list(paths), problems_dir=problems_dir,
                             reference_dir=reference_dir, public_only=True,
                             problems=list(problems) or None)
    if state is None or not state.results:
        raise SystemExit(EXIT_USAGE if code == 4 else EXIT_INTERNAL)
    (result,) = state.results.values()
    click.echo(_table(result))
    raise SystemExit(EXIT_OK if all(p.passed for p in result.problems) else EXIT_FAILED)


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
    from grader.validate import validate as run
    findings = run(problems_dir, reference_dir,
                   progress=(lambda line: None) if quiet else click.echo)
    for finding in findings:
        click.echo(f"error: {finding}", err=True)
    if findings:
        click.echo(f"{len(findings)} problem(s) found in the course.", err=True)
        raise SystemExit(EXIT_FAILED)
    click.echo("The course is valid.")
