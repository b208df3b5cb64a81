"""Batch grading (`grader grade`): outputs, agreement with the core and the plugin, resuming
after a kill, grader failures listed as such, escaping, and the pages in a real browser."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from grader.batch import outputs as batch

from conftest import EXAMPLES, PROBLEMS, REFERENCE

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


def test_a_killed_run_resumes_to_the_same_gradebook(cli, klass, tmp_path):
    shutil.copytree(EXAMPLES / "infinite_loop", klass / "b_slow")  # keeps the run busy
    command = [sys.executable, "-m", "grader.cli", "grade", str(klass), "--out",
               str(tmp_path / "killed"), "--jobs", "1", "-q", *map(str, COURSE)]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (tmp_path / "killed" / "b_slow" / "report.html").exists() and \
            not (tmp_path / "killed" / "correct" / "grade.json").exists():
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


def test_grader_failures_are_listed_not_zeroed(cli, klass, tmp_path, monkeypatch):
    from grader.engine import Engine
    real = Engine._answers

    def flaky(self, files, selected):
        if any(getattr(source, "parent", None) and source.parent.name == "mistaken"
               for source in files.values()):
            raise RuntimeError("disk on fire")
        return real(self, files, selected)

    monkeypatch.setattr(Engine, "_answers", flaky)
    out = tmp_path / "out"
    result = cli("grade", klass, "--out", out, *COURSE, "-q", "--jobs", "1", expect=3)
    assert "Grader failures (1)" in result.stdout
    assert "mistaken: RuntimeError: disk on fire" in result.stdout
    book = pd.read_csv(out / "gradebook.csv").fillna("")
    assert book[book.student == "mistaken"].grader_error.item() == "RuntimeError: disk on fire"
    assert "grader error" in (out / "index.html").read_text()
    monkeypatch.setattr(Engine, "_answers", real)
    result = cli("grade", klass, "--out", out, *COURSE, "-q")
    assert "Students: 4 (1 graded now" in result.stdout  # only the failed one is retried


def test_grade_rejects_a_folder_without_students(cli, tmp_path):
    result = cli("grade", tmp_path, "--out", tmp_path / "out", *COURSE, expect=2)
    assert "has no student subdirectory" in result.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _browse(url: str, tmp_path: Path, *extra) -> str:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=2000"]
    return subprocess.run([CHROMIUM, *flags, *extra, url], capture_output=True, text=True,
                          timeout=60).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs "
                    "Debian's chromium package where apt-get is available)")
def test_pages_in_a_real_browser(cli, klass, tmp_path):
    out = tmp_path / "out"
    cli("grade", klass, "--out", out, *COURSE, "-q")
    report = (out / "zz_script" / "report.html").as_uri()
    dom = _browse(report, tmp_path, "--dump-dom")
    # the injected script did not run: it would have replaced the title and the whole body
    assert "<title>zz_script: 35 / 36</title>" in dom and "<h1>Report for zz_script</h1>" in dom
    assert 'id="total">Total: 35 / 36<' in dom
    assert XSS in dom.replace("&lt;", "<").replace("&gt;", ">")  # shown as text
    dom = _browse((out / "index.html").as_uri(), tmp_path, "--dump-dom")
    assert "4 students, mean score" in dom
    for name, page in (("report", report), ("index", (out / "index.html").as_uri())):
        shot = tmp_path / f"{name}.png"
        _browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1000,1400")
        assert shot.stat().st_size > 10_000
        if os.environ.get("GRADER_SCREENSHOTS"):  # keep them to look at
            shutil.copy(shot, Path(os.environ["GRADER_SCREENSHOTS"]) / shot.name)
