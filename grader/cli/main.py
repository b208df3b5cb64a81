"""The `grader` command: thin click commands, each parsing its options, calling one
keyword-only function and mapping the outcome to an exit code (see grader.cli.exitcodes).
Heavy imports happen inside the commands, so `grader --help` stays fast.
"""
from __future__ import annotations

import os
from pathlib import Path

import click

from grader import __version__
from grader.cli import exitcodes

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


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
@click.version_option(__version__, prog_name="grader")
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
@click.option("-v", "--verbose", is_flag=True, help="Show all the feedback of every problem.")
def check(paths, problems_dir, reference_dir, problems, kit, verbose):
    """Self-check a submission on the public cases.

    PATHS is your submission directory, or your files (rnn.py, optim.py, layers.py).
    Prints one line per problem with the first lines of feedback, and exits 0 only if
    every problem passes (3 if the grader itself failed).

    Example: grader check my_homework/    (students: grader check --kit KIT my_homework/)
    """
    from grader.check import self_check
    from grader.course.manifest import ManifestError
    from grader.engine import UnknownProblem
    from grader.report.terminal import table
    from grader.results.model import has_grader_error
    try:
        result = self_check(paths=list(paths), problems_dir=problems_dir,
                            reference_dir=reference_dir, kit=kit, problems=list(problems))
    except ManifestError as exc:
        raise click.BadParameter(str(exc), param_hint="--kit" if kit else
                                 "--problems/--reference") from None
    except UnknownProblem as exc:
        raise click.BadParameter(f"unknown problem id {exc.args[0]}",
                                 param_hint="--problem") from None
    click.echo(table(result, verbose=verbose))
    if has_grader_error(result):
        raise SystemExit(exitcodes.INTERNAL)
    raise SystemExit(exitcodes.OK if all(p.passed for p in result.problems)
                     else exitcodes.FAILED)


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
    from grader.batch.runner import Interrupted, grade_folder
    from grader.course.manifest import ManifestError
    bar = click.progressbar(length=0, label="Grading", show_pos=True,
                            item_show_func=lambda s: s, hidden=quiet)

    def on_plan(count):
        bar.length = count
        if not quiet and count:
            bar.render_progress()

    try:
        with bar:
            run = grade_folder(submissions=submissions, out=out, problems_dir=problems_dir,
                               reference_dir=reference_dir, jobs=jobs, force=force,
                               progress=lambda result: bar.update(1, result.student),
                               on_plan=on_plan)
    except ManifestError as exc:
        raise click.BadParameter(str(exc), param_hint="--problems/--reference") from None
    except (Interrupted, KeyboardInterrupt):
        click.echo("Interrupted. Every student graded so far is saved: run the same command "
                   "again to continue.", err=True)
        raise SystemExit(exitcodes.INTERRUPTED) from None
    if not run.students:
        raise click.BadParameter(f"{submissions} has no student subdirectory",
                                 param_hint="SUBMISSIONS")
    click.echo(_summary(run.students, graded=run.graded, kept=run.kept, seconds=run.seconds,
                        out=out))
    raise SystemExit(exitcodes.INTERNAL if any(s["grader_error"] for s in run.students)
                     else exitcodes.OK)


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
    if any(t.get("name") == "grader error (for the instructors)" for t in data["tests"]):
        raise SystemExit(exitcodes.INTERNAL)


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
        raise SystemExit(exitcodes.FAILED)
    click.echo("The course is valid.")


if __name__ == "__main__":
    main()
