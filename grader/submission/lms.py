"""Submissions as learning management systems and students hand them over: a flat folder of
downloads grouped by student (Canvas's `lastfirst_12345_67890_rnn.py`, with `_LATE_` and the
`-1` Canvas appends to a re-uploaded name; Moodle's `Full Name_123456_assignsubmission_file_`
folders, or the same prefix on each file), the single nested folder a zip unpacks into, and the
sentences that name a file found under almost the expected name (`RNN.py`, `rnn.ipynb`,
`rnn.py.txt`) or say that a submission is empty. Nothing is guessed: a name that cannot be
parsed is reported.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Sequence

from grader.results.summary import listed

JUNK_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
JUNK_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
MAX_DEPTH = 4
MAX_LISTED = 2_000  # files of one student's folder looked at, the first in name order
MAX_NEAR_MISSES = 3  # sentences about the files named like one expected file (the rest counted)

CANVAS = re.compile(r"(?P<name>[^\W_]+)(?P<late>_LATE)?_(?P<user>\d+)_(?P<attachment>\d+)_"
                    r"(?P<file>.+)")
CANVAS_COPY = re.compile(r"(?P<stem>.+)-(?P<copy>\d{1,3})(?P<ext>\.[^.]+)?")
MOODLE_FOLDER = re.compile(r"(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_")
MOODLE_FILE = re.compile(r"(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)")
COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d{1,3})$")


class Downloads(dict):
    """Student -> [(path of a downloaded file, the file's original name)]. Also `unparsed`,
    [(path, reason)] for what was not grouped, and `late`, the students Canvas marked late."""

    def __init__(self):
        super().__init__()
        self.unparsed: list[tuple[Path, str]] = []
        self.late: set[str] = set()


def _junk(path: Path) -> bool:
    return path.name in JUNK_FILES or path.name in JUNK_DIRS or path.name.startswith("._")


def _files(folder: Path, depth: int = MAX_DEPTH, limit: int = MAX_LISTED) -> list[Path]:
    """The files under `folder`, at most `depth` folders down, junk and links left out: the
    first `limit` of them, in name order (a submission of many thousands of files costs no more
    to look at than one of a few)."""
    found: list[Path] = []
    for path in sorted(folder.iterdir()):
        if len(found) >= limit:
            break
        if _junk(path) or path.is_symlink():
            continue
        if path.is_dir():
            if depth > 0:
                found += _files(path, depth - 1, limit - len(found))
        elif path.is_file():
            found.append(path)
    return found


def _restore_canvas_name(name: str) -> tuple[str, int]:
    """Canvas's name for a re-uploaded file ("rnn-1.py") back to the original, and the copy
    number (0 for none)."""
    copy = CANVAS_COPY.fullmatch(name)
    if copy:
        return copy["stem"] + (copy["ext"] or ""), int(copy["copy"])
    return name, 0


def _student_names(people: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """(LMS, name, user id) -> the student's folder name: the name, with "_<id>" added for
    namesakes (as `grader export` reads it). Whoever would still share a folder name with
    another gets "<name>_<lms>_<id>", which is no one else's (an id is digits): first those
    whose own name is a namesake's folder name, then anyone. No student takes over another's
    files."""
    shared = Counter(name for _, name, _ in people)
    names = {p: p[1] if shared[p[1]] == 1 else f"{p[1]}_{p[2]}" for p in people}

    def unique(person):
        return f"{person[1]}_{person[0]}_{person[2]}"

    for spare_namesakes in (True, False):
        while True:  # each round gives at least one more student a unique name
            counts = Counter(names.values())
            clashing = [p for p, name in names.items() if counts[name] > 1
                        and name != unique(p) and not (spare_namesakes and shared[p[1]] > 1)]
            if not clashing:
                break
            for person in clashing:
                names[person] = unique(person)
    return names


def downloaded(name: str) -> bool:
    """Whether a file's name is one Canvas or Moodle gives to a downloaded submission (or a
    Moodle submission's folder)."""
    return any(pattern.fullmatch(name) for pattern in (CANVAS, MOODLE_FILE, MOODLE_FOLDER))


def group_downloads(folder: Path) -> Downloads:
    """Group a flat folder of Canvas or Moodle downloads by student, each file with its
    original name (a path relative to the student's folder for Moodle folders). A student is
    named as the LMS names them ("doejane", "Jane Doe"), with "_<id>" added when two students
    share that name (see `_student_names`). Files whose names neither LMS gives, or whose
    student's name cannot name a folder (".."), are in `unparsed`, not guessed."""
    folder = Path(folder)
    entries = []  # (lms, name, user id, path, original name, attachment id, copy number)
    result = Downloads()
    late = set()
    for path in sorted(folder.iterdir()):
        if _junk(path):
            continue
        if path.is_symlink():
            result.unparsed.append((path, "a link, which is never followed"))
        elif path.is_dir():
            moodle = MOODLE_FOLDER.fullmatch(path.name)
            if not moodle:
                result.unparsed.append((path, "a folder whose name is not a Moodle "
                                              "submission folder's"))
            elif moodle["plugin"] != "file":
                result.unparsed.append((path, f"a Moodle {moodle['plugin']} submission, not "
                                              "files"))
            else:
                for file in _files(path):
                    entries.append(("moodle", moodle["name"], moodle["id"], file,
                                    file.relative_to(path).as_posix(), 0, 0))
        elif (moodle := MOODLE_FILE.fullmatch(path.name)) \
                and MOODLE_FILE.search(moodle["file"]):  # another student's name, then a file?
            result.unparsed.append((path, "a Moodle download whose name reads as more than one "
                                          "student's (a name or a file name holding "
                                          "'_assignsubmission_file_'); rename it by hand"))
        elif moodle:
            entries.append(("moodle", moodle["name"], moodle["id"], path, moodle["file"], 0, 0))
        elif (canvas := CANVAS.fullmatch(path.name)):
            original, copy = _restore_canvas_name(canvas["file"])
            entries.append(("canvas", canvas["name"], canvas["user"], path, original,
                            int(canvas["attachment"]), copy))
            if canvas["late"]:
                late.add((canvas["name"], canvas["user"]))
        else:
            result.unparsed.append((path, "its name is not one Canvas or Moodle gives to a "
                                          "downloaded submission"))
    kept = []
    for entry in entries:
        if entry[1].startswith("."):  # "..", or a folder that would be hidden
            result.unparsed.append((entry[3], f"the student's name {entry[1]!r} cannot name a "
                                              "folder"))
        else:
            kept.append(entry)
    entries = kept
    students = _student_names({(lms, name, user) for lms, name, user, *_ in entries})
    chosen: dict[tuple[str, str], tuple[Path, int]] = {}
    for lms, name, user, path, original, attachment, _ in entries:
        student = students[lms, name, user]
        if (name, user) in late:
            result.late.add(student)
        previous = chosen.get((student, original))
        if previous is None or attachment > previous[1]:
            if previous is not None:
                result.unparsed.append((previous[0], f"an older upload of {original} by "
                                                     f"{student}"))
            chosen[(student, original)] = (path, attachment)
        else:
            result.unparsed.append((path, f"an older upload of {original} by {student}"))
    for (student, original), (path, _) in sorted(chosen.items()):
        result.setdefault(student, []).append((path, original))
    return result


def at_top(folder: Path, expected_files: list[str], packages: Sequence[str]) -> bool:
    """Whether an expected file is at the top of `folder`, or in one of its package folders."""
    return any((folder / name).is_file() for name in expected_files) or \
        any((folder / package / name).is_file() for package in packages
            for name in expected_files)


def find_nested(folder: Path, expected_files: list[str], packages: Sequence[str] = (),
                alternatives: dict[str, Sequence[str]] | None = None) -> Path | None:
    """The folder inside `folder` that holds the expected files when they are not at its top
    (as when a zip unpacks into `hw/`): the one holding the most of them, if one does. A folder
    named as one of `packages` is the package itself, so its files count for the folder holding
    it; `alternatives` maps an expected file to other names accepted in its place (a notebook).
    None when an expected file is at the top (or in a package folder there), when none is
    found, or when two folders tie."""
    folder = Path(folder)
    names = _accepted(expected_files, alternatives)
    if at_top(folder, names, packages):
        return None
    counts: dict[Path, int] = {}
    for path in _files(folder):
        if path.name in names:
            parent = path.parent
            if parent.name in packages and parent != folder:
                parent = parent.parent
            counts[parent] = counts.get(parent, 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    winners = [path for path, count in counts.items() if count == best]
    return winners[0] if len(winners) == 1 and winners[0] != folder else None


def _accepted(expected_files: list[str], alternatives: dict | None) -> list[str]:
    names = list(expected_files)
    for expected in expected_files:
        names += [a for a in (alternatives or {}).get(expected, ()) if a not in names]
    return names


def _stem(name: str) -> str:
    return COPY_SUFFIX.sub("", name.split(".", 1)[0]).casefold()


def _near_miss(found: str, shown: str, expected: str) -> str:
    if found.casefold() == expected.casefold():
        return (f"Found {shown} but expected {expected}: file names must match exactly, upper "
                f"and lower case included. Rename it to {expected}.")
    if found.endswith(".ipynb") and not expected.endswith(".ipynb"):
        return (f"Found {shown}, a Jupyter notebook, but expected {expected}. Export the "
                f"notebook as a Python (.py) file and submit it as {expected}.")
    if found.casefold().startswith(expected.casefold() + "."):
        extra = found[len(expected):]
        return (f"Found {shown} but expected {expected}: the name has an extra extension "
                f"({extra}), often added by an editor and hidden by the file browser. Rename "
                f"it to {expected}.")
    return f"Found {shown} but expected {expected}. Rename it to {expected}."


def near_misses(folder: Path, expected_files: list[str], packages: Sequence[str] = (),
                alternatives: dict[str, Sequence[str]] | None = None, *,
                shown: str | None = None) -> list[str]:
    """Sentences for the student about the submission in `folder`: that it is empty, or holds
    none of the expected files; that its files sit in a nested folder (see find_nested), from
    which they are graded; and, for each expected file that is missing (at the top, or in a
    package folder), with none of its `alternatives` there either, each file whose name
    differs from it only in case, extension or a copy number ("rnn (1).py"); and that a file
    and its alternative (rnn.py and rnn.ipynb) are both there, the first graded. Empty when
    nothing is amiss. `shown` names the expected files as the student should lay them out
    (cs231n/optim.py), `expected_files` by default."""
    folder = Path(folder)
    files = _files(folder)
    shown = shown or ", ".join(expected_files)
    if not files:
        return [f"Your submission is empty: no files were found. Expected: {shown}."]
    messages = []
    nested = find_nested(folder, expected_files, packages, alternatives)
    base = nested or folder
    if nested is not None:
        where = nested.relative_to(folder).as_posix()
        messages.append(f"Your files were found in the folder {where}/, not at the top of your "
                        "submission; they are graded from there.")
    found_any = False
    for expected in expected_files:
        if at_top(base, _accepted([expected], alternatives), packages):
            found_any = True
            both = [name for name in _accepted([expected], alternatives)
                    if (base / name).is_file()]
            if len(both) > 1:
                messages.append(f"Both {both[0]} and {both[1]} are in your submission: "
                                f"{both[0]} was graded, not {both[1]}. Hand in only the file "
                                "that holds your final work.")
            continue
        misses = [path.relative_to(folder).as_posix() for path in files
                  if path.name != expected and _stem(path.name) == _stem(expected)]
        messages += [_near_miss(PurePosixPath(miss).name, miss, expected)
                     for miss in misses[:MAX_NEAR_MISSES]]
        if len(misses) > MAX_NEAR_MISSES:
            rest = misses[MAX_NEAR_MISSES:]
            more = "at least " if len(files) >= MAX_LISTED else ""  # not all were looked at
            messages.append(f"Found {more}{len(rest)} more file{'s' if len(rest) > 1 else ''} "
                            f"named like {expected}: {listed(rest, shown=3)}.")
    if not found_any and not messages:
        names = sorted(path.relative_to(folder).as_posix() for path in files)
        messages.append(f"None of the files this homework needs is in your submission "
                        f"(expected: {shown}); found: {listed(names)}.")
    return messages


def given_near_misses(names: Sequence[str], expected_files: list[str],
                      alternatives: dict[str, Sequence[str]] | None = None) -> list[str]:
    """For files given one by one (their `names`): a sentence for each whose name differs from
    an expected file's only in case, extension or a copy number, when no file given has the
    expected name (or one of its `alternatives`)."""
    messages = []
    for expected in expected_files:
        if any(name in _accepted([expected], alternatives) for name in names):
            continue
        messages += [_near_miss(name, name, expected) for name in names
                     if name != expected and similar(name, expected)][:MAX_NEAR_MISSES]
    return messages


def similar(name: str, expected: str) -> bool:
    """Whether a file name is the expected one, or differs from it only in case, extension or
    a copy number (what near_misses reports)."""
    return name == expected or _stem(name) == _stem(expected)
