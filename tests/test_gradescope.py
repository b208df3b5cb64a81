"""The Gradescope autograder, built for the Python of Gradescope's image and run end to end in a
simulated container (under Python 3.10 where this machine has it), and the student kit,
installed in a fresh environment from the kit alone."""
import functools
import glob
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.sandbox import wire
from grader.engine import Engine

from conftest import EXAMPLES, PROBLEMS, REFERENCE, ROOT, SCHEMA, Invoke, has_nulls

COURSE = ["--problems", PROBLEMS, "--reference", REFERENCE]
STUDENTS = ["correct", "mistaken", "syntax_error", "thief", "exiter"]
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def python_310() -> str | None:
    """A Python 3.10 interpreter of this machine (pyenv's, or python3.10 on PATH)."""
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        root = ""
    found = sorted(glob.glob(os.path.join(root, "versions", "3.10.*", "bin", "python"))) \
        if root else []
    return found[-1] if found else shutil.which("python3.10")


@functools.lru_cache(maxsize=None)
def index_unreachable() -> str:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError as exc:
        return f"the package index (pypi.org) is unreachable: {exc}"
    return ""


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    """An /autograder stand-in: the zip built for Python 3.10 (where this machine has it, else
    for the Python running the tests) unpacked into source/, and setup.sh run as Gradescope
    runs it, with that Python as python3: it installs the pinned requirements from the package
    index and grader from its wheel."""
    if index_unreachable():
        pytest.skip(f"building an autograder resolves its pins on the index, and "
                    f"{index_unreachable()}")
    root = tmp_path_factory.mktemp("autograder")
    interpreter = python_310() or sys.executable
    version = "3.10" if python_310() else RUNNING
    zip_path = root / "autograder.zip"
    Invoke()("gradescope", "build", "--out", zip_path, "--python", version, *COURSE)
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert "setup.sh" in names and "run_autograder" in names  # at the root, not a folder
        for info in archive.infolist():
            archive.extract(info, root / "source")
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode & 0o777)
    image = root / "image-bin"  # the image's python3
    image.mkdir()
    (image / "python3").symlink_to(interpreter)
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    environment["PATH"] = f"{image}{os.pathsep}{os.environ.get('PATH', '')}"
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], capture_output=True,
                           text=True, timeout=900, env=environment)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root: Path, student: str | Path | None, metadata: dict | None = None,
                   expect: int = 0) -> dict:
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    if isinstance(student, Path):
        shutil.copytree(student, root / "submission")
    elif student is not None:
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


def by_problem(data: dict) -> dict[str, list[dict]]:
    tests: dict[str, list[dict]] = {}
    for test in data["tests"]:
        tests.setdefault(test["name"].split(":")[0].split(" ")[0], []).append(test)
    return tests


@pytest.mark.slow
def test_zip_is_executable_and_pins_requirements(container):
    assert os.access(container / "run_autograder", os.X_OK)
    assert (container / "source" / "run_autograder").read_text().startswith("#!")
    pins = (container / "source" / "requirements.txt").read_text().splitlines()
    assert {p.split("==")[0] for p in pins} >= {"pytest", "numpy", "pandas", "jinja2", "click"}
    assert all("==" in p and ";" not in p for p in pins)
    assert stat.S_IMODE((container / "source").stat().st_mode) & 0o077 == 0
    settings = json.loads((container / "source" / "settings.json").read_text())
    built_for = subprocess.run([str(container / "venv" / "bin" / "python"), "-c",
                                "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, check=True).stdout.strip()
    assert built_for == settings["python"]  # setup.sh installed the pins on that Python


@pytest.mark.slow
def test_the_autograder_runs_on_python_310(container, graded):
    """setup.sh and run_autograder on the Python of Gradescope's default image."""
    if python_310() is None:
        pytest.skip("no Python 3.10 here (pyenv's or python3.10 on PATH): the container ran on "
                    f"Python {RUNNING}")
    assert json.loads((container / "source" / "settings.json").read_text())["python"] == "3.10"
    data = run_autograder(container, "correct")
    assert data["score"] == pytest.approx(graded["correct"].score) == graded["correct"].max_score
    assert not any("grader error" in t["name"] for t in data["tests"])


def test_ci_runs_the_suite_on_python_310_too():
    found = subprocess.run([str(ROOT / ".ci" / "run"), "--python310"], capture_output=True,
                           text=True, check=True, timeout=60).stdout.strip()
    assert found == (python_310() or "")
    if found:
        version = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, check=True).stdout
        assert version.strip() == "(3, 10)"
    script = (ROOT / ".ci" / "run").read_text()
    assert '"$interpreter" -m venv .venv310' in script
    assert 'python -m pytest -q -m "not slow"' in script  # the slow ones ran in the first pass


@pytest.mark.slow
@pytest.mark.parametrize("student", STUDENTS)
def test_results_match_batch_grading(container, student, graded):
    data = run_autograder(container, student)
    assert data["score"] == pytest.approx(graded[student].score)
    assert isinstance(data["execution_time"], float)
    tests = by_problem(data)
    assert list(tests) == [p.problem_id for p in graded[student].problems]
    for problem in graded[student].problems:
        parts = tests[problem.problem_id]
        assert sum(t["score"] for t in parts) == pytest.approx(problem.points, abs=1e-5)
        assert sum(t["max_score"] for t in parts) == pytest.approx(problem.max_points)
        public = [t for t in parts if ": public cases" in t["name"]]
        hidden = [t for t in parts if ": hidden cases" in t["name"]]
        assert all(t["visibility"] == "visible" for t in public)
        assert all(t["visibility"] == "after_due_date" for t in hidden)
    assert data["stdout_visibility"] == "hidden"
    assert "public cases passed" in data["output"]


@pytest.mark.slow
def test_known_mistakes_are_visible_at_once(container):
    data = run_autograder(container, "mistaken")
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    mistakes = [t for t in visible if "Known mistake" in t["output"]]
    assert len(mistakes) >= 10 and all(t["tags"] == ["mistake"] for t in mistakes)
    assert any("look-ahead" in t["output"] for t in mistakes)  # optim.nesterov_quadratic


@pytest.mark.slow
def test_metadata_gives_the_name_and_lateness(container):
    data = run_autograder(container, "correct", {
        "id": 1, "created_at": "2026-03-02T10:00:00+00:00",
        "assignment": {"due_date": "2026-03-01T23:59:00+00:00", "title": "HW", "id": 2,
                       "total_points": "36.0"},
        "users": [{"email": "ada@example.edu", "id": 3, "name": "Ada Lovelace"}]})
    assert data["output"].startswith("Submission of Ada Lovelace.\n\nSubmitted after the due "
                                     "date (2026-03-01T23:59:00+00:00).")
    assert data["extra_data"]["students"] == ["Ada Lovelace"] and data["extra_data"]["late"]


@pytest.mark.slow
def test_an_empty_submission_still_gets_valid_results(container):
    data = run_autograder(container, None)
    assert data["score"] == 0
    assert "rnn.py is not in your submission" in data["tests"][-1]["output"]
    assert "Your submission is empty: no files were found." in data["output"]


@pytest.mark.slow
def test_a_zipped_or_nested_submission_is_graded(container, tmp_path, graded):
    zipped = tmp_path / "zipped"
    zipped.mkdir()
    with zipfile.ZipFile(zipped / "homework.zip", "w") as archive:
        for path in sorted((EXAMPLES / "correct").rglob("*.py")):
            archive.write(path, f"homework/{path.relative_to(EXAMPLES / 'correct')}")
    data = run_autograder(container, zipped)
    assert data["score"] == pytest.approx(graded["correct"].score)
    assert "The files inside your zip file homework.zip were graded." in data["output"]
    nested = tmp_path / "nested"
    shutil.copytree(EXAMPLES / "correct", nested / "hw")
    data = run_autograder(container, nested)
    assert data["score"] == pytest.approx(graded["correct"].score)
    assert "Your files were found in the folder hw/" in data["output"]
    assert data["extra_data"]["notes"][0].startswith("Your files were found in the folder hw/")


@pytest.mark.slow
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


def test_a_problem_the_grader_failed_on_is_said_not_graded(container):
    generators = next((container / "source").rglob("optim_cases.py"))
    kept = generators.read_text()
    generators.write_text(kept.replace("def gradients(rng):\n",
                                       "def gradients(rng):\n    raise KeyError('oops')\n", 1))
    try:
        data = run_autograder(container, "correct", expect=3)
    finally:
        generators.write_text(kept)
    assert "please tell your instructors" in data["output"]
    assert "optim.running_average: not graded (the autograder failed on it)" in data["output"]
    assert "optim.gd_quadratic: 2/2 public cases passed" in data["output"], data["output"]


@pytest.mark.slow
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


def _quick_build(monkeypatch, tmp_path, *assignments) -> set[str]:
    """The names in a zip built for `assignments`, with the pins and the wheel stubbed."""
    from grader import distribution
    from grader.gradescope import container
    monkeypatch.setattr(container, "requirements", lambda python, platform: "numpy==2.2.6\n")

    def wheel(out_dir):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "grader-0.1.0-py3-none-any.whl").write_bytes(b"wheel")
        return Path(out_dir) / "grader-0.1.0-py3-none-any.whl"

    monkeypatch.setattr(distribution, "build_wheel", wheel)
    out = tmp_path / "autograder.zip"
    container.build(problems_dir=PROBLEMS, reference_dir=REFERENCE, out=out,
                    assignments=list(assignments))
    with zipfile.ZipFile(out) as archive:
        return set(archive.namelist())


def test_one_autograder_per_homework(monkeypatch, tmp_path):
    common = {"setup.sh", "run_autograder", "requirements.txt", "settings.json",
              "grader-0.1.0-py3-none-any.whl"}
    assert _quick_build(monkeypatch, tmp_path, "optim") == common | {
        "course/problems/optim.toml", "course/problems/optim_cases.py",
        "course/reference/optim.py"}
    names = _quick_build(monkeypatch, tmp_path, "cs231n") - common
    assert {"course/problems/cs231n.toml", "course/problems/cs231n_cases.py",
            "course/problems/cs231n_drivers.py", "course/problems/cs231n_checks.py",
            "course/problems/support/cs231n/im2col.py", "course/reference/cs231n/__init__.py",
            "course/reference/cs231n/layers.py"} <= names
    assert not [n for n in names if "optim_cases" in n or n.endswith(("rnn.py", "rnn.toml"))]


def test_the_build_refuses_a_python_grader_cannot_run_on(cli, tmp_path):
    result = cli("gradescope", "build", "--out", tmp_path / "a.zip", "--python", "3.9",
                 *COURSE, expect=2)
    assert "cannot build the autograder: grader needs Python >=3.10: it cannot run on " \
           "Python 3.9." in result.stderr
    assert not (tmp_path / "a.zip").exists()
    result = cli("gradescope", "build", "--python", "three", *COURSE, expect=2)
    assert "--python must be a version such as 3.10, not 'three'" in result.stderr


def test_the_build_refuses_a_visibility_gradescope_does_not_know(tmp_path):
    from grader.gradescope.container import build
    for option in ("hidden_visibility", "stdout_visibility"):
        with pytest.raises(ValueError, match="unknown visibility 'later': one of hidden, "
                                             "after_due_date, after_published, visible"):
            build(problems_dir=PROBLEMS, reference_dir=REFERENCE, out=tmp_path / "a.zip",
                  **{option: "later"})
    assert not (tmp_path / "a.zip").exists()


def test_the_build_fails_with_pips_reason(cli, tmp_path):
    if index_unreachable():
        pytest.skip(index_unreachable())
    result = cli("gradescope", "build", "--out", tmp_path / "a.zip", "--python", "3.99",
                 *COURSE, expect=2)
    assert "cannot build the autograder: no versions of grader's requirements install on " \
           "Python 3.99 (manylinux2014_x86_64): No set of wheels installs" in result.stderr
    assert "pip says:" in result.stderr and not (tmp_path / "a.zip").exists()


# -- the student kit --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    out = tmp_path_factory.mktemp("kit") / "kit"
    Invoke()("kit", "--out", out, *COURSE)
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


def test_the_kit_installs_from_its_wheel_and_names_the_course_files(kit, course):
    (wheel,) = kit.glob("grader-*-py3-none-any.whl")
    readme = (kit / "README.md").read_text()
    assert f"    python -m pip install kit/{wheel.name}\n" in readme
    assert "pip install grader\n" not in readme and "pip install grader " not in readme
    for assignment in course.assignments.values():
        assert f"({assignment.name}): " in readme
    assert "- Optimizers on a quadratic (optim): optim.py (or the notebook optim.ipynb)" in readme
    assert ("(cs231n): cs231n/optim.py, cs231n/layers.py, cs231n/rnn_layers.py (in a folder "
            "cs231n/, or the files at the top of your submission)") in readme


def test_a_kit_per_homework(cli, tmp_path):
    cli("kit", "--out", tmp_path / "optim-kit", "--assignment", "optim", *COURSE)
    data = json.loads((tmp_path / "optim-kit" / "kit.json").read_text())
    assert [a["name"] for a in data["assignments"]] == ["optim"]
    readme = (tmp_path / "optim-kit" / "README.md").read_text()
    assert readme.startswith("# Optimizers on a quadratic: student kit")
    assert "rnn.py" not in readme
    result = cli("kit", "--out", tmp_path / "x", "--assignment", "nope", *COURSE, expect=2)
    assert "has no assignment 'nope' (it has cs231n, layers, optim, rnn)" in result.stderr


def test_the_kit_s_check_names_imports_the_grading_environment_may_lack(kit, cli, tmp_path):
    """On the student's machine a file may import what grading lacks (it loads there, and
    fails as a whole where it is graded): the kit knows what grading has, and says so. (pip
    stands for such a module: installed here, and none of grader's requirements.)"""
    modules = set(json.loads((kit / "kit.json").read_text())["modules"])
    assert {"math", "numpy", "pandas", "click"} <= modules and "pip" not in modules
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    optim = student / "optim.py"
    optim.write_text("import math, pandas\nimport pip\n"
                     "from helpers import SCALE\n"
                     "try:\n    import scipy.linalg\nexcept ImportError:\n    scipy = None\n"
                     "if __name__ == '__main__':\n    import seaborn\n"
                     "def plot():\n    import torch\n\n" + optim.read_text())  # none fails it
    (student / "helpers.py").write_text("SCALE = 1\n")
    result = cli("check", "--kit", kit, student, expect=None)
    notes = [line for line in result.stdout.splitlines() if "may not be installed" in line]
    assert notes == ["Note: optim.py imports pip, which may not be installed where your "
                     "work is graded (Python's standard library, NumPy and the packages grader "
                     "needs are): if it is not, the whole file fails there, though it loads "
                     "here. Remove the import, and the code that uses it, from the file you "
                     "hand in."], result.stdout
    in_repo = cli("check", student, *COURSE, expect=None)  # the instructor's: no such note
    assert "may not be installed" not in in_repo.stdout


def test_the_kit_s_check_does_not_say_a_file_loads_here_when_it_did_not(kit, cli, tmp_path):
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    optim = student / "optim.py"
    optim.write_text("import grader_test_module_nowhere\n" + optim.read_text())
    result = cli("check", "--kit", kit, student, expect=None)
    assert "No module named 'grader_test_module_nowhere'" in result.stdout
    assert "may not be installed" not in result.stdout, result.stdout


@pytest.fixture(scope="module")
def student_machine(kit, tmp_path_factory):
    """A student's machine: the kit folder alone, and grader installed into a fresh virtual
    environment from the kit's wheel (no index: grader's requirements are borrowed from the
    environment running the tests, after the fresh one's own packages)."""
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(kit, home / "kit")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (wheel,) = (home / "kit").glob("grader-*.whl")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--disable-pip-version-check", "--ignore-installed", "--no-deps",
         "--no-index", str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import grader; print(grader.__file__)"], capture_output=True,
                           text=True, cwd=home)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr  # not the source's
    return home, venv


@pytest.mark.parametrize("student", ["correct", "mistaken", "wrong_shapes", "syntax_error",
                                     "cs231n_folder"])
def test_the_kit_gives_the_same_verdicts_as_the_repository(student_machine, student):
    home, venv = student_machine
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with_kit = subprocess.run([str(venv / "bin" / "grader"), "check", "--kit", "kit",
                               str(EXAMPLES / student)], capture_output=True, text=True,
                              cwd=home, timeout=120, env=environment)
    in_repo = subprocess.run([sys.executable, "-m", "grader.cli", "check", *map(str, COURSE),
                              str(EXAMPLES / student)], capture_output=True, text=True,
                             cwd=ROOT, timeout=120)
    assert with_kit.returncode == in_repo.returncode, with_kit.stderr
    assert with_kit.stdout == in_repo.stdout and with_kit.stdout.strip()


@pytest.mark.parametrize("created, due, late", [
    ("2026-03-02T10:00:00+00:00", "2026-03-01T23:59:00", True),  # one without a time zone
    ("2026-03-01T10:00:00", "2026-03-01T23:59:00+00:00", False),
    ("yesterday", "2026-03-01T23:59:00", False), (12, "2026-03-01T23:59:00", False),
    ("2026-03-02T10:00:00Z", "2026-03-01T23:59:00.5-08:00", True),  # what 3.10 could not read
    ("2026-03-01T10:00:00.123Z", "2026-03-01T23:59:00.123456789+00:00", False),
    ("2026-03-02T10:00:00.1+0000", "2026-03-02T02:59:59-0800", False),
    ("2026-03-02T11:00:00z", "2026-03-02T02:59:59-0800", True)])
def test_lateness_from_any_pair_of_times(created, due, late):
    from grader.gradescope.container import _notes
    notes = _notes({"created_at": created, "assignment": {"due_date": due}})
    assert notes == ([f"Submitted after the due date ({due})."] if late else [])
