"""Batch grading (`grader grade`): outputs, agreement with the core and the plugin, resuming
after a kill, grader failures listed as such, escaping, submissions as students make them (zips,
nested folders, LMS downloads), the LMS export, and the pages in a real browser."""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from grader.batch import outputs as batch
from grader.course.manifest import load_course

import privileges
from conftest import EXAMPLES, PROBLEMS, REFERENCE, ROOT

COURSE = ["--problems", PROBLEMS, "--reference", REFERENCE]
XSS = "<script>document.title = 'pwned'; document.body.innerHTML = 'PWNED'</script>"


@pytest.fixture
def klass(tmp_path):
    """A small class: three example students and one who prints and returns a script."""
    root = tmp_path / "class"
    for name in ("correct", "mistaken", "syntax_error"):
        shutil.copytree(EXAMPLES / name, root / name)
    shutil.copytree(EXAMPLES / "correct", root / "zz_script")
    with open(root / "zz_script" / "rnn.py", "a") as source:
        source.write(f"\n\ndef cross_entropy(y, p):\n    print({XSS!r})\n    return {XSS!r}\n")
    return root


def test_grade_writes_every_output(cli, klass, tmp_path, graded):
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, *COURSE, "-q")
    assert "Students: 4 (4 graded now" in result.stdout
    book = pd.read_csv(out / "gradebook.csv")
    assert list(book.columns[:2]) == ["student", "cs231n.sgd_momentum"]
    assert list(book.columns[-3:]) == ["total", "max", "grader_error"]
    for name in ("correct", "mistaken", "syntax_error"):
        row = book[book.student == name].iloc[0]
        assert row.total == pytest.approx(graded[name].score)  # the core's score
        results = json.loads((out / name / "results.json").read_text())
        assert results["score"] == pytest.approx(row.total)  # the plugin's format
        for problem in graded[name].problems:
            assert row[problem.problem_id] == pytest.approx(problem.points)
        report = pd.read_csv(out / name / "report.csv")
        assert list(report.columns) == batch.CSV_COLUMNS
        assert report.points.sum() == pytest.approx(row.total)
    mistaken = pd.read_csv(out / "mistaken" / "report.csv").fillna("")
    assert "Known mistake" in " ".join(mistaken.feedback)
    assert (mistaken.mistake != "").sum() > 10
    index = (out / "index.html").read_text()
    assert "4 students" in index and 'href="mistaken/report.html"' in index
    assert "<svg" in index and "diag" in index  # the distribution plot, a common mistake


def test_student_content_is_escaped(cli, klass, tmp_path):
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, *COURSE, "-q")
    page = (out / "zz_script" / "report.html").read_text()
    assert "&lt;script&gt;document.title" in page and "<script>" not in page


def test_a_rerun_regrades_only_what_changed(cli, klass, tmp_path):
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, *COURSE, "-q")
    first = (out / "gradebook.csv").read_text()
    stamp = (out / "correct" / "grade.json").stat().st_mtime_ns
    (klass / "mistaken" / "optim.py").write_text(
        (klass / "correct" / "optim.py").read_text())  # mistaken fixes optim
    result = cli("grade", klass, "--out", out, *COURSE, "-q")
    assert "Students: 4 (1 graded now" in result.stdout
    assert (out / "correct" / "grade.json").stat().st_mtime_ns == stamp
    assert (out / "gradebook.csv").read_text() != first
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--force")
    assert "Students: 4 (4 graded now" in result.stdout


@pytest.mark.parametrize("first, kept", [
    (["--grader-problem", "optim.nesterov_quadratic"], False),  # part of the problems
    (["-k", "optim."], False),
    (["--grader-public-only"], False),  # no hidden case
    ([], True),  # all of it: the same grade, whichever way it was made
])
def test_a_grade_is_kept_only_by_a_run_that_grades_the_same(cli, tmp_path, first, kept):
    root, out = tmp_path / "class", tmp_path / "out"
    shutil.copytree(EXAMPLES / "correct", root / "ann")
    assert pytest.main(["-p", "no:cacheprovider", "-q", "--submission", str(root / "ann"),
                        "--grader-problems", str(PROBLEMS), "--grader-reference", str(REFERENCE),
                        "--grader-out", str(out), *first]) == 0
    result = cli("grade", root, "--out", out, *COURSE, "-q")
    assert ("(0 graded now in" if kept else "(1 graded now in") in result.stdout
    book = pd.read_csv(out / "gradebook.csv")
    assert book.total[0] == book["max"][0] and book.shape[1] == 44 + 4  # every problem


def test_a_grade_of_some_assignments_is_not_kept_by_a_run_of_all(cli, tmp_path):
    root, out = tmp_path / "class", tmp_path / "out"
    shutil.copytree(EXAMPLES / "correct", root / "ann")
    cli("grade", root, "--out", out, *COURSE, "-q", "--assignment", "optim")
    assert "(0 graded now in" in cli("grade", root, "--out", out, *COURSE, "-q",
                                      "--assignment", "optim").stdout
    assert "(1 graded now in" in cli("grade", root, "--out", out, *COURSE, "-q").stdout


def test_a_file_changed_while_its_student_is_graded_is_graded_again_next_run(
        cli, klass, tmp_path, monkeypatch):
    """The fingerprint kept with a grade is that of the files graded: a download synced while
    the run grades must not leave a grade of the old files marked current."""
    from grader.engine import Engine
    real = Engine.grade

    def grade_then_fix(self, student, paths, problems=None):
        result = real(self, student, paths, problems)
        if student == "mistaken":
            (klass / "mistaken" / "optim.py").write_text(
                (klass / "correct" / "optim.py").read_text())
        return result

    monkeypatch.setattr(Engine, "grade", grade_then_fix)
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", "1")
    monkeypatch.setattr(Engine, "grade", real)
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", "1")
    assert "Students: 4 (1 graded now" in result.stdout  # mistaken, on the files it now has


def test_a_student_whose_files_cannot_be_read_is_said_not_graded_and_the_rest_are():
    """As an ordinary user, a folder no one may read (unzip keeps a zip's modes) is that
    student's problem, listed, not the class's."""
    place = Path(tempfile.mkdtemp(prefix="grader-test-"))  # where an ordinary user may go
    try:
        place.chmod(0o755)
        klass, out = place / "class", place / "out"
        for name in ("alice", "bob"):
            shutil.copytree(EXAMPLES / "correct", klass / name)
        (klass / "alice" / "locked").mkdir()
        (klass / "alice" / "locked").chmod(0)
        out.mkdir()
        out.chmod(0o777)
        done = subprocess.run(privileges.unprivileged(
            [sys.executable, "-m", "grader.cli", "grade", str(klass), "--out", str(out / "o"),
             "--assignment", "rnn", "-q", "--jobs", "1", *map(str, COURSE)]),
            capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert "Not graded: alice: could not be read (Permission denied: locked)" in done.stderr
        assert "Students: 1 (1 graded now" in done.stdout
    finally:
        (place / "class" / "alice" / "locked").chmod(0o755)
        shutil.rmtree(place)


def test_a_killed_run_resumes_to_the_same_gradebook(cli, klass, tmp_path):
    # graded last, for seconds: the run is killed while it is, once an earlier student is
    # written (results are written in order, so with the slow one first, the others were
    # often all written before the kill)
    shutil.copytree(EXAMPLES / "infinite_loop", klass / "zz_slow")
    command = [sys.executable, "-m", "grader.cli", "grade", str(klass), "--out",
               str(tmp_path / "killed"), "--jobs", "1", "-q", *map(str, COURSE)]
    scratch = tmp_path / "tmp"  # the killed run cannot remove its scratch folder
    scratch.mkdir()
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               env={**os.environ, "TMPDIR": str(scratch)})
    deadline = time.monotonic() + 60
    while not (tmp_path / "killed" / "correct" / "grade.json").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {p.parent.name for p in (tmp_path / "killed").glob("*/grade.json")}
    assert len(done_before) < 5
    result = cli("grade", klass, "--out", tmp_path / "killed", *COURSE, "-q")
    assert f"({5 - len(done_before)} graded now" in result.stdout
    cli("grade", klass, "--out", tmp_path / "whole", *COURSE, "-q")
    assert (tmp_path / "killed" / "gradebook.csv").read_text() == \
        (tmp_path / "whole" / "gradebook.csv").read_text()


@pytest.mark.parametrize("whole_group", [True, False])
def test_ctrl_c_with_several_processes_leaves_no_scratch_folder(klass, tmp_path, whole_group):
    """Ctrl-C (to the whole process group, as a terminal sends it, or to the grader alone)
    lets each grading process remove its scratch folder and its sandbox before it ends."""
    for name in ("infinite_loop", "raises"):  # keeps both processes busy
        shutil.copytree(EXAMPLES / name, klass / f"b_{name}")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    command = [sys.executable, "-m", "grader.cli", "grade", str(klass), "--out",
               str(tmp_path / "out"), "--jobs", "2", "-q", *map(str, COURSE)]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TMPDIR": str(scratch)})
    deadline = time.monotonic() + 60
    while len(list(scratch.glob("grader-*"))) < 4:  # two scratch folders, two sandboxes
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(1.0)  # grading
    if whole_group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130 and "Interrupted." in error, error
    time.sleep(0.5)  # a sandbox's folder goes with its last process
    assert sorted(p.name for p in scratch.iterdir()) == []


def test_grader_failures_are_listed_not_zeroed(cli, klass, tmp_path, monkeypatch):
    from grader.engine import Engine
    real = Engine._outcomes

    def flaky(self, files, *others):
        if any(getattr(source, "parent", None) and source.parent.name == "mistaken"
               for source in files.values()):
            raise RuntimeError("disk on fire")
        return real(self, files, *others)

    monkeypatch.setattr(Engine, "_outcomes", flaky)
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", "1", expect=3)
    assert "Grader failures (1)" in result.stdout
    assert "mistaken: RuntimeError: disk on fire" in result.stdout
    book = pd.read_csv(out / "gradebook.csv", dtype=str, keep_default_na=False)
    assert book[book.student == "mistaken"].grader_error.item() == "RuntimeError: disk on fire"
    failed = book[book.student == "mistaken"].iloc[0]
    assert failed["total"] == "" and failed["optim.gd_quadratic"] == ""  # empty, not zero
    assert book[book.student == "correct"].iloc[0]["total"] != ""
    assert "grader error" in (out / "index.html").read_text()
    monkeypatch.setattr(Engine, "_outcomes", real)
    result = cli("grade", klass, "--out", out, *COURSE, "-q")
    assert "Students: 4 (1 graded now" in result.stdout  # only the failed one is retried


def test_grade_runs_no_conftest_from_the_folder_it_starts_in(cli, tmp_path, monkeypatch):
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", klass / "ada")
    marker = tmp_path / "conftest-ran"
    for folder in (klass, klass / "ada"):
        (folder / "conftest.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(klass / "ada")
    cli("grade", klass, "--out", tmp_path / "out", "--assignment", "optim", *COURSE, "-q")
    assert not marker.exists()
    assert (tmp_path / "out" / "ada" / "grade.json").is_file()


def test_text_no_file_can_hold_is_mended_and_the_student_graded(cli, tmp_path):
    """Output and an exception's message with lone surrogates (which JSON can escape and no
    UTF-8 file can hold) reach the report as "?" instead of losing the student."""
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", klass / "surrogate")
    shutil.copytree(EXAMPLES / "correct", klass / "honest")
    with open(klass / "surrogate" / "rnn.py", "a") as source:
        source.write('\n\ndef cross_entropy(y, p):\n    print("out \\udc80 put")\n'
                     '    raise RuntimeError("msg \\ud800 here")\n')
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, "--assignment", "rnn", *COURSE, "-q")
    assert "Students: 2 (2 graded now" in result.stdout
    page = (out / "surrogate" / "report.html").read_text(encoding="utf-8")
    assert "out ? put" in page and "msg ? here" in page
    assert (out / "surrogate" / "grade.json").is_file()


def test_a_file_name_that_is_not_text_is_quoted_with_a_mark_and_the_class_graded(cli, tmp_path):
    """A raw folder (LMS downloads) can hold a file whose name is not valid UTF-8; the
    feedback names it with "?" and the run goes on to every other student."""
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", klass / "honest")
    (klass / "raw").mkdir()
    with open(os.fsencode(klass / "raw") + b"/RNN\xff.py", "w") as source:
        source.write("x = 1\n")
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, "--assignment", "rnn", *COURSE, "-q")
    assert "Students: 2 (2 graded now" in result.stdout
    assert "found: RNN?.py" in (out / "raw" / "report.html").read_text(encoding="utf-8")
    assert (out / "raw" / "grade.json").is_file() and (out / "gradebook.csv").is_file()
    results = (out / "raw" / "results.json").read_text(encoding="utf-8")
    assert "RNN?.py" in json.loads(results)["output"]  # not an escaped lone surrogate,
    assert "\\udc" not in results  # which some JSON readers (Gradescope's?) refuse


def test_a_student_whose_files_cannot_be_written_stops_the_run(cli, klass, tmp_path,
                                                               monkeypatch):
    import grader.batch.outputs as outputs
    real = outputs.write_student

    def failing(out, result, **options):
        if result.student == "mistaken":
            raise OSError(28, "No space left on device")
        return real(out, result, **options)

    monkeypatch.setattr(outputs, "write_student", failing)
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", "1", expect=3)
    assert "Grading stopped: the grader could not write the files of mistaken (OSError" \
        in result.stderr
    assert (out / "correct" / "grade.json").is_file()  # the others are saved


def test_grade_needs_no_entry_point_for_its_plugin(cli, tmp_path, monkeypatch):
    """A grader run from a source folder that was never installed has no pytest entry point:
    its plugin is named when pytest starts, so the class is graded all the same."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # as if no entry point existed
    root = tmp_path / "class"
    for name in ("correct", "mistaken"):
        shutil.copytree(EXAMPLES / name, root / name)
    out = tmp_path / "out"
    result = cli("grade", root, "--out", out, *COURSE, "-q", "--jobs", "1",
                 "--assignment", "rnn")
    assert "Students: 2 (2 graded now" in result.stdout
    for name in ("correct", "mistaken"):
        assert (out / name / "grade.json").is_file()


def test_students_the_grading_session_did_not_grade_stop_the_run(cli, klass, tmp_path,
                                                                  monkeypatch):
    """Students whose items failed before they were graded and written (the grader's own error,
    here its plugin not loaded, not theirs) are never counted as graded: the run stops, saying
    why."""
    from grader.batch import runner
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setattr(runner, "PLUGIN", "grader.pytest_plugin.options")  # holds no hooks
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", "1", expect=3)
    assert "Grading stopped: the grading session ended without grading correct, mistaken, " \
        "syntax_error" in result.stderr
    assert "AttributeError" in result.stderr and "pytest_grader_submission_graded" \
        in result.stderr
    assert not list(out.glob("*/grade.json"))


def test_grade_rejects_a_folder_without_students_before_writing(cli, tmp_path):
    """A class folder with no student is a usage error said before anything is written,
    naming what the folder held instead (here a link, which is never followed)."""
    root = tmp_path / "class"
    root.mkdir()
    (root / "alice").symlink_to(EXAMPLES / "correct", target_is_directory=True)
    result = cli("grade", root, "--out", tmp_path / "out", *COURSE, expect=2)
    assert "has no student subdirectory or zip (left out: alice: a link to a folder" \
        in result.stderr
    assert not (tmp_path / "out").exists()


def test_grade_of_a_zip_says_to_unzip_it(cli, tmp_path):
    bulk = tmp_path / "submissions.zip"
    with zipfile.ZipFile(bulk, "w") as archive:
        archive.writestr("alice/optim.py", "x = 1\n")
    result = cli("grade", bulk, "--out", tmp_path / "out", *COURSE, expect=2)
    assert "submissions.zip is a zip, not a folder: unzip it" in result.stderr
    assert not (tmp_path / "out").exists()


def test_grade_into_a_log_shows_no_progress_bar(cli, tmp_path):
    """Output that is not a terminal (a log, a pipe) gets the summary, not the bar's label."""
    shutil.copytree(EXAMPLES / "correct", tmp_path / "class" / "bob")
    result = cli("grade", tmp_path / "class", "--out", tmp_path / "out", "--assignment",
                 "optim", *COURSE)
    assert result.stdout.startswith("Students: 1 (1 graded now"), result.stdout


def test_a_student_folder_given_as_a_link_is_said_not_graded(cli, tmp_path):
    root = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", root / "bob")
    (root / "alice").symlink_to(EXAMPLES / "correct", target_is_directory=True)
    result = cli("grade", root, "--out", tmp_path / "out", "--assignment", "optim", *COURSE,
                 "-q")
    assert "Students: 1 (1 graded now" in result.stdout
    assert "Not graded: alice: a link to a folder: links are not followed" in result.stderr


HYPERLINK = '=HYPERLINK("evil.example","click me")'


def _zip_folder(folder: Path, archive: Path, prefix: str) -> None:
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zipped.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")


def test_submissions_as_students_make_them(cli, tmp_path, graded):
    root = tmp_path / "class"
    root.mkdir()
    _zip_folder(EXAMPLES / "correct", root / "alice.zip", "homework")  # a zip, files nested
    shutil.copytree(EXAMPLES / "correct", root / "bob" / "hw1")  # a nested folder
    (root / "carol").mkdir()  # an empty submission
    (root / "dave").mkdir()
    shutil.copy(EXAMPLES / "correct" / "rnn.py", root / "dave" / "RNN.py")
    shutil.copytree(EXAMPLES / "correct", root / HYPERLINK)  # a folder named as a formula
    out = root / "reports"  # inside the submissions folder
    result = cli("grade", root, "--out", out, *COURSE, "-q")
    assert "Students: 5 (5 graded now" in result.stdout
    book = pd.read_csv(out / "gradebook.csv", dtype={"student": str})
    formula = next(name for name in book.student if "HYPERLINK" in name)
    assert sorted(set(book.student) - {formula}) == ["alice", "bob", "carol", "dave"]
    assert not formula.startswith(("=", "+", "-", "@"))  # never run as a formula
    assert (out / formula / "report.html").is_file()  # its folder, named safely
    for name in ("alice", "bob"):
        assert book[book.student == name].total.item() == pytest.approx(graded["correct"].score)
    page = {name: (out / name / "report.html").read_text() for name in ("alice", "bob",
                                                                          "carol", "dave")}
    assert "The files inside your zip file alice.zip were graded." in page["alice"]
    assert "Your files were found in the folder hw1/, not at the top of your submission" \
        in page["bob"]
    assert "Your submission is empty: no files were found." in page["carol"]
    assert "Found RNN.py but expected rnn.py" in page["dave"]
    results = json.loads((out / "dave" / "results.json").read_text())
    assert results["output"].startswith("Found RNN.py but expected rnn.py")
    result = cli("grade", root, "--out", out, *COURSE, "-q")  # the reports are no student
    assert "Students: 5 (0 graded now" in result.stdout and not (out / "reports").exists()


def test_a_flat_folder_of_lms_downloads(cli, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    shutil.copy(EXAMPLES / "correct" / "optim.py", downloads / "doejane_12345_67890_optim.py")
    shutil.copy(EXAMPLES / "mistaken" / "optim.py",
                downloads / "smithsam_LATE_222_501_optim.py")
    (downloads / "notes.txt").write_text("not a submission")
    result = cli("grade", downloads, "--lms-downloads", "--assignment", "optim", "--out",
                 tmp_path / "out", *COURSE, "-q")
    assert "Students: 2 (2 graded now" in result.stdout
    assert "Not graded: notes.txt: its name is not one Canvas or Moodle gives to a downloaded " \
           "submission" in result.stderr
    book = pd.read_csv(tmp_path / "out" / "gradebook.csv").set_index("student")
    assert [c for c in book.columns if "." in c] == [  # the homework graded, and no other
        "optim.gd_quadratic", "optim.nesterov_quadratic", "optim.momentum_from_running_average",
        "optim.running_average", "optim.bias_corrected"]
    assert book.loc["doejane", "total"] == book.loc["doejane", "max"] == 7
    assert book.loc["doejane", "optim.gd_quadratic"] == 2
    assert book.loc["smithsam", "optim.bias_corrected"] == 0
    result = cli("grade", downloads, "--out", tmp_path / "other", *COURSE, expect=2)
    assert "has no student subdirectory or zip" in result.stderr
    result = cli("grade", downloads, "--lms-downloads", "--assignment", "optim", "--out",
                 tmp_path / "jobs", *COURSE, "-q", "--jobs", "3")
    assert result.stderr.count("Not graded: notes.txt") == 1  # not once per process


def test_files_beside_the_students_folders_are_said_not_graded(cli, tmp_path):
    """A class folder holding, besides a student's folder, files a student may have meant as
    a submission (a download from Canvas, a stray file): each is listed, the first with the
    option that grades it; a student's folder full of saved figures still has its homework
    found."""
    root = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", root / "ana")
    for index in range(250):  # named to sort before optim.py
        (root / "ana" / f"Figure_{index:03d}.png").write_bytes(b"\x89PNG")
    shutil.copy(EXAMPLES / "correct" / "optim.py", root / "doejane_12345_67890_optim.py")
    (root / "stray.txt").write_text("notes")
    (root / ".DS_Store").write_bytes(b"\0")
    result = cli("grade", root, "--assignment", "optim", "--out", tmp_path / "out", *COURSE,
                 "-q")
    assert "Students: 1 (1 graded now" in result.stdout
    assert "Not graded: doejane_12345_67890_optim.py: a file named as Canvas or Moodle names " \
           "a downloaded submission: grade a folder of such downloads with --lms-downloads" \
           in result.stderr
    assert "Not graded: stray.txt: a file, not a student's folder or zip" in result.stderr
    assert ".DS_Store" not in result.stderr
    book = pd.read_csv(tmp_path / "out" / "gradebook.csv").set_index("student")
    assert book.loc["ana", "total"] == book.loc["ana", "max"] == 7


def test_export_for_canvas_and_moodle(cli, klass, tmp_path, graded):
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, *COURSE, "-q")
    roster = ROOT / "examples" / "roster.csv"  # the example class's roster, as in the README
    result = cli("export", "--lms", "canvas", "--roster", roster, "--out",
                 tmp_path / "canvas.csv", "--assignment-name", "HW 1", out)
    maximum = graded["correct"].max_score
    lines = (tmp_path / "canvas.csv").read_text().splitlines()
    assert lines[:2] == ["Student,ID,SIS User ID,SIS Login ID,Section,HW 1",
                         f"Points Possible,,,,,{maximum:g}"]
    assert f'"Lovelace, Ada",7002,s1002,correct,Section B,{maximum:g}' in lines
    mistaken = round(graded["mistaken"].score, 2)
    assert f'"Hinton, Geoffrey",7017,s1017,mistaken,Section A,{mistaken:g}' in lines
    assert len(lines) == 5  # header, points and the three students of the roster
    assert "Not in the roster, left out: zz_script" in result.stderr
    assert "No submission, left out: Noether, Emmy (s1099)" in result.stderr
    cli("export", "--lms", "moodle", "--roster", roster, "--out", tmp_path / "moodle.csv",
        "--points", 100, out)
    lines = (tmp_path / "moodle.csv").read_text().splitlines()
    assert lines[0] == "Full name,ID number,Email address,Username,out"
    assert '"Lovelace, Ada",s1002,,correct,100' in lines
    result = cli("export", "--lms", "canvas", "--roster", roster, "--out", tmp_path / "x.csv",
                 tmp_path, expect=2)
    assert "has no gradebook.csv: run grader grade" in result.stderr
    other = tmp_path / "other-roster.csv"  # another class's: no student matches a row
    other.write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"Doe, Jane",1,s1,jdoe,A\n')
    result = cli("export", "--lms", "canvas", "--roster", other, "--out",
                 tmp_path / "none.csv", out, expect=2)
    assert f"none of the {len(graded_rows(out))} students of {out} matches a row of " \
           f"{other}" in result.stderr and "--lms-downloads" in result.stderr
    assert not (tmp_path / "none.csv").exists()


def test_export_one_column_per_assignment_of_a_course_graded_at_once(cli, klass, tmp_path):
    out, roster = tmp_path / "out", ROOT / "examples" / "roster.csv"
    cli("grade", klass, "--out", out, *COURSE, "-q")
    course = load_course(PROBLEMS, REFERENCE)
    maxima = {name: sum(p.points for p in course.assignments[name].problems)
              for name in ("rnn", "optim")}
    result = cli("export", "--lms", "canvas", "--roster", roster, "--out", tmp_path / "c.csv",
                 "--assignment", "rnn", "--assignment", "optim", *COURSE, out)
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert lines[:2] == ["Student,ID,SIS User ID,SIS Login ID,Section,optim,rnn",  # course order
                         f"Points Possible,,,,,{maxima['optim']:g},{maxima['rnn']:g}"]
    assert f'"Lovelace, Ada",7002,s1002,correct,Section B,{maxima["optim"]:g},' \
           f'{maxima["rnn"]:g}' in lines
    book = pd.read_csv(out / "gradebook.csv").set_index("student")
    mistaken = [round(book.loc["mistaken", [c for c in book if c.startswith(f"{name}.")]].sum(), 2)
                for name in ("optim", "rnn")]
    assert f'"Hinton, Geoffrey",7017,s1017,mistaken,Section A,{mistaken[0]:g},' \
           f'{mistaken[1]:g}' in lines
    assert f"out of {maxima['optim']:g} points (optim), {maxima['rnn']:g} points (rnn)" \
        in result.stdout
    cli("export", "--lms", "moodle", "--roster", roster, "--out", tmp_path / "m.csv",
        "--assignment", "optim", "--assignment-name", "HW 2", "--points", 70, *COURSE, out)
    lines = (tmp_path / "m.csv").read_text().splitlines()
    assert lines[0] == "Full name,ID number,Email address,Username,HW 2"
    assert '"Lovelace, Ada",s1002,,correct,70' in lines
    both = cli("export", "--lms", "canvas", "--roster", roster, "--out", tmp_path / "x.csv",
               "--assignment", "rnn", "--assignment", "optim", "--points", 10, *COURSE, out,
               expect=2)
    assert "one --assignment at a time" in both.stderr
    unknown = cli("export", "--lms", "canvas", "--roster", roster, "--out", tmp_path / "x.csv",
                  "--assignment", "nope", *COURSE, out, expect=2)
    assert "has no assignment 'nope'" in unknown.stderr
    only_optim = tmp_path / "optim-only"
    cli("grade", klass, "--out", only_optim, "--assignment", "optim", *COURSE, "-q")
    absent = cli("export", "--lms", "canvas", "--roster", roster, "--out", tmp_path / "x.csv",
                 "--assignment", "rnn", *COURSE, only_optim, expect=2)
    assert "the gradebook has no score for rnn.cross_entropy" in absent.stderr
    assert "Traceback" not in both.output + unknown.output + absent.output
    assert not (tmp_path / "x.csv").exists()


def graded_rows(out):
    return pd.read_csv(out / "gradebook.csv")["student"].tolist()


def test_export_matches_folders_named_as_the_roster_names_students(cli, tmp_path):
    """Folders named "Last, First" (or with an apostrophe) keep their names, so the roster
    finds them by name."""
    klass = tmp_path / "class"
    for folder in ("Lovelace, Ada", "O'Brien, Pat"):
        (klass / folder).mkdir(parents=True)
        shutil.copy(EXAMPLES / "correct" / "optim.py", klass / folder)
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n"
                      '"Lovelace, Ada",7002,s1002,alove,A\n"O\'Brien, Pat",7005,s1005,pobri,A\n')
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, "--assignment", "optim", *COURSE, "-q")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["Lovelace, Ada",
                                                                    "O'Brien, Pat"]
    result = cli("export", "--lms", "canvas", "--roster", roster, "--out", tmp_path / "c.csv",
                 out)
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert '"Lovelace, Ada",7002,s1002,alove,A,7' in lines
    assert '"O\'Brien, Pat",7005,s1005,pobri,A,7' in lines
    assert "left out" not in result.stderr


def _png_colours(path: Path) -> Counter:
    """The colours of a PNG's pixels (8-bit RGB or RGBA, not interlaced, as Chromium writes)."""
    data = path.read_bytes()
    chunks, position = {}, 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunks.setdefault(kind, []).append(data[position + 8:position + 8 + length])
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride = width * channels
    previous = bytearray(stride)
    colours = Counter()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                estimate = left + up - corner
                near = min((abs(estimate - left), 0, left), (abs(estimate - up), 1, up),
                           (abs(estimate - corner), 2, corner))
                line[i] = (line[i] + near[2]) & 255
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, channels))
        previous = line
    return colours


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _browse(url: str, tmp_path: Path, *extra) -> str:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=2000"]
    return subprocess.run([CHROMIUM, *flags, *extra, url], capture_output=True, text=True,
                          timeout=60).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs "
                    "Debian's chromium package where apt-get is available)")
def test_pages_in_a_real_browser(cli, klass, tmp_path, graded):
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, *COURSE, "-q")
    total = f"{graded['correct'].score - 1:g} / {graded['correct'].max_score:g}"
    report = (out / "zz_script" / "report.html").as_uri()
    dom = _browse(report, tmp_path, "--dump-dom")
    # the injected script did not run: it would have replaced the title and the whole body
    assert f"<title>zz_script: {total}</title>" in dom and "<h1>Report for zz_script</h1>" in dom
    assert f'id="total">Total: {total}<' in dom
    assert XSS in dom.replace("&lt;", "<").replace("&gt;", ">")  # shown as text
    dom = _browse((out / "index.html").as_uri(), tmp_path, "--dump-dom")
    assert "4 students, mean score" in dom
    assert f">Score (points, out of a maximum of {graded['correct'].max_score:g})</text>" in dom
    assert ">Students</text>" in dom
    dom = _browse((out / "syntax_error" / "report.html").as_uri(), tmp_path, "--dump-dom")
    # in full once, at the top, and in a line for each case (the loose optim.py defines no
    # function of the cs231n package, so the package does not take it as its own)
    assert dom.count("Fix the syntax error") == 1
    assert dom.count("(a problem with the whole file, shown at the top)") > 20
    shots = {"report": (out / "mistaken" / "report.html").as_uri(),
             "index": (out / "index.html").as_uri()}
    colours = {}
    for name, page in shots.items():
        shot = tmp_path / f"{name}.png"
        _browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1000,2400")
        assert shot.stat().st_size > 10_000
        colours[name] = _png_colours(shot)
        if os.environ.get("GRADER_SCREENSHOTS"):  # keep them to look at
            shutil.copy(shot, Path(os.environ["GRADER_SCREENSHOTS"]) / shot.name)
    # the student's table shows passed, partial and failed problems, each in its own colour
    for rgb in ((0x17, 0x70, 0x2b), (0xa1, 0x5c, 0x00), (0xb3, 0x26, 0x1e)):
        assert colours["report"][bytes(rgb)] > 20, rgb
    assert colours["index"][bytes((0x3b, 0x6f, 0xb6))] > 500  # the histogram's bars


def test_shards_partition_the_class_stably():
    from grader.batch.plan import in_shard
    names = [f"student{i:03d}" for i in range(300)] + ["José", "=HYPERLINK(1)"]
    for count in (1, 2, 7):
        owners = [[k for k in range(count) if in_shard(name, (k, count))] for name in names]
        assert all(len(found) == 1 for found in owners)  # each student in exactly one shard
    sizes = [sum(in_shard(n, (k, 7)) for n in names) for k in range(7)]
    assert min(sizes) > 20  # spread out, not all in one shard


def test_shards_and_processes_give_the_same_class_as_one_run(cli, klass, tmp_path):
    cli("grade", klass, "--out", tmp_path / "one", *COURSE, "-q", "--jobs", "1")
    cli("grade", klass, "--out", tmp_path / "two", *COURSE, "-q", "--jobs", "2")
    for k in (1, 2, 3):
        result = cli("grade", klass, "--out", tmp_path / f"shard{k}", *COURSE, "-q",
                     "--shard", f"{k}/3")
        assert f"Shard {k}/3:" in result.stdout
        assert not (tmp_path / f"shard{k}" / "gradebook.csv").exists()  # merge writes it
    shards = [tmp_path / f"shard{k}" for k in (1, 2, 3)]
    assert sum(len(list(s.glob("*/grade.json"))) for s in shards) == 4
    result = cli("merge", *shards, "--out", tmp_path / "merged", *COURSE)
    assert "Merged 3 output folders: 4 students." in result.stdout
    book = (tmp_path / "one" / "gradebook.csv").read_text()
    assert (tmp_path / "two" / "gradebook.csv").read_text() == book
    assert (tmp_path / "merged" / "gradebook.csv").read_text() == book
    assert (tmp_path / "merged" / "common-wrong-answers.csv").read_text() == \
        (tmp_path / "one" / "common-wrong-answers.csv").read_text()


def test_merge_refuses_an_incomplete_or_mixed_set_of_shards(cli, klass, tmp_path):
    """Each shard marks its folder once it is done; merge wants every shard of one split of
    one course, unless told --partial."""
    for k in (1, 2, 3):
        cli("grade", klass, "--out", tmp_path / f"shard{k}", *COURSE, "-q", "--shard", f"{k}/3")
    assert (tmp_path / "shard2" / ".grader-shard-2-of-3.json").is_file()
    result = cli("merge", tmp_path / "shard1", tmp_path / "shard2", "--out", tmp_path / "m",
                 *COURSE, expect=2)
    assert "Not merged: shard 3/3 is missing: not given, or not done" in result.stderr
    assert not (tmp_path / "m").exists()
    cli("merge", tmp_path / "shard1", tmp_path / "shard2", "--out", tmp_path / "m", *COURSE,
        "--partial")
    cli("grade", klass, "--out", tmp_path / "half", *COURSE, "-q", "--shard", "1/2")
    result = cli("merge", tmp_path / "shard1", tmp_path / "shard2", tmp_path / "shard3",
                 tmp_path / "half", "--out", tmp_path / "m2", *COURSE, expect=2)
    assert "different splits of the class (into 2 and 3)" in result.stderr
    cli("grade", klass, "--out", tmp_path / "optim3", *COURSE, "-q", "--shard", "3/3",
        "--assignment", "optim")
    result = cli("merge", tmp_path / "shard1", tmp_path / "shard2", tmp_path / "optim3",
                 "--out", tmp_path / "m3", *COURSE, expect=2)
    assert "graded on different courses or assignments" in result.stderr


def test_class_files_are_the_same_however_the_students_were_summarised(cli, course, tmp_path):
    """Students are summarised as they are graded (in one process or in two), kept from an
    earlier run, or read back when their submission is gone: the class files are those written
    from every grade.json."""
    root = tmp_path / "class"
    for name in ("mistaken", "mistaken2", "mistaken3", "rounded", "correct"):
        shutil.copytree(EXAMPLES / name.rstrip("23"), root / name)
    cli("grade", root, "--out", tmp_path / "one", *COURSE, "-q", "--jobs", "1")
    cli("grade", root, "--out", tmp_path / "two", *COURSE, "-q", "--jobs", "2")
    for name in batch.CLASS_FILES:
        assert (tmp_path / "two" / name).read_text() == (tmp_path / "one" / name).read_text()
    common = pd.read_csv(tmp_path / "one" / "common-wrong-answers.csv")
    assert common["students"].str.contains("mistaken; mistaken2; mistaken3").any()

    shutil.rmtree(root / "rounded")  # its submission is gone, its results stay
    shutil.copyfile(root / "correct" / "optim.py", root / "mistaken3" / "optim.py")
    result = cli("grade", root, "--out", tmp_path / "two", *COURSE, "-q", "--jobs", "2")
    assert "Students: 5 (1 graded now" in result.stdout
    assert "3 unchanged since the last run, 1 no longer in the submissions folder)" \
        in result.stdout
    assert "no longer in the submissions folder (delete their folders in " in result.stdout
    assert result.stdout.split("to drop them): ")[1].splitlines()[0] == "rounded"
    written = {name: (tmp_path / "two" / name).read_text() for name in batch.CLASS_FILES}
    assert "rounded" in written["gradebook.csv"] and written != {
        name: (tmp_path / "one" / name).read_text() for name in batch.CLASS_FILES}
    batch.write_class(tmp_path / "two", tolerance=course.tolerance_of)  # all from grade.json
    assert {name: (tmp_path / "two" / name).read_text() for name in batch.CLASS_FILES} == written


def test_a_class_is_graded_on_every_core_unless_told_otherwise(klass, tmp_path, monkeypatch):
    from grader.batch import runner

    class Forked(Exception):
        pass

    def forking(options, engine, jobs, *others):
        raise Forked(jobs)

    monkeypatch.setattr(runner, "_in_processes", forking)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 8)  # the machine's, not this process's
    monkeypatch.setattr(runner.os, "sched_getaffinity", lambda pid: {0, 2, 5})
    with pytest.raises(Forked) as forked:  # the same default as `grader grade --jobs`
        runner.grade_folder(submissions=klass, out=tmp_path / "out", problems_dir=PROBLEMS,
                            reference_dir=REFERENCE)
    assert forked.value.args == (3,)


def test_the_core_each_grading_process_keeps_to():
    from grader.batch.cores import core_of
    assert [core_of((k, 2), [0, 1]) for k in range(2)] == [0, 1]
    assert [core_of((k, 5), [3, 6]) for k in range(5)] == [3, 6, 3, 6, 3]  # more than cores
    assert core_of((0, 2), [0, 1, 2, 3]) is None  # fewer: a process and its child overlap
    assert core_of((0, 1), [0, 1]) is None
    assert core_of((0, 3), [4]) is None  # one core: nothing to choose


def test_each_grading_process_and_its_sandbox_keep_to_a_core_of_their_own(klass, tmp_path,
                                                                          monkeypatch):
    """With a process per core, each grading process and its zygote (whose children it forks
    inherit its affinity and policy) run on one core, a different one for each process, as
    batch work."""
    from grader.batch import runner
    cores, policy = sorted(os.sched_getaffinity(0)), os.sched_getscheduler(0)
    if len(cores) < 2:
        pytest.skip("one core: nothing to pin")
    seen = tmp_path / "seen"
    seen.mkdir()
    original = runner._grade_shard

    def grade_shard(engine, **options):  # runs in each forked grading process
        zygote = options["started"][0].pid
        (seen / str(options["part"][0])).write_text(json.dumps(
            [sorted(os.sched_getaffinity(0)), sorted(os.sched_getaffinity(zygote)),
             os.sched_getscheduler(0), os.sched_getscheduler(zygote)]))
        return original(engine, **options)

    monkeypatch.setattr(runner, "_grade_shard", grade_shard)
    run = runner.grade_folder(submissions=klass, out=tmp_path / "out", problems_dir=PROBLEMS,
                              reference_dir=REFERENCE, jobs=len(cores))
    assert run.graded == 4
    found = {int(p.name): json.loads(p.read_text()) for p in seen.iterdir()}
    batch = os.SCHED_BATCH
    assert found == {k: [[core], [core], batch, batch] for k, core in enumerate(cores)}
    assert sorted(os.sched_getaffinity(0)) == cores  # the command itself is left as it was
    assert os.sched_getscheduler(0) == policy


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_class_files_read_back_only_students_not_graded_now(klass, tmp_path, monkeypatch,
                                                                jobs):
    """The students graded in a run reach the class files from memory; only those kept from an
    earlier run, or whose submission is gone, are read back from their grade.json."""
    from grader.batch import runner
    read = []
    original = batch.stored_results

    def stored_results(out, *, besides=()):
        for result in original(out, besides=besides):
            read.append(result.student)
            yield result

    monkeypatch.setattr(batch, "stored_results", stored_results)
    options = dict(submissions=klass, out=tmp_path / "out", problems_dir=PROBLEMS,
                   reference_dir=REFERENCE, jobs=jobs)
    run = runner.grade_folder(**options)
    assert run.graded == 4 and read == []
    assert [s["name"] for s in run.students] == ["correct", "mistaken", "syntax_error",
                                                 "zz_script"]
    shutil.rmtree(klass / "syntax_error")
    shutil.copyfile(klass / "correct" / "optim.py", klass / "mistaken" / "optim.py")
    run = runner.grade_folder(**options)
    assert (run.graded, run.kept) == (1, 2) and read == ["syntax_error"]
    assert len(run.students) == 4 and run.gone == ["syntax_error"]


def test_a_zygote_started_before_the_imports_grades_the_class_or_ends(cli, klass, tmp_path,
                                                                        monkeypatch):
    """`grader grade --shard` starts its sandbox's zygote before its own slow imports: the
    sandbox adopts it (none other is started), and it ends with the run, also when nothing is
    graded."""
    from grader.sandbox import host, launch
    started = []

    def start_early():
        started.append(real_start())
        return started[-1]

    def start_late():
        raise AssertionError("the sandbox started a zygote of its own")

    real_start = launch.start_zygote
    monkeypatch.setattr(launch, "start_zygote", start_early)
    monkeypatch.setattr(host, "start_zygote", start_late)
    for jobs in ("1", "2"):
        result = cli("grade", klass, "--out", tmp_path / "out", *COURSE, "-q", "--force",
                     "--jobs", jobs, "--shard", "1/1")
        assert "4 graded now" in result.stdout
    result = cli("grade", klass, "--out", tmp_path / "out", *COURSE, "-q", "--shard", "1/1")
    assert "0 graded now" in result.stdout and len(started) == 3
    monkeypatch.setattr(host, "start_zygote", real_start)  # a whole class: started as it was
    cli("grade", klass, "--out", tmp_path / "whole", *COURSE, "-q", "--jobs", "1")
    assert len(started) == 3
    result = cli("grade", klass, "--out", tmp_path / "out", *COURSE, "--shard", "1/1",
                 "--assignment", "nonesuch", expect=2)
    assert "nonesuch" in result.stderr
    assert len(started) == 4 and all(process.poll() is not None for process, _ in started)


def test_a_copied_student_folder_in_the_output_is_listed_once(cli, klass, tmp_path):
    """An instructor's backup copy of a student's output folder (its grade.json names the same
    student) neither fails the run nor lists the student twice."""
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", "2")
    first = (out / "gradebook.csv").read_text()
    shutil.copytree(out / "mistaken", out / "mistaken-backup")
    for command in (("grade", klass, "--out", out, *COURSE, "-q", "--jobs", "2", "--force"),
                    ("merge", out, "--out", out, *COURSE)):
        cli(*command)
        assert (out / "gradebook.csv").read_text() == first


def test_a_grading_process_that_dies_is_a_failure_not_a_hang(cli, klass, tmp_path,
                                                              monkeypatch):
    """A worker that ends without a word (killed for memory, say) fails the run with a sentence
    once the others are done, instead of leaving the grader waiting for it forever."""
    from grader.batch import runner
    real = runner._grade_shard

    def dying(engine, *, part, **options):
        if part == (1, 2):
            os._exit(9)
        return real(engine, part=part, **options)

    monkeypatch.setattr(runner, "_grade_shard", dying)
    result = cli("grade", klass, "--out", tmp_path / "out", *COURSE, "-q", "--jobs", "2",
                 expect=3)
    assert "Grading stopped: a grading process ended before finishing its part of the class " \
        "(exit codes [0, 9]" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_shard_is_a_usage_error(cli, klass, tmp_path):
    result = cli("grade", klass, "--out", tmp_path / "out", *COURSE, "--shard", "3/2",
                 expect=2)
    assert "K must be from 1 to N" in result.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_grading_refuses_a_weak_sandbox_unless_allowed(cli, klass, tmp_path, monkeypatch, jobs):
    from grader.sandbox.host import Sandbox
    gap = "signals (no signals to other processes) is OFF: landlock: not here"
    monkeypatch.setattr(Sandbox, "gaps", property(lambda self: [gap]))
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", jobs, expect=4)
    assert "Refusing to grade other people's code" in result.stderr and gap in result.stderr
    assert not list(out.glob("*/grade.json"))
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", jobs,
                 "--allow-weak-sandbox")
    assert f"Warning: graded with a weaker sandbox: {gap}" in result.stderr
    assert len(list(out.glob("*/grade.json"))) == 4


def test_the_self_check_warns_of_a_weak_sandbox(cli, monkeypatch):
    from grader.sandbox.host import Sandbox
    monkeypatch.setattr(Sandbox, "gaps", property(lambda self: ["network is OFF: test"]))
    result = cli("check", EXAMPLES / "correct", *COURSE, "--problem", "rnn.cross_entropy")
    assert "Warning: the sandbox is weaker here: network is OFF: test" in result.stderr


def test_any_folder_name_becomes_a_safe_output_folder(cli, tmp_path):
    klass = tmp_path / "class"
    names = ["gradebook.csv", "index.html", "=HYPERLINK(1)", "a b$c\\d", "Alice"]
    for name in names:
        shutil.copytree(EXAMPLES / "correct", klass / name)
    os.makedirs(os.fsencode(klass) + b"/caf\xe9")  # not UTF-8
    for file in (EXAMPLES / "correct").glob("*.py"):
        shutil.copyfile(file, os.fsencode(klass) + b"/caf\xe9/" + file.name.encode())
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--assignment", "rnn")
    assert "Students: 6 (6 graded now" in result.stdout
    assert (out / "gradebook.csv").is_file() and (out / "index.html").is_file()
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 6 and all((p / "grade.json").is_file() for p in folders)
    assert "Alice" in {p.name for p in folders}
    book = pd.read_csv(out / "gradebook.csv", dtype=str)
    assert not book.student.str.startswith(("=", "+", "-", "@")).any()


def test_class_files_are_readable_as_any_file_written(cli, klass, tmp_path):
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, *COURSE, "-q", "--assignment", "rnn")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("gradebook.csv", "index.html", "common-wrong-answers.csv",
                 "correct/grade.json"):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_the_collector_is_spaced_while_grading_and_put_back_after():
    import gc
    from grader.batch import runner
    before = gc.get_threshold()
    with pytest.raises(KeyboardInterrupt):
        with runner._spaced_collections():
            assert gc.get_threshold()[0] == runner.GC_THRESHOLD != before[0]
            raise KeyboardInterrupt
    assert gc.get_threshold() == before
    gc.unfreeze()


def test_the_processes_of_one_machine_take_equal_parts_of_the_class(tmp_path, monkeypatch):
    """A machine's processes split the class by position (every n-th student), so they end
    together; a shard's stable hash of names, meant for several machines, would not split
    this class evenly."""
    from grader.batch import plan, runner
    names = [f"s{index:02d}" for index in range(40)]
    names = [n for n in names if plan.in_shard(n, (0, 2))][:6] \
        + [n for n in names if plan.in_shard(n, (1, 2))][:2]  # a 6 / 2 split by hash
    root = tmp_path / "class"
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "optim.py").write_text("")
    real = runner._grade_chunks

    def recording(engine, todo, *args, **options):
        (tmp_path / f"part-{os.getpid()}").write_text(" ".join(todo))
        return real(engine, todo, *args, **options)

    monkeypatch.setattr(runner, "_grade_chunks", recording)
    run = runner.grade_folder(submissions=root, out=tmp_path / "out", problems_dir=PROBLEMS,
                              reference_dir=REFERENCE, jobs=2, assignments=["optim"])
    parts = [path.read_text().split() for path in tmp_path.glob("part-*")]
    assert run.graded == 8 and sorted(map(len, parts)) == [4, 4]
    assert sorted(sum(parts, [])) == sorted(names)


def test_a_hidden_student_folder_or_zip_is_said_not_graded(cli, tmp_path):
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", klass / "alice")
    shutil.copytree(EXAMPLES / "correct", klass / ".carol")
    _zip_folder(EXAMPLES / "correct", klass / ".dave.zip", "hw")
    (klass / ".git").mkdir()  # a tool's, said nothing of
    result = cli("grade", klass, "--out", tmp_path / "out", "--assignment", "rnn", *COURSE, "-q")
    assert "Students: 1 (1 graded now" in result.stdout
    assert "Not graded: .carol: a hidden folder (its name starts with a dot): rename it if it " \
        "is a student's" in result.stderr
    assert "Not graded: .dave.zip: a hidden zip (its name starts with a dot)" in result.stderr
    assert ".git" not in result.stderr
    hidden_out = klass / ".reports"  # an output folder inside, hidden: never said not graded
    for _ in range(2):
        result = cli("grade", klass, "--out", hidden_out, "--assignment", "rnn", *COURSE, "-q")
        assert ".reports" not in result.stderr
