"""The `grader` command: thin click commands, each parsing its options, calling one
keyword-only function and mapping the outcome to an exit code (see grader.cli.exitcodes).
Heavy imports happen inside the commands, so `grader --help` stays fast. A Ctrl-C or a closed
pipe ends any command with a sentence, never a traceback.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

import click

from grader import __version__
from grader.cli import exitcodes
from grader.course import PROBLEMS_DIR, REFERENCE_DIR
from grader.gradescope import (HIDDEN_VISIBILITY, IMAGE_PYTHON, ROOT, STDOUT_VISIBILITY,
                               VISIBILITIES)

class ShardType(click.ParamType):
    """K/N, the K-th (from 1) of N shards of a class."""
    name = "K/N"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            index, count = (int(part) for part in str(value).split("/"))
        except ValueError:
            self.fail(f"{value!r} is not K/N, such as 2/8", param, ctx)
        if not 1 <= index <= count:
            self.fail(f"{value!r}: K must be from 1 to N", param, ctx)
        return index - 1, count


SHARD = ShardType()


class OutputPath(click.Path):
    """A folder (or, with dir_okay=False, a file) that the command creates: refused, with a
    sentence, when a file stands where one of the folders above it would be."""

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        for parent in Path(os.path.abspath(path)).parents:  # abspath: without any ".."
            if parent.exists():
                if not parent.is_dir():
                    self.fail(f"{os.fsdecode(value)} cannot be made: {parent} is a file, not a "
                              "folder", param, ctx)
                break
        return path


class SubmissionsFolder(click.Path):
    """The folder of a class's submissions: a zip given instead (an LMS's bulk download) is
    refused with the way to grade it."""

    def __init__(self):
        super().__init__(exists=True, file_okay=False, path_type=Path)

    def convert(self, value, param, ctx):
        if os.path.isfile(value) and os.fsdecode(value).lower().endswith(".zip"):
            self.fail(f"{os.fsdecode(value)} is a zip, not a folder: unzip it (a zip of each "
                      "student's files may stay zipped inside), then grade the folder; for the "
                      "flat folder of an LMS's downloads, add --lms-downloads", param, ctx)
        return super().convert(value, param, ctx)


LMSES = ("canvas", "moodle")


class Failed(click.ClickException):
    """A command that cannot do its work with what it was given (exit code 2)."""
    exit_code = exitcodes.USAGE


def course_failed(exc) -> click.ClickException:
    """A course that cannot be loaded (a ManifestError names the file, problem and key), or an
    --assignment the course does not have (the option's fault, not a file's)."""
    if exc.key == "assignment" and exc.problem is None:
        return click.BadParameter(f"the course {exc.message}", param_hint="'--assignment'")
    return Failed(str(exc))


def run() -> None:
    """The `grader` command (and `python -m grader.cli`): `main`, after which the process ends
    as soon as its output is flushed. Every file is closed and every process stopped by then;
    tearing the interpreter down (NumPy, pytest, the course's modules) would only add tens of
    milliseconds to every command, the self-check included."""
    try:
        main(prog_name="grader")
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = exitcodes.BROKEN_PIPE
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code or 0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush into a closed pipe
    does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


class Grader(click.Group):
    """The command group: Ctrl-C and a closed output pipe end a command with an exit code
    (and, for Ctrl-C, a sentence), not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            raise SystemExit(exitcodes.INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise SystemExit(exitcodes.BROKEN_PIPE) from None


course_options = [
    click.option("--problems", "problems_dir", type=click.Path(file_okay=False, path_type=Path),
                 default=PROBLEMS_DIR, show_default=True, help="Directory of problem manifests."),
    click.option("--reference", "reference_dir",
                 type=click.Path(file_okay=False, path_type=Path), default=REFERENCE_DIR,
                 show_default=True, help="Directory of reference solutions."),
]


def with_course(function):
    for option in reversed(course_options):
        function = option(function)
    return function


def assignment_option(help_text: str):
    return click.option("--assignment", "assignments", multiple=True, metavar="NAME",
                        help=help_text)


@click.group(cls=Grader)
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
@click.option("-v", "--verbose", is_flag=True,
              help="Show all the feedback of every problem, and a failing public case as "
                   "Python to paste.")
def check(paths, problems_dir, reference_dir, problems, kit, verbose):
    """Self-check a submission on the public cases.

    PATHS is your submission folder, a zip of it, or your files (rnn.py optim.py ...). Only
    the assignments whose files are found are checked; the others are named. Prints one
    line per problem with the first lines of feedback (-v: all of it), and exits 0 only if
    every problem passes (3 if the grader itself failed).

    Example: grader check my_homework/    (students: grader check --kit KIT my_homework/)
    """
    _one_submission(paths)
    from grader.sandbox.launch import start_zygote
    started = start_zygote()  # first: it boots while the grader imports NumPy and the course
    from grader.check import self_check
    from grader.course.manifest import ManifestError
    from grader.engine import UnknownProblem
    from grader.report.terminal import table
    from grader.results.model import has_grader_error
    try:
        checked = self_check(paths=list(paths), problems_dir=problems_dir,
                             reference_dir=reference_dir, kit=kit, problems=list(problems),
                             started=started)
    except ManifestError as exc:
        if kit is None and not problems_dir.exists():  # a student without --kit, most likely
            raise Failed(f"{exc}. Checking with your instructor's kit? Pass it with --kit: "
                         f"grader check --kit KIT {' '.join(map(str, paths))}") from None
        raise course_failed(exc) from None
    except UnknownProblem as exc:
        raise click.BadParameter(f"unknown problem id {exc.args[0]}",
                                 param_hint="--problem") from None
    result = checked.result
    for gap in checked.gaps:
        click.echo(f"Warning: the sandbox is weaker here: {gap}", err=True)
    click.echo(table(result, verbose=verbose, skipped=checked.skipped_lines(),
                     reproduce=checked.reproduce, color=True))
    if has_grader_error(result):
        raise SystemExit(exitcodes.INTERNAL)
    raise SystemExit(exitcodes.OK if result.problems and all(p.passed for p in result.problems)
                     else exitcodes.FAILED)


def _one_submission(paths: Sequence[Path]) -> None:
    """A usage error unless `paths` are one submission: a folder, a zip, or files of distinct
    names."""
    if len(paths) > 1 and any(p.is_dir() or p.suffix.lower() == ".zip" for p in paths):
        raise click.BadParameter("give one submission: your folder, a zip of it, or your files "
                                 "(rnn.py optim.py ...), not several folders or zips",
                                 param_hint="PATHS")
    names = [p.name for p in paths]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:
        raise click.BadParameter(f"two files named {twice}: give one submission's files",
                                 param_hint="PATHS")


def _summary(students: list[dict], *, graded: int, kept: int, seconds: float, out: Path,
             gone: Sequence[str] = ()) -> str:
    """What `grade` says at its end: the students graded now and kept, then `_outcome`."""
    said = f"{graded} graded now in {seconds:.1f} s, {kept} unchanged since the last run"
    if gone:
        said += f", {len(gone)} no longer in the submissions folder"
    return "\n".join([f"Students: {len(students)} ({said})",
                      *_outcome(students, out=out, gone=gone)])


def _outcome(students: list[dict], *, out: Path, gone: Sequence[str] = ()) -> list[str]:
    """What a class's grading came to: the mean score, the students kept though gone, the
    grader's failures (said once per cause), and where the class files are."""
    from grader.batch.outputs import GRADEBOOK_FILE, INDEX_FILE
    from grader.results.summary import listed, points
    failed = [s for s in students if s["grader_error"]]
    scores = [s["score"] for s in students if not s["grader_error"]]
    maximum = max((s["max_score"] for s in students), default=0)
    lines = []
    if scores:
        lines.append(f"Mean score: {sum(scores) / len(scores):.2f} / {points(maximum)}")
    if gone:
        lines.append(f"Kept from an earlier run, though no longer in the submissions folder "
                     f"(delete their folders in {out} to drop them): {listed(list(gone))}")
    if failed:
        lines.append(f"Grader failures ({len(failed)}): their scores are left empty, not zero. "
                     "Fix the cause below, then run the same command again (students with a "
                     "grader failure are always graded again):")
        by_error: dict[str, list[str]] = {}
        for student in failed:  # a course's bug fails every student alike: said once
            by_error.setdefault(student["grader_error"], []).append(student["name"])
        lines += [f"  {listed(names)}: {error}" for error, names in by_error.items()]
    return lines + [f"Gradebook: {out / GRADEBOOK_FILE}",
                    f"Reports:   {out / INDEX_FILE} and {out}/<student>/report.html"]


@main.command()
@click.argument("submissions", type=SubmissionsFolder())
@click.option("--out", required=True, type=OutputPath(file_okay=False, path_type=Path),
              help="Directory for the reports and the gradebook.")
@with_course
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              show_default="all cores",
              help="Processes grading at once, each a share of the class with its own sandbox.")
@click.option("--shard", type=SHARD, metavar="K/N",
              help="Grade only the K-th of N shards of the class (K from 1), for example in a "
                   "cluster's array job; no class files are written: `grader merge` joins the "
                   "shards' output folders.")
@click.option("--force", is_flag=True, help="Regrade every student, even unchanged ones.")
@click.option("--lms-downloads", is_flag=True,
              help="SUBMISSIONS is a flat folder of Canvas or Moodle downloads "
                   "(doejane_123_456_rnn.py, ...): group the files by student first.")
@assignment_option("Grade only this assignment; repeat the option for several (the others "
                   "are not graded). Useful when the class folder holds one homework.")
@click.option("--allow-weak-sandbox", is_flag=True,
              help="Grade even where some of the sandbox's protections are off (an old kernel, "
                   "a container without namespaces): the protections that are off are listed.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def grade(submissions, out, problems_dir, reference_dir, jobs, shard, force, lms_downloads,
          assignments, allow_weak_sandbox, quiet):
    """Grade a whole class: each subdirectory of SUBMISSIONS (or zip, named after the
    student) is one student.

    Writes OUT/<student>/results.json (Gradescope format), report.csv and report.html as
    soon as each student is done, then OUT/gradebook.csv and OUT/index.html. A rerun skips
    students whose submission and course have not changed (use --force to regrade all), so
    an interrupted run continues where it stopped.

    Example: grader grade submissions_example --out reports/
    """
    if out.resolve() == submissions.resolve():
        raise click.BadParameter(f"{out} is the submissions folder: the reports would mix "
                                 "with the students' files. Choose another folder, such as "
                                 "reports/.", param_hint="'--out'")
    # A shard is graded in this process: its sandbox boots while the course loads. (A whole
    # class imports the library of its class files during that boot instead: no gain there.)
    started = None
    if shard is not None:
        from grader.sandbox.launch import start_zygote
        started = start_zygote()
    from grader.batch.runner import (GradingFailed, Interrupted, NoStudents, WeakSandbox,
                                     grade_folder)
    from grader.course.manifest import ManifestError
    from grader.report.terminal import printable
    bar = click.progressbar(length=0, label="Grading", show_pos=True,
                            item_show_func=lambda s: s, hidden=True)

    def on_plan(count):  # the course loaded and the class planned: the bar may show
        bar.length, bar.hidden = count, quiet or not sys.stdout.isatty()  # no bar in a log
        if not quiet and count:
            bar.render_progress()

    try:
        with bar:
            run = grade_folder(submissions=submissions, out=out, problems_dir=problems_dir,
                               reference_dir=reference_dir, jobs=jobs, force=force,
                               lms_downloads=lms_downloads, assignments=list(assignments),
                               shard=shard, class_files=shard is None,
                               allow_weak_sandbox=allow_weak_sandbox,
                               progress=lambda student: bar.update(1, student),
                               on_plan=on_plan, started=started)
    except ManifestError as exc:
        raise course_failed(exc) from None
    except NoStudents as exc:
        raise click.BadParameter(str(exc), param_hint="SUBMISSIONS") from None
    except WeakSandbox as exc:
        click.echo("\nRefusing to grade other people's code: these protections of the sandbox "
                   "are off here:", err=True)
        for gap in exc.gaps:
            click.echo(f"  - {gap}", err=True)
        click.echo("Grade on a Linux machine where they hold, or pass --allow-weak-sandbox to "
                   "grade anyway.", err=True)
        raise SystemExit(exitcodes.WEAK_SANDBOX) from None
    except (Interrupted, KeyboardInterrupt):
        click.echo("\nInterrupted. Every student graded so far is saved: run the same command "
                   "again to continue.", err=True)
        raise SystemExit(exitcodes.INTERRUPTED) from None
    except GradingFailed as exc:
        click.echo(f"\nGrading stopped: {printable(str(exc))}. Every student graded so far is "
                   "saved: run the same command again to continue.", err=True)
        raise SystemExit(exitcodes.INTERNAL) from None
    finally:
        if started is not None:  # its sandbox closed it, or none was needed: it ends now
            from grader.sandbox.launch import discard
            discard(started)
    for path, reason in run.skipped:
        click.echo(printable(f"Not graded: {path.name}: {reason}"), err=True)
    for gap in run.gaps:
        click.echo(f"Warning: graded with a weaker sandbox: {gap}", err=True)
    if shard is not None:
        click.echo(f"Shard {shard[0] + 1}/{shard[1]}: {run.graded} graded now in "
                   f"{run.seconds:.1f} s, {run.kept} unchanged since the last run. When every "
                   "shard is done: grader merge SHARD_OUT... --out OUT")
        raise SystemExit(exitcodes.OK)
    click.echo(_summary(run.students, graded=run.graded, kept=run.kept, seconds=run.seconds,
                        out=out, gone=run.gone))
    raise SystemExit(exitcodes.INTERNAL if any(s["grader_error"] for s in run.students)
                     else exitcodes.OK)


@main.command()
@click.argument("shards", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=OutputPath(file_okay=False, path_type=Path),
              help="The class's output folder (it may be one of the shards').")
@with_course
@click.option("--partial", is_flag=True,
              help="Merge even though a shard of the split is missing (the class files then "
                   "lack its students).")
def merge(shards, out, problems_dir, reference_dir, partial):
    """Join the output folders of `grader grade --shard` runs into one class.

    Copies each student's folder into OUT (replacing a folder of that name there, unless OUT
    is the shard it comes from) and writes
    OUT/gradebook.csv, OUT/common-wrong-answers.csv and OUT/index.html. Refuses when a shard of
    the split is missing (not given, or not done) or the folders come from different splits or
    courses.

    Example: grader merge out-1 out-2 out-3 --out reports/
    """
    from grader.batch.runner import IncompleteShards, merge_outputs
    from grader.course.manifest import ManifestError
    try:
        students = merge_outputs(shards=list(shards), out=out, problems_dir=problems_dir,
                                 reference_dir=reference_dir, partial=partial)
    except ManifestError as exc:
        raise course_failed(exc) from None
    except IncompleteShards as exc:
        raise Failed(f"Not merged: {exc}. Give every shard's output folder, or pass --partial "
                     "to merge these alone.") from None
    click.echo(f"Merged {len(shards)} output folder{'s' if len(shards) != 1 else ''}: "
               f"{len(students)} students.")
    click.echo("\n".join(_outcome(students, out=out)))
    raise SystemExit(exitcodes.INTERNAL if any(s["grader_error"] for s in students)
                     else exitcodes.OK)


@main.command()
@click.argument("graded", metavar="OUT_DIR",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--lms", type=click.Choice(LMSES), required=True,
              help="The learning management system whose import format to write.")
@click.option("--roster", required=True, type=click.Path(exists=True, dir_okay=False,
                                                          path_type=Path),
              help="The class roster (CSV with the students' names, IDs and logins or emails, "
                   "such as the LMS's own export).")
@click.option("--out", "output", required=True,
              type=OutputPath(dir_okay=False, path_type=Path),
              help="The import file to write (CSV).")
@with_course
@assignment_option("Export this assignment of the course, graded as a whole, as its own LMS "
                   "column: the sum of its problems' scores, out of their points in the "
                   "course's manifests. Repeat the option for one column each  [default: one "
                   "column, the gradebook's total].")
@click.option("--assignment-name", metavar="NAME",
              help="The LMS column's name  [default: the --assignment's name, or OUT_DIR's "
                   "name]. Canvas: 'Name (id)' from its own export updates that assignment. "
                   "Not with several --assignment.")
@click.option("--points", type=click.FloatRange(min=0, min_open=True),
              help="The LMS column's points; scores are scaled to them  [default: the "
                   "course's maximum, or the --assignment's]. Not with several --assignment.")
def export(graded, lms, roster, output, problems_dir, reference_dir, assignments,
           assignment_name, points):
    """Write the gradebook of `grader grade` in an LMS's import format.

    OUT_DIR is the --out folder of `grader grade`. Each student folder is matched to a roster
    row (by ID, login, email or name); scores are rounded to two decimals, text that a
    spreadsheet would run as a formula is neutralised. Students that match no roster row,
    roster rows without a submission and students the grader failed on are listed on stderr.
    The score is the gradebook's total, or, with --assignment, one column per homework of a
    course graded at once.

    \b
    Examples:
      grader export --lms canvas --roster roster.csv --out canvas.csv reports/
      grader export --lms canvas --roster roster.csv --assignment rnn \\
          --assignment optim --out canvas.csv reports/
    """
    from grader.batch.outputs import GRADEBOOK_FILE
    from grader.results.export import Column, export as write, read_gradebook, read_roster
    book_path = graded / GRADEBOOK_FILE
    if not book_path.is_file():
        raise click.BadParameter(f"{graded} has no {GRADEBOOK_FILE}: run grader grade ... --out "
                                 f"{graded} first", param_hint="OUT_DIR")
    if len(set(assignments)) > 1 and (assignment_name or points):
        raise click.UsageError("--assignment-name and --points name and scale one column: "
                               "export one --assignment at a time to use them.")
    try:
        members = read_roster(roster)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--roster") from None
    book = read_gradebook(book_path)
    if assignments:
        columns = _assignment_columns(problems_dir, reference_dir, assignments,
                                      name=assignment_name, points=points)
    else:
        maximum = points or (float(book["max"].max()) if len(book) else 0.0)
        if not maximum > 0:  # also NaN: no graded student
            raise click.BadParameter("the gradebook has no maximum score: give --points",
                                     param_hint="--points")
        columns = [Column(assignment_name or graded.resolve().name, maximum)]
    try:
        done = write(book, members, lms=lms, columns=columns)
    except ValueError as exc:  # an assignment's problems missing from the gradebook
        raise Failed(f"{exc}: was {graded} graded with this course and this assignment?") \
            from None
    if len(book) and not done.matched:
        raise Failed(f"none of the {len(book)} students of {graded} matches a row of {roster} "
                     "(by ID, login, email or name), so nothing was written: is it this class's "
                     "roster? Were the submissions downloaded from the LMS graded with "
                     "--lms-downloads (which names each student as the LMS does)?")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(done.text, encoding="utf-8")
    for folder, why in done.unmatched.items():
        click.echo(f"{why[0].upper()}{why[1:]}, left out: {folder}", err=True)
    for _, row in done.missing.iterrows():
        click.echo(f"No submission, left out: {row['name']} ({row['id'] or row['login']})",
                   err=True)
    for folder in done.not_graded:
        click.echo(f"The grader failed on {folder}: score left empty (grade again)", err=True)
    unmatched = len(done.unmatched)
    scores = len(done.matched) - len(done.not_graded)
    out_of = ", ".join(f"{column.points:g} points" + (f" ({column.title})" if len(columns) > 1
                                                      else "") for column in columns)
    click.echo(f"wrote {output}: {scores} student{'s' if scores != 1 else ''} scored, out of "
               f"{out_of}; {unmatched} student{'s' if unmatched != 1 else ''} not in the roster")


def _assignment_columns(problems_dir: Path, reference_dir: Path, assignments: Sequence[str], *,
                        name: str | None, points: float | None) -> list:
    """The export's column for each of the course's `assignments`: its problems, out of their
    points (or `points`), titled with its name (or `name`)."""
    from grader.course.manifest import ManifestError, choose, load_course
    from grader.results.export import Column
    try:
        chosen = choose(load_course(problems_dir, reference_dir), assignments)
    except ManifestError as exc:
        raise course_failed(exc) from None
    columns = []
    for assignment in chosen:
        problems = {problem.id: problem.points for problem in assignment.problems}
        worth = points or sum(problems.values())
        if not worth > 0:
            raise click.BadParameter(f"assignment '{assignment.name}' has no points in its "
                                     "manifest: give --points", param_hint="--points")
        columns.append(Column(name or assignment.name, worth, problems))
    return columns


@main.command()
@click.argument("graded", metavar="OUT_DIR",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "copies", required=True, type=OutputPath(file_okay=False, path_type=Path),
              help="The folder to write the students' copies to, one page per student "
                   "(created if needed; a student's page written before is replaced). Not "
                   "inside OUT_DIR.")
def handback(graded, copies):
    """Write each student's copy of their report, to hand back to them.

    OUT_DIR is the --out folder of `grader grade`, whose report.html pages are the
    instructor's copies. A student's copy is the same page, with the same points, except
    that a hidden case shows only whether it passed (and the known mistake it matched, in the
    course's own words): what it was given and expected, and what the code printed or raised
    while running it, stay hidden; so do the details of the grader's own failures. The copies
    are written as <student>.html, named after the students' folders in OUT_DIR. A student
    without a stored grade that can be read gets no page (an earlier one is removed) and is
    listed, and the command then exits 1: grade them again first.

    Example: grader handback reports/ --out handback/
    """
    from grader.batch.outputs import write_student_copies
    where = copies.resolve()
    if where == graded.resolve() or graded.resolve() in where.parents:
        raise click.BadParameter(f"{copies} is inside OUT_DIR, whose folders are the students' "
                                 "and the instructor's: choose a folder outside it, such as "
                                 "handback/.", param_hint="'--out'")
    try:
        done = write_student_copies(graded, to=copies)
    except OSError as exc:
        named = f" ({exc.filename})" if exc.filename else ""
        raise Failed(f"the students' copies could not be written to {copies}: "
                     f"{exc.strerror or exc}{named}") from None
    if not done.written and not done.ungraded:
        raise click.BadParameter(f"{graded} holds no student's folder: it should be the --out "
                                 f"folder of grader grade (run grader grade ... --out {graded} "
                                 "first)", param_hint="'OUT_DIR'")
    for name in done.ungraded:
        click.echo(f"No grade that can be read, so no page: {name} (grade again with grader "
                   "grade)", err=True)
    for name in done.others:
        click.echo(f"Not a student of {graded}, left as it is: {copies / name}", err=True)
    count = len(done.written)
    click.echo((f"Wrote {count} students' copies" if count != 1 else "Wrote 1 student's copy")
               + f" to {copies}{os.sep}<student>.html")
    raise SystemExit(exitcodes.FAILED if done.ungraded else exitcodes.OK)


@main.command()
@click.option("--out", required=True, type=OutputPath(file_okay=False, path_type=Path),
              help="Directory to write the kit to.")
@with_course
@assignment_option("Put only this assignment in the kit; repeat the option for several "
                   "(one kit per homework).")
def kit(out, problems_dir, reference_dir, assignments):
    """Write the student kit: the public cases and their expected values, and grader's wheel.

    Students install grader from the kit (its README says how) and check their work on
    their own machine: grader check --kit KIT my_homework/. The kit holds no reference code,
    no hidden seed and no hidden case.

    Example: grader kit --assignment optim --out kit/
    """
    from grader.course.kit import build_kit
    from grader.course.manifest import ManifestError, load_course
    from grader.distribution import BuildError
    try:
        course = load_course(problems_dir, reference_dir)
        written = build_kit(course, out, assignments=list(assignments))
    except ManifestError as exc:
        raise course_failed(exc) from None
    except BuildError as exc:
        raise Failed(str(exc)) from None
    for path in written:
        click.echo(f"wrote {path}")


@main.group()
def gradescope():
    """Build a Gradescope autograder, and run it inside the container."""


@gradescope.command("build")
@click.option("--out", type=OutputPath(dir_okay=False, path_type=Path),
              default="autograder.zip", show_default=True, help="The zip to write.")
@with_course
@assignment_option("Put only this assignment in the autograder; repeat the option for "
                   "several (one autograder per homework).")
@click.option("--python", "python", default=IMAGE_PYTHON, show_default=True, metavar="X.Y",
              help="The Python of the Gradescope image (its default Ubuntu 22.04 image has "
                   "3.10); requirements are pinned to versions that install there.")
@click.option("--hidden-visibility", type=click.Choice(VISIBILITIES), default=HIDDEN_VISIBILITY,
              show_default=True, help="When students see the scores and feedback of hidden "
                                      "cases (public cases are always visible at once).")
@click.option("--stdout-visibility", type=click.Choice(VISIBILITIES), default=STDOUT_VISIBILITY,
              show_default=True, help="When students see what the autograder printed.")
def gradescope_build(out, problems_dir, reference_dir, assignments, python, hidden_visibility,
                     stdout_visibility):
    """Pack the course into a Gradescope autograder zip.

    The zip holds setup.sh (installs grader's wheel and its requirements, pinned to versions
    that install on the image's Python: resolving them needs the package index), an
    executable run_autograder, and the chosen assignments' manifests, reference solutions and
    course code. It fails here, with the reason, if they cannot be installed there.

    Example: grader gradescope build --assignment optim --out optim.zip
    """
    from grader.course.manifest import ManifestError
    from grader.gradescope.container import BuildFailed, build
    try:
        path = build(problems_dir=problems_dir, reference_dir=reference_dir, out=out,
                     hidden_visibility=hidden_visibility, stdout_visibility=stdout_visibility,
                     python=python, assignments=list(assignments))
    except ManifestError as exc:
        raise course_failed(exc) from None
    except BuildFailed as exc:
        raise Failed(f"cannot build the autograder: {exc}") from None
    click.echo(f"wrote {path} (for Python {python})")


@gradescope.command("run")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=ROOT,
              show_default=True, help="The autograder folder (source/, submission/, results/).")
def gradescope_run(root):
    """Grade ROOT/submission and write ROOT/results/results.json (inside the container).

    Always writes a valid results.json; if the grader itself fails, students see a short
    message and the traceback is in a test only instructors see.

    Example: grader gradescope run --root /autograder
    """
    from grader.gradescope.container import run
    from grader.results.gradescope import GRADER_ERROR_TEST
    data = run(root=root)
    click.echo(f"score {data['score']:g}; wrote {root / 'results' / 'results.json'}")
    if any(t.get("name") == GRADER_ERROR_TEST for t in data["tests"]):
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
    from grader.course.manifest import ManifestError, load_course
    from grader.course.validate import validate as run
    if not (Path(problems_dir).is_dir() and Path(reference_dir).is_dir()):
        try:  # a folder not found is a usage error, as for every command: said by the loader
            load_course(problems_dir, reference_dir)
        except ManifestError as exc:
            raise course_failed(exc) from None
    findings = run(problems_dir=problems_dir, reference_dir=reference_dir,
                   progress=(lambda line: None) if quiet else click.echo)
    for finding in findings:
        click.echo(f"Error: {finding}", err=True)
    if findings:
        click.echo(f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in the course, "
                   "to fix before students see it.", err=True)
        raise SystemExit(exitcodes.FAILED)
    click.echo("The course is valid.")


if __name__ == "__main__":
    main()
