"""Gradescope: `build` packs autograder.zip (setup.sh, run_autograder, the course, the grader's
source and pinned requirements); `run` grades the submission inside the container with the same
core as `grader grade` and always writes a valid results.json, even when the submission is empty
or unreadable or the grader itself fails.
"""
from __future__ import annotations

import importlib.metadata
import json
import re
import stat
import tempfile
import time
import traceback
import zipfile
from datetime import datetime
from pathlib import Path

from grader.batch.outputs import atomic_write
from grader.course.manifest import load_course
from grader.results.gradescope import to_gradescope
from grader.results.model import has_grader_error

DEFAULT_ROOT = Path("/autograder")
GRADER_FAILED = ("The autograder could not grade (all of) this submission. This is not a "
                 "problem with your code; your instructors have been told.")

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image. It installs grader and the
# pinned requirements into a virtual environment beside /autograder/source, then makes the
# source (course, reference solutions, hidden seeds) unreadable to everyone but root.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$SOURCE")"
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1
then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
python3 -m venv --system-site-packages "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    "$SOURCE/grader_src"
chmod -R go-rwx "$SOURCE"
"""

RUN = r"""#!/usr/bin/env bash
# Grades /autograder/submission and writes /autograder/results/results.json.
# GRADER_AUTOGRADER_ROOT runs it on another folder laid out the same way.
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
exec "$ROOT/venv/bin/python" -m grader.cli gradescope run --root "$ROOT"
"""


def _project_root() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise FileNotFoundError("building the autograder needs grader installed from its source "
                                "tree (pip install -e .)")
    return root


def requirements() -> str:
    """grader's requirements pinned to the versions installed here."""
    lines = []
    for requirement in importlib.metadata.requires("grader") or []:
        if "extra ==" in requirement:
            continue
        name, _, marker = requirement.partition(";")
        name = re.split(r"[<>=!~ \[]", name.strip(), maxsplit=1)[0]
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # e.g. tomli on Python 3.11+
        lines.append(f"{name}=={version}" + (f"; {marker.strip()}" if marker else ""))
    return "\n".join(lines) + "\n"


def _add(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc"):
            _add(archive, f"{prefix}/{path.relative_to(folder).as_posix()}",
                 path.read_text(encoding="utf-8"))


def build(*, problems_dir: Path, reference_dir: Path, out: Path,
          hidden_visibility: str = "after_due_date", stdout_visibility: str = "hidden") -> Path:
    """Write autograder.zip for the course; the course is validated first."""
    load_course(problems_dir, reference_dir)
    root = _project_root()
    settings = {"hidden_visibility": hidden_visibility, "stdout_visibility": stdout_visibility}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        _add(archive, "setup.sh", SETUP, executable=True)
        _add(archive, "run_autograder", RUN, executable=True)
        _add(archive, "requirements.txt", requirements())
        _add(archive, "settings.json", json.dumps(settings, indent=2))
        _add(archive, "grader_src/pyproject.toml", (root / "pyproject.toml").read_text())
        _add(archive, "grader_src/README.md", (root / "README.md").read_text())
        _add_tree(archive, root / "grader", "grader_src/grader")
        _add_tree(archive, Path(problems_dir), "course/problems")
        _add_tree(archive, Path(reference_dir), "course/reference")
    return out


def _metadata(root: Path) -> dict:
    try:
        return json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _notes(metadata: dict) -> list[str]:
    notes = []
    due = (metadata.get("assignment") or {}).get("due_date")
    created = metadata.get("created_at")
    try:
        if due and created and datetime.fromisoformat(created) > datetime.fromisoformat(due):
            notes.append(f"Submitted after the due date ({due}).")
    except ValueError:
        pass
    return notes


def _failure(message: str, details: str, execution_time: float) -> dict:
    return {"score": 0.0, "execution_time": round(execution_time, 3),
            "output": message,
            "tests": [{"name": "grader error (for the instructors)", "score": 0.0,
                       "max_score": 0.0, "status": "failed", "output": details,
                       "visibility": "hidden"}]}


def run(*, root: Path = DEFAULT_ROOT) -> dict:
    """Grade root/submission; write and return root/results/results.json."""
    from grader.engine import Engine, start_sandbox
    start = time.monotonic()
    root = Path(root)
    results_path = root / "results" / "results.json"
    try:
        settings = json.loads((root / "source" / "settings.json").read_text(encoding="utf-8"))
        metadata = _metadata(root)
        users = metadata.get("users") or [{}]
        name = ", ".join(u.get("name", "") for u in users if u.get("name")) or "submission"
        course_dir = root / "source" / "course"
        course = load_course(course_dir / "problems", course_dir / "reference")
        engine = Engine(course=course, hidden=True)
        with tempfile.TemporaryDirectory(prefix="grader-empty-") as empty, \
                start_sandbox(private=[root / "source", root / "results"]) as sandbox:
            engine.sandbox = sandbox
            submission = root / "submission"
            result = engine.grade(name, [submission if submission.is_dir() else Path(empty)])
        hidden = {p.problem.id: any(c.visibility == "hidden" for c in p.cases)
                  for p in engine.plan}
        visibility = {pid: settings["hidden_visibility"] if has else "visible"
                      for pid, has in hidden.items()}
        data = to_gradescope(result, execution_time=time.monotonic() - start,
                             visibility=visibility)
        public = [f"{p.problem_id}: {sum(c.passed for c in p.cases if c.visibility == 'public')}"
                  f"/{sum(c.visibility == 'public' for c in p.cases)} public cases passed"
                  for p in result.problems]
        data["output"] = "\n".join(_notes(metadata) + [
            "Public cases (hidden cases are shown per the course's settings):"] + public)
        data["stdout_visibility"] = settings["stdout_visibility"]
        if has_grader_error(result):
            details = "\n".join(f"{p.problem_id}: {p.grader_error}" for p in result.problems
                                if p.grader_error) or str(result.grader_error)
            data["output"] = (GRADER_FAILED + "\n\n" + data["output"])
            data["tests"].append({"name": "grader error (for the instructors)", "score": 0.0,
                                  "max_score": 0.0, "status": "failed", "output": details,
                                  "visibility": "hidden"})
    except Exception:  # the grader failed: still give Gradescope a valid results.json
        data = _failure(GRADER_FAILED, traceback.format_exc(), time.monotonic() - start)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(results_path, json.dumps(data, indent=2))
    return data
