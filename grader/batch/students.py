"""The students of a class folder: each subfolder, each top-level zip named after its student,
or, for a flat folder of LMS downloads, the files grouped by student (staged into folders);
each named as its output folder will be (grader.batch.names), and what was left out with a
sentence why (a loose file, a hidden folder, a link, a zip too large); or why a folder holds no
student at all.
"""
from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from grader.results.summary import listed
from grader.submission import archive
from grader.submission.collect import regular_file


def students_in(root: Path, *, exclude: Path | None = None) -> list[Path]:
    """The student folders of a submissions folder (hidden folders, links and `exclude`, the
    output folder when it lies inside, are not students)."""
    exclude = exclude.resolve() if exclude is not None else None
    return sorted(p for p in Path(root).iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
                  and p.resolve() != exclude)


def stage_downloads(folder: Path, staged: Path, *, exclude: Path | None = None):
    """A flat folder of LMS downloads grouped by student (grader.submission.lms) and copied
    into `staged`/<student>/ under the files' original names; returns what was not grouped,
    as (path, reason)."""
    from grader.submission.lms import group_downloads
    downloads = group_downloads(folder)
    exclude = exclude.resolve() if exclude is not None else None
    skipped = [(path, reason) for path, reason in downloads.unparsed
               if path.resolve() != exclude]
    for student, files in downloads.items():
        for path, original in files:
            parts = PurePosixPath(original).parts
            if not parts or ".." in parts or PurePosixPath(original).is_absolute() \
                    or not regular_file(path, limit=archive.MAX_BYTES):
                skipped.append((path, "not a regular file of a sensible size and name"))
                continue
            target = staged.joinpath(student, *parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target, follow_symlinks=False)
            except OSError as exc:  # unreadable, or a name no file system takes: this file's
                skipped.append((path, f"could not be copied ({exc.strerror or exc})"))
    return skipped


# Hidden folders that tools leave in a class folder: never a student's, said nothing of.
TOOLS_FOLDERS = {".git", ".ipynb_checkpoints", ".vscode", ".idea", ".Trash", ".cache"}


def submissions_of(root: Path, *, exclude: Path | None = None):
    """Student name -> the submission's path (a folder, or a top-level zip named after the
    student), and what was left out, as (path, reason). A student's name is their folder's
    (or zip's) name made safe for an output folder (grader.batch.names): the same on every
    run, never a class file's name, never a path."""
    from grader.batch.names import safe_folder_name
    taken: set[str] = set()
    entries = {safe_folder_name(path.name, taken): path
               for path in students_in(root, exclude=exclude)}
    skipped = []
    exclude = exclude.resolve() if exclude is not None else None
    for path in sorted(Path(root).iterdir()):
        if path.resolve() == exclude:  # the output folder, inside: not a student's
            continue
        if path.name.startswith(".") and path.is_dir() and path.name not in TOOLS_FOLDERS:
            skipped.append((path, "a hidden folder (its name starts with a dot): rename it if "
                                  "it is a student's"))
            continue
        if path.is_symlink() and path.is_dir() and not path.name.startswith("."):
            skipped.append((path, "a link to a folder: links are not followed (the folder "
                                  "could lie anywhere); copy the student's folder in"))
            continue
        if path.suffix.lower() != ".zip" or path.is_dir():
            if not path.name.startswith(".") and not path.is_dir():
                skipped.append((path, _loose_file(path.name)))
            continue
        if not regular_file(path, limit=archive.MAX_BYTES):
            skipped.append((path, f"not a regular file of at most {archive.MAX_BYTES >> 20} MB"))
        elif path.stem.startswith("."):
            skipped.append((path, "a hidden zip (its name starts with a dot): rename it if it "
                                  "is a student's"))
        elif path.stem in entries or not path.stem:
            skipped.append((path, f"the folder {path.stem} is that student's submission"
                            if path.stem in entries else "a zip without a student's name"))
        else:
            entries[safe_folder_name(path.stem, taken)] = path
    return dict(sorted(entries.items())), skipped


def _loose_file(name: str) -> str:
    """Why a file beside the students' folders is not graded."""
    from grader.submission.lms import downloaded
    if downloaded(name):
        return ("a file named as Canvas or Moodle names a downloaded submission: grade a "
                "folder of such downloads with --lms-downloads")
    return "a file, not a student's folder or zip: each student's files go in a folder of " \
           "their own"


def class_is_empty(submissions: Path, *, out: Path, lms_downloads: bool) -> str | None:
    """Why `submissions` holds no student, in a sentence naming what it held instead (None
    when it holds one): no subfolder or zip, or, with `lms_downloads`, no file named as
    Canvas or Moodle name downloads."""
    if lms_downloads:
        from grader.submission.lms import group_downloads
        downloads = group_downloads(submissions)
        found, left_out = bool(downloads), downloads.unparsed
        wanted = "download named as Canvas or Moodle name them"
    else:
        entries, left_out = submissions_of(submissions, exclude=out)
        found, wanted = bool(entries), "subdirectory or zip"
    if found:
        return None
    left_out = [f"{path.name}: {reason}" for path, reason in left_out
                if path.resolve() != out.resolve()]
    return f"{submissions} has no student {wanted}" + \
        (f" (left out: {listed(left_out, shown=3, separator='; ')})" if left_out else "")
