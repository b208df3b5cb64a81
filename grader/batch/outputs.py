"""Grading a class into an output directory, resumably. Each student gets `OUT/<student>/`
with results.json, report.csv, report.html and, written last, grade.json (the full result and
the fingerprint of the submission and course it was computed from). A rerun skips students
whose grade.json matches their current fingerprint. The class files, gradebook.csv and
index.html, are rebuilt from every grade.json and replaced atomically.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

import pytest

from grader import __version__
from grader.engine import submission_sources
from grader.report.render import ClassSummary, render_class, render_student
from grader.results.model import (SubmissionResult, csv_rows, from_dict, to_dict, to_gradescope)

GRADE_FILE = "grade.json"
CSV_COLUMNS = ["problem", "case", "visibility", "passed", "points", "max_points", "mistake",
               "feedback"]


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a part.
    (One writer per output directory: the temporary name is fixed.)"""
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _digest(paths, digest) -> None:
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")


def course_fingerprint(problems_dir: Path, reference_dir: Path, hidden_seed=None) -> str:
    digest = hashlib.sha256(f"grader {__version__} seed {hidden_seed}".encode())
    for folder in (Path(problems_dir), Path(reference_dir)):
        _digest(sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in
                       p.parts), digest)
    return digest.hexdigest()


def fingerprint(course: str, submission: list[Path]) -> str:
    digest = hashlib.sha256(course.encode())
    _digest(submission_sources(submission), digest)
    return digest.hexdigest()


def students_in(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))


def _stored(out: Path, student: str) -> dict | None:
    try:
        return json.loads((out / student / GRADE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def plan(root: Path, out: Path, course: str, *, force: bool = False) -> tuple[list[Path], list[str]]:
    """(students to grade, students whose stored results are still valid)."""
    todo, done = [], []
    for path in students_in(root):
        stored = None if force else _stored(out, path.name)
        if stored and stored.get("fingerprint") == fingerprint(course, [path]) \
                and not stored["result"].get("grader_error"):
            done.append(path.name)
        else:
            todo.append(path)
    return todo, done


def _csv(rows: list[dict]) -> str:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return stream.getvalue()


def write_student(out: Path, result: SubmissionResult, *, fingerprint: str,
                  execution_time: float | None) -> None:
    """The student's files. grade.json, the mark that the others are complete and current,
    is removed first and written last (atomically): a run killed in between leaves a student
    without it, whom the next run grades again."""
    folder = out / result.student
    folder.mkdir(parents=True, exist_ok=True)
    (folder / GRADE_FILE).unlink(missing_ok=True)
    (folder / "results.json").write_text(  # compact: indenting takes the slow encoder
        json.dumps(to_gradescope(result, execution_time=execution_time)), encoding="utf-8")
    (folder / "report.csv").write_text(_csv(csv_rows(result)), encoding="utf-8")
    (folder / "report.html").write_text(render_student(result), encoding="utf-8")
    atomic_write(folder / GRADE_FILE, json.dumps({"fingerprint": fingerprint,
                                                  "result": to_dict(result)}))


def stored_results(out: Path):
    """Every student's stored result, one at a time, by student name."""
    if not Path(out).is_dir():
        return
    for folder in sorted(p for p in Path(out).iterdir() if p.is_dir()):
        stored = _stored(out, folder.name)
        if stored is not None:
            yield from_dict(stored["result"])


def write_class(out: Path) -> ClassSummary:
    """Rebuild gradebook.csv and index.html from every student's grade.json."""
    import pandas as pd
    summary = ClassSummary()
    for result in stored_results(out):
        summary.add(result)
    rows = [{"student": s["name"], **s["points"], "total": s["score"], "max": s["max_score"],
             "grader_error": s["grader_error"] or ""} for s in summary.students]
    atomic_write(out / "gradebook.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write(out / "index.html", render_class(summary))
    return summary


class BatchWriter:
    """Plugin object: writes each student's files as soon as the student is graded, and the
    class files when the session ends (also after Ctrl-C)."""

    def __init__(self, out: Path, course: str, students: dict[str, list[Path]], times: dict,
                 *, class_files: bool = True):
        self.out, self.course, self.students, self.times = Path(out), course, students, times
        self.class_files = class_files
        self.written: list[str] = []

    @pytest.hookimpl(trylast=True)
    def pytest_grader_submission_graded(self, result, config):
        write_student(self.out, result,
                      fingerprint=fingerprint(self.course, self.students[result.student]),
                      execution_time=self.times.get(result.student))

    def pytest_sessionfinish(self, session):
        if not self.class_files:
            return
        write_class(self.out)
        self.written += [str(self.out / "gradebook.csv"), str(self.out / "index.html")]

    def pytest_terminal_summary(self, terminalreporter):
        for path in self.written:
            terminalreporter.write_sep("-", f"generated {path}")
