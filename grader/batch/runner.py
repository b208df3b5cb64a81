"""Grading a class folder into an output folder (`grader grade`): find the students (see
grader.batch.students), take each submission as the student made it (see
grader.submission.intake), plan which students need grading, then grade them through pytest,
one session per chunk of students, each session given a `GradingSession` built here around
one engine, one sandbox and one set of expected values for the whole class. The chunks bound
pytest's memory (its items) however large the class.
"""
from __future__ import annotations

import contextlib
import gc
import importlib
import os
import queue
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from grader.batch import cores
from grader.batch import plan as planning
from grader.batch import shards as shard_marks
from grader.batch.outputs import ClassWriter, write_class
from grader.batch.students import class_is_empty, stage_downloads, submissions_of
from grader.report.classpage import ClassSummary
from grader.results.summary import listed
from grader.results.stored import from_dict

CHUNK = 200  # students per pytest session
GC_THRESHOLD = 10_000  # allocations between two of the collector's passes while grading
WIND_DOWN = 5.0  # seconds an interrupted grading process has to clean up, before it is ended
ISOLATED_INI = Path(__file__).resolve().parent.parent / "cli" / "isolated.ini"
PLUGIN = "grader.pytest_plugin.plugin"  # the grader's pytest plugin, by module name
# pytest's plugins that a grading session has no use for (no test files, fixtures, debugger,
# JUnit XML or doctests): not loaded, so each process and each chunk starts sooner
UNUSED_PLUGINS = tuple(option for name in (
    "debugging", "unittest", "junitxml", "doctest", "pastebin", "legacypath", "tmpdir",
    "monkeypatch", "recwarn", "stepwise", "setuponly", "setupplan", "subtests")
    for option in ("-p", f"no:{name}"))


class Interrupted(Exception):
    """Grading was interrupted; every student graded so far is saved."""


class GradingFailed(RuntimeError):
    """A grading process could not finish its shard (the grader's failure, said in a
    sentence); every student graded so far is saved."""


class NoStudents(ValueError):
    """The submissions folder holds no student to grade (said before anything is written)."""


class WeakSandbox(Exception):
    """Some protections of the sandbox are off here (`gaps`, a sentence each): grading other
    people's code needs the instructor's explicit consent."""

    def __init__(self, gaps: list[str]):
        super().__init__("; ".join(gaps))
        self.gaps = gaps


@dataclass
class ClassRun:
    students: list[dict]  # every student of the class, as the class page lists them
    graded: int
    kept: int
    seconds: float
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (what, why not graded)
    gaps: list[str] = field(default_factory=list)  # protections that were off (allowed)
    gone: list[str] = field(default_factory=list)  # listed from an earlier run: no submission


def run_pytest(*, plugins: list, args: tuple[str, ...] = ()) -> int:
    """pytest in this process with a configuration that nothing on disk can change: the
    grader's own empty ini file, no conftest.py (not even one in the current folder), no
    cache, no output of its own, and no plugin that an installed package declares (pytest's
    auto-loading is off: a plugin of the environment, such as one that reorders or reseeds
    tests, has no say in grading; a plugin meant to, such as one adjusting results through
    `pytest_grader_submission_graded`, is named in PYTEST_PLUGINS); the grader's plugin is
    named here, so a grader run from a source folder that was never installed grades all the
    same."""
    import pytest
    options = ["-c", str(ISOLATED_INI), "--rootdir", str(ISOLATED_INI.parent), "--noconftest",
               "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:logging",
               "-p", "no:grader", "-p", PLUGIN, "-p", "no:unraisableexception", *UNUSED_PLUGINS,
               "--capture=no", "--assert=plain", "--disable-plugin-autoload", *args]
    return int(pytest.main(options, plugins=plugins))


def grade_folder(*, submissions: Path, out: Path, problems_dir: Path, reference_dir: Path,
                 jobs: int | None = None, force: bool = False, lms_downloads: bool = False,
                 assignments: Sequence[str] | None = None, shard: tuple[int, int] | None = None,
                 class_files: bool = True, allow_weak_sandbox: bool = False,
                 progress: Callable[[str], None] = lambda student: None,
                 on_plan: Callable[[int], None] = lambda count: None,
                 started: tuple | None = None) -> ClassRun:
    """Grade every student of `submissions` that needs it into `out`, on the course's
    `assignments` (all for None), in `jobs` processes (each one grading a shard of the class
    with its own sandbox; None: one per core), then write the class files (unless `class_files`
    is false) from the summaries the processes made as they graded (and the stored results of
    the students they did not grade). With `shard` = (k, n), only the k-th of n shards of the
    class is graded here: shards can run on other machines into the same or other output
    folders, which `merge_outputs` joins. With `lms_downloads`, `submissions` is a flat folder
    of Canvas or Moodle downloads, grouped by student first. `progress` is called with each
    student's name as the student is done. `started`, a zygote from
    grader.sandbox.launch.start_zygote (booting while the caller loads), is the sandbox's when
    the class is graded in this process; the caller ends it (see grader.sandbox.launch.discard).
    Raises ManifestError for an unknown assignment, and WeakSandbox when protections of the
    sandbox are off here, unless `allow_weak_sandbox`."""
    from grader.course.manifest import choose, load_course
    from grader.engine import Engine
    gaps: list[str] = []
    course = load_course(problems_dir, reference_dir)  # a broken course fails here, once
    chosen = [a.name for a in choose(course, assignments)] if assignments else None
    engine = Engine(course=course, hidden=True, details=True,
                    problems=None if chosen is None else
                    [p.id for p in course.problems if p.assignment in chosen])
    if shard is None and (empty := class_is_empty(Path(submissions), out=Path(out),
                                                    lms_downloads=lms_downloads)):
        raise NoStudents(empty)
    fingerprint = planning.course_fingerprint(problems_dir, reference_dir)
    graded_print = planning.graded_fingerprint(
        fingerprint, [p.problem.id for p in engine.plan], hidden=True)
    options = dict(submissions=Path(submissions), out=Path(out), problems_dir=problems_dir,
                   reference_dir=reference_dir, force=force, lms_downloads=lms_downloads,
                   chosen=chosen, fingerprint=fingerprint, graded_print=graded_print,
                   allow_weak_sandbox=allow_weak_sandbox, gaps=gaps)
    Path(out).mkdir(parents=True, exist_ok=True)  # even for a shard with no student
    if shard is not None:
        shard_marks.unmark(out, shard)  # done only once it is
    start = time.monotonic()
    summary = ClassSummary(course.tolerance_of) if class_files else None
    jobs = jobs or len(cores.usable())
    if jobs > 1 and shard is None:
        _before_forking(engine)
        graded, kept, skipped = _in_processes(options, engine, jobs, progress, on_plan, gaps,
                                              summary)
    else:
        if summary is not None:  # while this process waits for its children
            _import_in_background("pandas")
        graded, kept, skipped = _grade_shard(engine, shard=shard, progress=progress,
                                             on_plan=on_plan, threads=2, summary=summary,
                                             started=started, **options)
    if shard is not None:
        shard_marks.mark_done(out, shard, graded_print)
    students, gone = [], []
    if summary is not None:
        present = {s["name"] for s in summary.students}
        students = write_class(Path(out), summary=summary).students
        gone = [s["name"] for s in students if s["name"] not in present]
    return ClassRun(students, graded, kept, time.monotonic() - start, skipped,
                    sorted(set(gaps)), gone)


class IncompleteShards(ValueError):
    """The output folders given to merge are not every shard of one split of one course."""


def merge_outputs(*, shards: Sequence[Path], out: Path, problems_dir: Path | None = None,
                  reference_dir: Path | None = None, partial: bool = False) -> list[dict]:
    """Join the output folders of shards into `out` (each student's folder is copied unless
    it is there already) and write the class files; returns the class's students. With the
    course, near-identical wrong answers are grouped within each problem's tolerance. Raises
    IncompleteShards, before anything is written, when a shard of the split is missing or the
    folders come from different splits or courses (unless `partial`)."""
    why = shard_marks.incomplete(map(Path, shards))
    if why and not partial:
        raise IncompleteShards(why)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for folder in map(Path, shards):
        if folder.resolve() == out.resolve():
            continue
        for student in sorted(p for p in folder.iterdir()
                              if p.is_dir() and not p.is_symlink()
                              and (p / planning.GRADE_FILE).is_file()):
            target = out / student.name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(student, target, symlinks=True)
    tolerance = None
    if problems_dir is not None and reference_dir is not None:
        from grader.course.manifest import load_course
        tolerance = load_course(problems_dir, reference_dir).tolerance_of
    return write_class(out, tolerance=tolerance).students


def _import_in_background(name: str) -> None:
    """Import a module in a thread of its own (never before forking: the fork could copy the
    import lock while the thread holds it)."""
    threading.Thread(target=importlib.import_module, args=(name,), daemon=True).start()


def _before_forking(engine) -> None:
    """What every worker process needs, done once here so that each inherits it: the expected
    values of every case, pytest and the grader's plugin imported, the report templates
    compiled; then all of it is moved out of the garbage collector's sight, so the workers'
    collections neither scan nor copy it."""
    import pytest  # noqa: F401
    import grader.pytest_plugin.session  # noqa: F401
    from grader.report.render import prepare_templates
    engine.compute_expected()
    prepare_templates()
    gc.freeze()


def _in_processes(options: dict, engine, jobs: int, progress, on_plan, gaps: list,
                  summary: ClassSummary | None) -> tuple[int, int, list]:
    """Grade the class in `jobs` forked processes, one part each (each inherits `engine`);
    report their progress and plans here, in the calling process, and merge their summaries
    of the students into `summary`."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    messages = context.Queue()
    workers = [context.Process(target=_worker, daemon=True,
                               args=(options, engine, (k, jobs), messages, summary is not None))
               for k in range(jobs)]
    for worker in workers:
        worker.start()
    if summary is not None:  # this process only waits: ready the class files' library now
        _import_in_background("pandas")
    planned, finished, graded, kept, skipped, failure = 0, 0, 0, 0, [], None
    try:
        while finished < jobs:
            try:
                kind, value = messages.get(timeout=1.0)
            except queue.Empty:
                if any(worker.is_alive() for worker in workers) or not messages.empty():
                    continue
                codes = sorted({worker.exitcode for worker in workers})
                failure = failure or (f"a grading process ended before finishing its part of "
                                      f"the class (exit codes {codes}; killed for memory?)")
                break
            if kind == "plan":
                planned += value
                on_plan(planned)  # the students to grade in the shards planned so far
            elif kind == "student":
                progress(value)
            elif kind == "done":
                finished += 1
                graded, kept = graded + value[0], kept + value[1]
                skipped += value[2]
                gaps += value[3]
                if summary is not None:
                    summary.merge(value[4])
            elif kind == "weak":
                finished += 1
                failure = failure or WeakSandbox(value)
            else:  # "failed": a shard could not finish
                finished += 1
                failure = failure or value
    except KeyboardInterrupt:
        _wind_down(workers, messages)
        raise Interrupted() from None
    except BaseException:  # none may be left writing to the queue, which nobody reads now
        for worker in workers:
            worker.terminate()
        raise
    finally:
        for worker in workers:
            worker.join()
    if failure == "interrupted":
        raise Interrupted()
    if isinstance(failure, WeakSandbox):
        raise failure
    if failure:
        raise GradingFailed(failure)
    return graded, kept, skipped


def _wind_down(workers: list, messages) -> None:
    """After Ctrl-C: let the grading processes stop as interrupted, each removing its scratch
    folder and its sandbox (Ctrl-C reaches the whole process group; one still running after a
    second was not reached, and is interrupted now), reading what they still say so that none
    waits on a full queue; those still running after WIND_DOWN seconds more are ended."""
    for interrupt, grace in ((False, 1.0), (True, WIND_DOWN)):
        if interrupt:
            for worker in workers:
                if worker.is_alive():
                    os.kill(worker.pid, signal.SIGINT)
        deadline = time.monotonic() + grace
        while any(worker.is_alive() for worker in workers) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty, OSError, EOFError, ValueError):
                messages.get(timeout=0.05)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()


def _worker(options: dict, engine, part: tuple[int, int], messages, summarise: bool) -> None:
    """One process of `_in_processes`: grade its part of the class (see `_grade_shard`),
    saying what happens on `messages`, last with the summary of its students (if
    `summarise`). It drives one child at a time: the other processes keep the other cores
    busy. It keeps to its core if there are as many processes as cores (see
    grader.batch.cores). Its sandbox's zygote starts first, and boots while the part is
    planned."""
    from grader.sandbox.launch import discard, start_zygote
    cores.keep_to_core(part)  # before the zygote starts: it and its children keep to it too
    started = start_zygote()
    try:
        gaps: list[str] = []
        summary = ClassSummary(engine.course.tolerance_of, share=part[1]) if summarise \
            else None
        graded, kept, skipped = _grade_shard(
            engine, shard=None, part=part, threads=1, summary=summary,
            **{**options, "gaps": gaps},
            progress=lambda student: messages.put(("student", student)),
            on_plan=lambda count: messages.put(("plan", count)), started=started)
        messages.put(("done", (graded, kept, skipped, gaps, summary)))
    except WeakSandbox as exc:
        messages.put(("weak", exc.gaps))
    except Interrupted:
        messages.put(("failed", "interrupted"))
    except KeyboardInterrupt:
        messages.put(("failed", "interrupted"))
    except GradingFailed as exc:  # a sentence already
        messages.put(("failed", str(exc)))
    except Exception as exc:  # the grader failed in this shard: say so in the caller
        messages.put(("failed", f"{type(exc).__name__}: {exc}"))
    finally:  # its sandbox closed it, or none was needed: it ends now
        discard(started)


def _grade_shard(engine, *, submissions: Path, out: Path, problems_dir: Path,
                 reference_dir: Path, force: bool, lms_downloads: bool,
                 chosen: list[str] | None, fingerprint: str, graded_print: str,
                 shard: tuple[int, int] | None,
                 allow_weak_sandbox: bool, gaps: list, threads: int, progress,
                 on_plan, summary: ClassSummary | None = None,
                 part: tuple[int, int] | None = None,
                 started: tuple | None = None) -> tuple[int, int, list]:
    """Grade the students of one shard (all for None) that need it, in this process, with
    `engine` (on the `chosen` assignments, None for all, of the course of `fingerprint`, as
    `graded_print` says: a stored result of another course, or of other problems, is graded
    again) and `threads` grading ahead, adding each student of the shard to `summary`, if given
    (those kept, from their stored result): (students graded, students kept from an earlier run,
    what was not graded and why). With `part` = (k, n), this process takes every n-th student
    from the k-th, in the class's order (the processes of one machine: equal parts, each with
    its share of every kind of submission, where a shard's stable hash of names gives parts that
    differ by a few percent). `started`, a zygote already booting, is the sandbox's if one is
    needed."""
    from grader.engine import start_sandbox
    from grader.submission.intake import prepare
    course = engine.course

    def mine(items: list, name_of) -> list:
        """The items (in the same order in every process) that this shard and part take."""
        if shard is not None:
            items = [item for item in items if planning.in_shard(name_of(item), shard)]
        return items[part[0]::part[1]] if part is not None else items

    with tempfile.TemporaryDirectory(prefix="grader-class-") as scratch:
        scratch = Path(scratch)
        root, skipped = Path(submissions), []
        if lms_downloads:
            root = scratch / "downloads"
            root.mkdir()
            skipped += mine(sorted(stage_downloads(Path(submissions), root, exclude=Path(out)),
                                   key=lambda item: str(item[0])),  # each said once
                            lambda item: item[0].name)
        entries, left_out = submissions_of(root, exclude=Path(out))
        entries = dict(mine(list(entries.items()), lambda item: item[0]))
        skipped += mine(left_out, lambda item: item[0].name)
        intakes, digests, prints = {}, {}, {}
        for number, (name, path) in enumerate(entries.items()):  # folders made for zips only
            try:
                intakes[name] = prepare([path], course, scratch / "unpacked" / str(number),
                                        chosen)
                digests[name] = planning.submission_digest(intakes[name].paths)
                prints[name] = planning.fingerprint(graded_print, digests[name])
            except OSError as exc:  # one student's files (a folder no one may read): said
                intakes.pop(name, None)
                skipped.append((path, f"could not be read ({exc.strerror or exc}: "
                                      f"{Path(exc.filename or path).name}); make it readable"))
        todo, kept = [], []
        for name, intake in intakes.items():
            record = None if force else planning.stored(out, name)
            if record and record.get("fingerprint") == prints[name] \
                    and not record["result"].get("grader_error") \
                    and not any(p.get("grader_error") for p in record["result"]["problems"]):
                kept.append(name)
                if summary is not None:
                    summary.add(from_dict(record["result"]))
            else:
                todo.append(name)
        on_plan(len(todo))
        if not todo:
            return 0, len(kept), skipped
        private = [problems_dir, reference_dir, submissions, out, scratch]
        with start_sandbox(private=private, started=started) as sandbox:
            if sandbox.gaps and not allow_weak_sandbox:
                raise WeakSandbox(sandbox.gaps)
            gaps += sandbox.gaps
            engine.sandbox = sandbox
            with _spaced_collections():
                _grade_chunks(engine, todo, intakes, digests, out=out, fingerprint=fingerprint,
                              summary=summary, threads=threads, progress=progress)
    return len(todo), len(kept), skipped


@contextlib.contextmanager
def _spaced_collections():
    """The garbage collector while a class is graded: what exists now (the course, pytest, the
    students' plans) is frozen, never scanned again, and a pass comes every GC_THRESHOLD
    allocations instead of every 700 (a student leaves about 1,500 objects to the collector,
    most of them freed before it looks); its thresholds are put back afterwards."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _grade_chunks(engine, todo: list[str], intakes: dict, digests: dict, *, out: Path,
                  fingerprint: str, summary: ClassSummary | None, threads: int,
                  progress) -> None:
    """Grade the students of `todo` through pytest, one session per CHUNK of them, writing
    each one's files as soon as they are graded, with the fingerprint of what was graded and of
    their files (`digests`, taken before grading)."""
    from grader.pytest_plugin.session import GradingSession
    for first in range(0, len(todo), CHUNK):
        students = {name: intakes[name].paths for name in todo[first:first + CHUNK]}
        writer = ClassWriter(out, fingerprint, students, summary=summary,
                             digests={name: digests[name] for name in students})
        unwritten: list[str] = []
        written: set[str] = set()

        def write(result, seconds, writer=writer, unwritten=unwritten, written=written):
            result.notes = intakes[result.student].notes + result.notes
            try:
                writer(result, seconds)
            except Exception as exc:  # pytest would only count a failed item
                unwritten.append(f"{result.student} ({type(exc).__name__}: {exc})")
                raise
            written.add(result.student)
            progress(result.student)

        session = GradingSession(engine=engine, students=students, jobs=threads,
                                 writer=write, per_student=True)
        code = run_pytest(plugins=[session])
        if code == 2:  # pytest's code for an interrupted session
            raise Interrupted()
        if unwritten:
            raise GradingFailed("the grader could not write the files of "
                                + listed(unwritten, shown=3, separator="; "))
        if code not in (0, 1):
            raise GradingFailed(f"the grading session ended with pytest exit code {code}")
        missing = [name for name in students if name not in written]
        if missing:  # a failed item is a student's failure only once the student is written
            reason = next(iter(session.failures.values()), "no reason given")
            raise GradingFailed(f"the grading session ended without grading "
                                f"{listed(missing, shown=3)} ({reason})")
        del session
