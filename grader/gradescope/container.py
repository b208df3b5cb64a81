"""Gradescope: `build` packs autograder.zip (setup.sh, run_autograder, the course's files for
the chosen assignments, grader's wheel and its requirements pinned for the Python of the image);
`run` grades the submission inside the container with the same core as `grader grade` and
always writes a valid results.json (see grader.results.gradescope.in_container), even when the
submission is empty, zipped or unreadable or the grader itself fails. Each problem is two tests
there: its public cases, visible at once with their feedback and known-mistake messages, and its
hidden cases, shown as the course chose.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import stat
import tempfile
import time
import traceback
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from grader.batch.outputs import atomic_write
from grader.course.manifest import ManifestError, load_course
from grader.gradescope import (HIDDEN_VISIBILITY, IMAGE_PLATFORM, IMAGE_PYTHON, ROOT,
                               STDOUT_VISIBILITY, VISIBILITIES)
from grader.results.gradescope import grader_failed, in_container

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image. It installs grader (from its
# wheel) and its requirements, pinned for Python {python}, into a virtual environment beside
# /autograder/source, then makes the source (course, reference solutions, hidden seeds)
# unreadable to everyone but root.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$SOURCE")"
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1
then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
FOUND="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$FOUND" != "{python}" ]; then
    echo "This autograder was built for Python {python}, but python3 here is $FOUND." >&2
    echo "Build it again with: grader gradescope build --python $FOUND" >&2
    exit 1
fi
python3 -m venv --system-site-packages "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    "$SOURCE/{wheel}"
chmod -R go-rwx "$SOURCE"
"""

RUN = r"""#!/usr/bin/env bash
# Grades /autograder/submission and writes /autograder/results/results.json.
# GRADER_AUTOGRADER_ROOT runs it on another folder laid out the same way.
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
# -I: nothing from the folder it starts in, nor from PYTHON* variables, is imported
exec "$ROOT/venv/bin/python" -I -m grader.cli gradescope run --root "$ROOT"
"""


class BuildFailed(Exception):
    """The autograder cannot be built; the message says why."""


def check_python(python: str) -> None:
    """BuildFailed unless grader supports Python `python` ("3.10")."""
    from packaging.specifiers import SpecifierSet
    parts = python.split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise BuildFailed(f"--python must be a version such as 3.10, not {python!r}")
    needed = importlib.metadata.metadata("grader").get("Requires-Python") or ""
    if not SpecifierSet(needed).contains(f"{python}.0", prereleases=True):
        raise BuildFailed(f"grader needs Python {needed}: it cannot run on Python {python}. "
                          "Choose a Gradescope base image with a newer Python.")


def requirements(python: str = IMAGE_PYTHON, platform: str = IMAGE_PLATFORM) -> str:
    """grader's requirements and theirs, pinned to versions whose wheels install on CPython
    `python` on `platform` (resolved by pip); BuildFailed with pip's reason if there are none."""
    from grader.distribution import ResolutionError, grader_requirements, resolve_requirements
    try:
        pins = resolve_requirements(grader_requirements(), python=python, platform=platform)
    except ResolutionError as exc:
        raise BuildFailed(f"no versions of grader's requirements install on Python {python} "
                          f"({platform}): {exc}") from None
    return "\n".join(pins) + "\n"


def _add(archive: zipfile.ZipFile, name: str, data: str | bytes,
         executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _inside(path: Path, folder: Path, assignment) -> str:
    relative = os.path.relpath(Path(path).resolve(), Path(folder).resolve())
    if relative.startswith(".."):
        raise ManifestError(assignment.manifest, f"{path} lies outside {folder}: an autograder "
                            "holds only the course's own folders")
    return Path(relative).as_posix()


def course_files(course, assignments: Sequence[str] | None = None) -> dict[str, Path]:
    """The course's files an autograder for `assignments` (all for None) needs, by their name
    in the zip: each manifest with its generators, drivers, checks and support modules (under
    course/problems/), and each reference (under course/reference/). Nothing else."""
    from grader.course.manifest import choose
    files: dict[str, Path] = {}
    problems_dir, reference_dir = course.problems_dir, course.reference_dir
    for assignment in choose(course, assignments):
        for path in [assignment.manifest, assignment.generators, assignment.drivers,
                     assignment.checks, *assignment.support]:
            if path is not None:
                files[f"course/problems/{_inside(path, problems_dir, assignment)}"] = Path(path)
        reference = assignment.reference
        if reference is None:
            continue
        for path in sorted(reference.rglob("*")) if reference.is_dir() else [reference]:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[f"course/reference/{_inside(path, reference_dir, assignment)}"] = path
    return files


def build(*, problems_dir: Path, reference_dir: Path, out: Path,
          hidden_visibility: str = HIDDEN_VISIBILITY, stdout_visibility: str = STDOUT_VISIBILITY,
          python: str = IMAGE_PYTHON, platform: str = IMAGE_PLATFORM,
          assignments: Sequence[str] | None = None) -> Path:
    """Write autograder.zip for the course (or for its `assignments` only). The course is
    loaded first, and again from the files the zip holds, so that a zip that could not grade
    is never written. Raises ManifestError for the course, BuildFailed when grader or its
    requirements cannot be installed on Python `python`, ValueError for a visibility that is
    not one of Gradescope's (VISIBILITIES)."""
    from grader.distribution import BuildError, build_wheel
    for visibility in (hidden_visibility, stdout_visibility):
        if visibility not in VISIBILITIES:
            raise ValueError(f"unknown visibility {visibility!r}: one of "
                             f"{', '.join(VISIBILITIES)}")
    check_python(python)
    course = load_course(problems_dir, reference_dir)
    files = course_files(course, assignments)
    pins = requirements(python, platform)
    settings = {"hidden_visibility": hidden_visibility, "stdout_visibility": stdout_visibility,
                "python": python, "assignments": list(
                    assignments or course.assignments)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-build-") as scratch:
        scratch = Path(scratch)
        for name, path in files.items():  # the zip's course, loaded as the container will
            target = scratch / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
        try:
            load_course(scratch / "course" / "problems", scratch / "course" / "reference")
        except ManifestError as exc:
            raise BuildFailed(f"the course's files for the autograder do not load on their "
                              f"own: {exc}") from None
        try:
            wheel = build_wheel(scratch / "wheel")
        except BuildError as exc:
            raise BuildFailed(str(exc)) from None
        temporary = scratch / "autograder.zip"
        with zipfile.ZipFile(temporary, "w") as archive:
            _add(archive, "setup.sh", SETUP.replace("{python}", python)
                 .replace("{wheel}", wheel.name), executable=True)
            _add(archive, "run_autograder", RUN, executable=True)
            _add(archive, "requirements.txt", pins)
            _add(archive, "settings.json", json.dumps(settings, indent=2))
            _add(archive, wheel.name, wheel.read_bytes())
            for name, path in sorted(files.items()):
                _add(archive, name, path.read_bytes())
        part = out.with_name(f".{out.name}.part")
        try:
            part.write_bytes(temporary.read_bytes())
            os.replace(part, out)
        finally:
            part.unlink(missing_ok=True)
    return out


def _metadata(root: Path) -> dict:
    try:
        return json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _moment(text: str) -> datetime:
    """A time of the metadata; one without a time zone is taken as UTC (so that any two
    compare). ISO 8601's "Z", offsets without a colon (+0100) and fractions of any number of
    digits are read on Python 3.10 too, whose datetime takes none of them."""
    text = re.sub(r"[zZ]$", "+00:00", text)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    text = re.sub(r"\.(\d+)", lambda found: "." + found.group(1)[:6].ljust(6, "0"), text,
                  count=1)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _notes(metadata: dict) -> list[str]:
    notes = []
    due = (metadata.get("assignment") or {}).get("due_date")
    created = metadata.get("created_at")
    try:
        if due and created and _moment(created) > _moment(due):
            notes.append(f"Submitted after the due date ({due}).")
    except (ValueError, TypeError):  # not a time: nothing is said
        pass
    return notes


def student_names(metadata: dict) -> list[str]:
    """The names of the students of a submission (a group has several)."""
    return [u["name"] for u in metadata.get("users") or []
            if isinstance(u, dict) and isinstance(u.get("name"), str) and u["name"].strip()]


def run(*, root: Path = Path(ROOT)) -> dict:
    """Grade root/submission; write and return root/results/results.json."""
    from grader.engine import Engine, start_sandbox
    from grader.submission.intake import prepare
    start = time.monotonic()
    root = Path(root)
    results_path = root / "results" / "results.json"
    try:
        settings = json.loads((root / "source" / "settings.json").read_text(encoding="utf-8"))
        metadata = _metadata(root)
        names = student_names(metadata)
        name = ", ".join(names) or "submission"
        course_dir = root / "source" / "course"
        course = load_course(course_dir / "problems", course_dir / "reference")
        engine = Engine(course=course, hidden=True)
        with tempfile.TemporaryDirectory(prefix="grader-submission-") as scratch, \
                start_sandbox(private=[root / "source", root / "results"]) as sandbox:
            engine.sandbox = sandbox
            for gap in sandbox.gaps:  # the container's limits, for the instructors' stdout
                print(f"sandbox: {gap}", flush=True)
            submission = root / "submission"
            if not submission.is_dir() or submission.is_symlink():
                submission = Path(scratch) / "empty"
                submission.mkdir()
            intake = prepare([submission], course, Path(scratch))
            result = engine.grade(name, intake.paths)
            result.notes = intake.notes + result.notes
        data = in_container(result, execution_time=time.monotonic() - start, names=names,
                            late=_notes(metadata),
                            hidden_visibility=settings["hidden_visibility"],
                            stdout_visibility=settings["stdout_visibility"])
    except Exception:  # the grader failed: still give Gradescope a valid results.json
        data = grader_failed(traceback.format_exc(), time.monotonic() - start)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(results_path, json.dumps(data, indent=2))
    return data
