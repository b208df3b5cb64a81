"""The Gradescope autograder, run end to end in a simulated container, and the student kit."""
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.sandbox import wire
from grader.engine import Engine

from conftest import EXAMPLES, PROBLEMS, REFERENCE, ROOT, SCHEMA, has_nulls

COURSE = ["--problems", PROBLEMS, "--reference", REFERENCE]
STUDENTS = ["correct", "mistaken", "syntax_error", "thief", "exiter"]


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    """An /autograder stand-in: the built zip unpacked into source/, setup.sh run as
    Gradescope runs it (its pip steps are satisfied by the packages installed here)."""
    root = tmp_path_factory.mktemp("autograder")
    from click.testing import CliRunner
    from grader.cli.main import main
    zip_path = root / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", "build", "--out", str(zip_path),
                                       *map(str, COURSE)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert "setup.sh" in names and "run_autograder" in names  # at the root, not a folder
        for info in archive.infolist():
            archive.extract(info, root / "source")
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode & 0o777)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], capture_output=True,
                           text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root: Path, student: str | None, metadata: dict | None = None,
                   expect: int = 0) -> dict:
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    if student is not None:
        shutil.copytree(EXAMPLES / student, root / "submission")
    (root / "submission_metadata.json").unlink(missing_ok=True)
    if metadata:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    done = subprocess.run([str(root / "run_autograder")], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "GRADER_AUTOGRADER_ROOT": str(root)})
    assert done.returncode == expect, done.stdout + done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert not has_nulls(data)
    return data


def test_zip_is_executable_and_pins_requirements(container):
    assert os.access(container / "run_autograder", os.X_OK)
    assert (container / "source" / "run_autograder").read_text().startswith("#!")
    pins = (container / "source" / "requirements.txt").read_text().splitlines()
    assert {p.split("==")[0] for p in pins} >= {"pytest", "numpy", "pandas", "jinja2", "click"}
    assert all("==" in p for p in pins)
    assert stat.S_IMODE((container / "source").stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("student", STUDENTS)
def test_results_match_batch_grading(container, student, graded):
    data = run_autograder(container, student)
    assert data["score"] == pytest.approx(graded[student].score)
    assert len(data["tests"]) == 44 and isinstance(data["execution_time"], float)
    for test, problem in zip(data["tests"], graded[student].problems):
        assert test["name"].startswith(problem.problem_id)
        assert test["score"] == pytest.approx(problem.points)
        assert test["visibility"] == "after_due_date"  # every problem has hidden cases
    assert data["stdout_visibility"] == "hidden"
    assert "public cases passed" in data["output"]


def test_metadata_gives_the_name_and_lateness(container):
    data = run_autograder(container, "correct", {
        "id": 1, "created_at": "2026-03-02T10:00:00+00:00",
        "assignment": {"due_date": "2026-03-01T23:59:00+00:00", "title": "HW", "id": 2,
                       "total_points": "36.0"},
        "users": [{"email": "ada@example.edu", "id": 3, "name": "Ada Lovelace"}]})
    assert data["output"].startswith("Submitted after the due date (2026-03-01T23:59:00+00:00).")


def test_an_empty_submission_still_gets_valid_results(container):
    data = run_autograder(container, None)
    assert data["score"] == 0
    assert "rnn.py is not in your submission" in data["tests"][-1]["output"]


def test_a_grader_failure_is_visible_with_a_hidden_traceback(container):
    settings = container / "source" / "settings.json"
    kept = settings.read_text()
    settings.write_text("{broken")
    try:
        data = run_autograder(container, "correct", expect=3)  # the grader failed
    finally:
        settings.write_text(kept)
    assert data["score"] == 0 and "not a problem with your code" in data["output"]
    (test,) = data["tests"]
    assert test["visibility"] == "hidden" and "Traceback" in test["output"]


def test_a_symlink_into_the_course_earns_nothing(container, tmp_path):
    root = container
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir()
    for name in ("rnn.py", "optim.py", "layers.py"):
        (root / "submission" / name).symlink_to(root / "source" / "course" / "reference" / name)
    done = subprocess.run([str(root / "run_autograder")], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "GRADER_AUTOGRADER_ROOT": str(root)})
    assert done.returncode == 0
    assert json.loads((root / "results" / "results.json").read_text())["score"] == 0


# -- the student kit --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    from click.testing import CliRunner
    from grader.cli.main import main
    out = tmp_path_factory.mktemp("kit") / "kit"
    result = CliRunner().invoke(main, ["kit", "--out", str(out), *map(str, COURSE)])
    assert result.exit_code == 0, result.output
    return out


def test_the_kit_holds_no_reference_and_no_hidden_case(kit, course):
    text = (kit / "kit.json").read_text()
    assert {"README.md", "kit.json"} <= {p.name for p in kit.iterdir()}
    shipped = text + "".join(p.read_text() for p in kit.rglob("*.py"))  # support, drivers, checks
    for source in REFERENCE.rglob("*.py"):  # no line of reference code
        for line in source.read_text().splitlines():
            if len(line.strip()) > 25 and not line.strip().startswith(("#", '"""', "import ", "from ")):
                assert line.strip() not in shipped, line
    for assignment in course.assignments.values():
        assert str(assignment.hidden_seed) not in text
    hidden = Engine(course=course, hidden=True)
    for planned in hidden.plan:
        for case in planned.cases:
            if case.visibility != "hidden":
                continue
            for node in (wire.encode(hidden.expected(planned, case).value),
                         wire.encode(case.args)):
                for array in _arrays(node):
                    assert array not in text, f"{planned.problem.id} {case.id}"


def _arrays(node):
    """Base64 data of the distinctive arrays in a wire node (a one-hot vector is no secret)."""
    if isinstance(node, list) and node and node[0] == "array":
        if len(set(wire.decode(node).ravel().tolist())) >= 4:
            yield node[3]
    elif isinstance(node, list):
        for item in node:
            yield from _arrays(item)


@pytest.mark.parametrize("student", ["correct", "mistaken", "wrong_shapes", "syntax_error"])
def test_the_kit_gives_the_same_verdicts_as_the_repository(kit, tmp_path, student):
    def check(*args, cwd):
        return subprocess.run([sys.executable, "-m", "grader.cli", "check", *map(str, args),
                               str(EXAMPLES / student)], capture_output=True, text=True,
                              cwd=cwd, timeout=120)
    away = tmp_path / "home"  # no problems/ or reference/ here: only the kit
    away.mkdir()
    shutil.copytree(kit, away / "kit")
    with_kit = check("--kit", "kit", cwd=away)
    in_repo = check(*COURSE, cwd=ROOT)
    assert with_kit.returncode == in_repo.returncode
    assert with_kit.stdout == in_repo.stdout and with_kit.stdout.strip()
