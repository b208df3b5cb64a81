"""Shared fixtures: the shipped course, one sandbox for the session, the example students graded
once (public and hidden cases), and a CliRunner that reports everything on failure."""
from __future__ import annotations

import json
import os
import shutil
import signal
import time
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.engine import Engine
from grader.course.manifest import load_course
from grader.sandbox.host import Sandbox

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS, REFERENCE, EXAMPLES = ROOT / "problems", ROOT / "reference", ROOT / "submissions_example"

# The Ctrl-C tests send SIGINT to the graders they start. A suite started in the background by a
# script (`... &`) runs with SIGINT ignored, which every process it starts would inherit, Ctrl-C
# then doing nothing: it is put back, so that the graders start as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def course():
    return load_course(PROBLEMS, REFERENCE)


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(hide=[PROBLEMS, REFERENCE]) as box:
        yield box


SCHEMA = json.loads((Path(__file__).parent / "gradescope_schema.json").read_text())


def has_nulls(value) -> bool:
    """Whether a JSON value holds a null anywhere (results.json must not)."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_nulls(v) for v in value.values())
    if isinstance(value, list):
        return any(has_nulls(v) for v in value)
    return False


def zygote_children(sandbox, wait: float = 1.0) -> list[int]:
    """The processes whose parent is the sandbox's zygote and that are still alive: a killed
    child is reaped before the zygote forks the next, so zombies do not count, and a child
    that was killed gets up to `wait` seconds to finish dying."""
    pid = sandbox.zygote.process.pid
    deadline = time.monotonic() + wait
    while True:
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid and fields[0] != "Z":
                    children.append(int(entry))
        if not children or time.monotonic() > deadline:
            return children
        time.sleep(0.02)


FORGED = [Path("/tmp/results.json"), ROOT / "results.json", Path.cwd() / "results.json"]


@pytest.fixture(scope="session")
def graded(course, sandbox):
    """Every example student's SubmissionResult, hidden cases included; also records how long
    grading them all took in `graded.seconds`."""
    for path in FORGED:
        path.unlink(missing_ok=True)
    engine = Engine(course=course, sandbox=sandbox, hidden=True)
    start = time.monotonic()
    results = Results({path.name: engine.grade(path.name, [path])
                       for path in sorted(EXAMPLES.iterdir()) if path.is_dir()})
    results.seconds = time.monotonic() - start
    return results


class Results(dict):
    seconds: float


@pytest.fixture
def course_copy(tmp_path):
    """A writable copy of the course, for tests that break it."""
    shutil.copytree(PROBLEMS, tmp_path / "problems")
    shutil.copytree(REFERENCE, tmp_path / "reference")
    return tmp_path


class Invoke:
    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args, expect: int | None = 0):
        from grader.cli.main import main
        result = self.runner.invoke(main, [str(a) for a in args])
        if expect is not None and result.exit_code != expect:
            details = "".join(traceback.format_exception(*result.exc_info)) \
                if result.exc_info and result.exc_info[0] is not SystemExit else ""
            pytest.fail(f"grader {' '.join(map(str, args))} exited {result.exit_code}, "
                        f"expected {expect}\n--- stdout\n{result.stdout}\n--- stderr\n"
                        f"{result.stderr}\n{details}")
        return result


@pytest.fixture
def cli():
    return Invoke()
