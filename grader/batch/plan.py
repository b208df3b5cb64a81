"""Which students of a class need grading (grader.batch.students finds them): a student whose
stored grade.json carries the fingerprint of their current submission, of the current course
and of what this run grades of it (the same problems, with or without their hidden cases) is
done and skipped, so a rerun continues where a run stopped; and which shard a student is in.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from grader import __version__
from grader.submission.collect import read_bounded, regular_file, source_files

GRADE_FILE = "grade.json"
COURSE_FILE_LIMIT = 16 << 20


def _digest_files(files, digest) -> None:
    for name, data in files:
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0" + data + b"\0")


def course_fingerprint(problems_dir: Path, reference_dir: Path, hidden_seed=None) -> str:
    """A digest of the course's files, the grader's version and the hidden seed."""
    digest = hashlib.sha256(f"grader {__version__} seed {hidden_seed}".encode())
    for folder in (Path(problems_dir), Path(reference_dir)):
        paths = sorted(p for p in folder.rglob("*") if "__pycache__" not in p.parts
                       and regular_file(p, limit=COURSE_FILE_LIMIT))
        _digest_files(((str(p.relative_to(folder)), read_bounded(p, limit=COURSE_FILE_LIMIT)
                        or b"") for p in paths), digest)
    return digest.hexdigest()


def graded_fingerprint(course: str, problems: Iterable[str], *, hidden: bool) -> str:
    """A digest of what a run grades: the course (its fingerprint), the problems (by id: a
    student's grade holds exactly these) and whether with their hidden cases."""
    return hashlib.sha256("\0".join([course, f"hidden={hidden}", *sorted(problems)])
                          .encode()).hexdigest()


def submission_digest(submission: list[Path]) -> str:
    """A digest of one student's files."""
    digest = hashlib.sha256()
    _digest_files(source_files(submission), digest)
    return digest.hexdigest()


def fingerprint(graded: str, submission: str) -> str:
    """What a student's stored grade was computed from: what was graded (see
    `graded_fingerprint`) and the student's files (see `submission_digest`). A rerun keeps a
    grade only if it would compute it from the same."""
    return hashlib.sha256(f"{graded} {submission}".encode()).hexdigest()


def in_shard(student: str, shard: tuple[int, int]) -> bool:
    """Whether a student belongs to shard k of n (k from 0): a stable hash of the folder name,
    so every machine agrees whatever else its copy of the class holds."""
    index, count = shard
    digest = hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count == index


def stored(out: Path, folder: str) -> dict | None:
    """A student's stored grade.json, or None if it is missing or unreadable."""
    data = read_bounded(out / folder / GRADE_FILE, limit=64 << 20)
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return None
