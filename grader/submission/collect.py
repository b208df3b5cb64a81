"""Collecting a student's files: which paths of a submission are the student's Python files,
under the policy that protects the grader: only regular files (never a symlink, which could
point into the course, nor a FIFO or device, which could hang or flood a read), of bounded size.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator, Sequence

MAX_FILE = 1 << 20  # bytes of one student file


def regular_file(path: Path, *, limit: int = MAX_FILE) -> bool:
    """Whether `path` is a regular file (not behind a link) of at most `limit` bytes."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size <= limit


def submission_sources(paths: Sequence[Path | str]) -> list[Path]:
    """The student's Python files: a folder's top-level *.py files, or the files given; links,
    special files and files over the size limit are left out."""
    sources = []
    for path in map(Path, paths):
        if path.is_dir() and not path.is_symlink():
            sources += sorted(p for p in path.glob("*.py") if regular_file(p))
        elif regular_file(path):
            sources.append(path)
    return sources


def read_bounded(path: Path, *, limit: int = MAX_FILE) -> bytes | None:
    """The bytes of a regular file of at most `limit` bytes, read without following a link
    (None for anything else)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def files_for_fingerprint(paths: Sequence[Path]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each source file of a submission, read safely."""
    for path in submission_sources(paths):
        data = read_bounded(path)
        if data is not None:
            yield path.name, data
