"""The files of a graded class. Each student gets `OUT/<student>/` with results.json,
report.csv, report.html and, written last, grade.json (the full result and the fingerprint it
was computed from). The class files, gradebook.csv, common-wrong-answers.csv and index.html,
are written from a summary of every student of the folder, replaced atomically: the students
graded in this run are summarised as they are graded, the others read back from their
grade.json. The students' own copies of their reports, to hand back, are written on demand
from the stored grades.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.plan import (GRADE_FILE, fingerprint, graded_fingerprint, stored,
                                submission_digest)
from grader.report.classpage import ClassSummary
from grader.report.render import render_class, render_student
from grader.results.export import neutralise
from grader.results.gradescope import to_gradescope
from grader.results.model import SubmissionResult, has_grader_error
from grader.results.rows import csv_rows
from grader.results.stored import from_dict, to_dict

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once, while the program is still single-threaded
GRADEBOOK_FILE, COMMON_FILE, INDEX_FILE = "gradebook.csv", "common-wrong-answers.csv", "index.html"
CLASS_FILES = (GRADEBOOK_FILE, COMMON_FILE, INDEX_FILE)
CSV_COLUMNS = ["problem", "case", "visibility", "passed", "points", "max_points", "mistake",
               "feedback"]


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a part.
    The temporary file has an unpredictable name in the same folder; an error names `path`,
    the file the user knows, not the temporary one. What is not valid text (a lone surrogate: a
    file name of raw bytes quoted in feedback) is written as "?"."""
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # as any file written: mkstemp's is private
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from None
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """`exc` as if it had happened to `path`."""
    return OSError(exc.errno, exc.strerror, str(path)) if exc.errno is not None else exc


def _csv(rows: list[dict]) -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([neutralise(row[key]) if type(row[key]) is str else row[key]
                      for key in CSV_COLUMNS] for row in rows)
    return stream.getvalue()


def write_student(out: Path, result: SubmissionResult, *, fingerprint: str,
                  execution_time: float | None) -> None:
    """The student's files. grade.json, the mark that the others are complete and current,
    is removed first and written last (atomically): a run killed in between leaves a student
    without it, whom the next run grades again."""
    folder = out / result.student
    folder.mkdir(parents=True, exist_ok=True)
    (folder / GRADE_FILE).unlink(missing_ok=True)
    # feedback may quote a file name that is not valid text: written with "?", as in atomic_write
    (folder / "results.json").write_text(  # compact: indenting takes the slow encoder
        json.dumps(to_gradescope(result, execution_time=execution_time)), encoding="utf-8")
    (folder / "report.csv").write_text(_csv(csv_rows(result)), encoding="utf-8",
                                       errors="replace")
    (folder / "report.html").write_text(render_student(result), encoding="utf-8",
                                        errors="replace")
    atomic_write(folder / GRADE_FILE, json.dumps({"fingerprint": fingerprint,
                                                  "result": to_dict(result)}))


def _stored_records(out: Path, *, besides=()):
    """(folder name, its stored grade.json or None) of every student folder of `out`, by
    name; none of the students in `besides`."""
    if not Path(out).is_dir():
        return
    for folder in sorted(p for p in Path(out).iterdir() if p.is_dir() and not p.is_symlink()):
        if folder.name not in besides:
            yield folder.name, stored(out, folder.name)


def stored_results(out: Path, *, besides=()):
    """Every student's stored result, one at a time, by student name; none of the students in
    `besides`."""
    for _, record in _stored_records(out, besides=besides):
        if record is not None:
            yield from_dict(record["result"])


@dataclass
class StudentCopies:
    """What `write_student_copies` did: the students given a page, and those without one."""
    written: list[str] = field(default_factory=list)
    ungraded: list[str] = field(default_factory=list)  # no grade.json that can be read
    others: list[str] = field(default_factory=list)  # pages in the folder not written now


def write_student_copies(out: Path, *, to: Path) -> StudentCopies:
    """Write each student's copy of their report (see `SubmissionResult.student_copy`) as
    `to/<student>.html`, named after the student's folder in `out`, from the grade stored
    there (`to` is made when there is one). Each page is replaced atomically. A folder of `out`
    without a grade that can be read (not graded yet, a regrade interrupted, a damaged file)
    gets no page, and its page from an earlier run is removed: an outdated copy is never left
    to be handed back. Other pages found in `to` (of students no longer in `out`) are named in
    `others`, left as they are."""
    done = StudentCopies()
    for name, record in _stored_records(out):
        try:
            text = render_student(from_dict(record["result"]), student_copy=True) \
                if isinstance(record, dict) else None
        except (KeyError, TypeError, ValueError, AttributeError):  # a grade.json edited by hand
            text = None
        page = to / f"{name}.html"
        if text is None:
            done.ungraded.append(name)
            if page.is_file() and not page.is_symlink():
                page.unlink()
            continue
        to.mkdir(parents=True, exist_ok=True)
        atomic_write(page, text)
        done.written.append(name)
    if to.is_dir():
        written = set(done.written)
        done.others = sorted(p.name for p in to.glob("*.html") if p.stem not in written)
    return done


def write_class(out: Path, *, tolerance=None, summary: ClassSummary | None = None
                ) -> ClassSummary:
    """Write gradebook.csv, common-wrong-answers.csv and index.html for every student of `out`:
    those of `summary` (if given: the students graded in this run), and the others from their
    grade.json (`tolerance`, a problem id's tolerance, groups near-identical wrong answers,
    when there is no `summary`); a grade.json naming a student listed already (in a copy of a
    student's folder) is left out. A text cell a spreadsheet would run as a formula (a folder
    named `=HYPERLINK(...)`) is neutralised."""
    import pandas as pd
    from grader.results.common import CSV_COLUMNS as COMMON_COLUMNS, to_csv_rows
    if summary is None:
        summary = ClassSummary(tolerance)
    for result in stored_results(out, besides=summary):
        if result.student not in summary:  # else a copied folder: the student is listed once
            summary.add(result)
    rows = [{"student": neutralise(s["name"]), **s["points"],  # left empty: not a zero
             "total": None if s["grader_error"] else s["score"],
             "max": s["max_score"], "grader_error": neutralise(s["grader_error"] or "")}
            for s in summary.students]
    atomic_write(out / GRADEBOOK_FILE, pd.DataFrame(rows).to_csv(index=False))
    common = [{k: neutralise(v) if isinstance(v, str) else v for k, v in row.items()}
              for row in to_csv_rows(summary.common_groups())]
    atomic_write(out / COMMON_FILE, pd.DataFrame(common, columns=list(COMMON_COLUMNS))
                 .to_csv(index=False))
    atomic_write(out / INDEX_FILE, render_class(summary))
    return summary


class ClassWriter:
    """Writes each student's files as soon as the student is graded (call it with the result
    and the seconds it took) and adds the student to `summary` (if given); `finish` writes the
    class files from it."""

    def __init__(self, out: Path, course: str, students: dict[str, list[Path]],
                 *, summary: ClassSummary | None = None, digests: dict[str, str] | None = None,
                 hidden: bool = True):
        """`course` is the course's fingerprint (see grader.batch.plan.course_fingerprint);
        each student's grade is stored with the fingerprint of what was graded (the result's
        problems, with their hidden cases if `hidden`) and of the student's files, digested
        now (`digests`, if the caller has them: see grader.batch.plan.submission_digest), before
        the students are graded: a file changed meanwhile makes the next run grade them again,
        rather than keep a grade of what they no longer hold."""
        self.out, self.course, self.students, self.hidden = Path(out), course, students, hidden
        self.digests = digests if digests is not None else {
            name: submission_digest(paths) for name, paths in students.items()}
        self.summary = summary
        self.out.mkdir(parents=True, exist_ok=True)
        self.grader_errors = 0

    def __call__(self, result: SubmissionResult, seconds: float | None) -> None:
        self.grader_errors += has_grader_error(result)
        graded = graded_fingerprint(self.course, (p.problem_id for p in result.problems),
                                    hidden=self.hidden)
        write_student(self.out, result, execution_time=seconds,
                      fingerprint=fingerprint(graded, self.digests[result.student]))
        if self.summary is not None:
            self.summary.add(result)

    def finish(self) -> ClassSummary | None:
        """The class files, when there is a summary (see `write_class`)."""
        if self.summary is None:
            return None
        return write_class(self.out, summary=self.summary)
