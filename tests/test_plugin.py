"""The pytest plugin: items per problem, results in memory, results.json following the
Gradescope specification, and no effect without --submission."""
import json
import os
import shutil
import subprocess
import sys

import jsonschema
import pytest

from grader.pytest_plugin.plugin import session_of

from conftest import EXAMPLES, PROBLEMS, REFERENCE, ROOT, SCHEMA, has_nulls



class Keep:
    state = None

    def pytest_sessionfinish(self, session):
        self.state = session_of(session.config)


def run(*args):
    keep = Keep()
    code = pytest.main(["-p", "no:cacheprovider", "-q", "--grader-problems", str(PROBLEMS),
                        "--grader-reference", str(REFERENCE), *map(str, args)], plugins=[keep])
    return code, keep.state


@pytest.mark.parametrize("student", ["correct", "mistaken", "syntax_error", "liar"])
def test_results_json_follows_the_spec(tmp_path, student, graded):
    out = tmp_path / "results.json"
    code, state = run("--submission", EXAMPLES / student, "--grader-results", out)
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert not has_nulls(data)
    assert len(data["tests"]) == 44
    assert all(t["name"].startswith(t["name"].split(" ")[0]) for t in data["tests"])
    # the same score as the grading core gives directly
    assert data["score"] == graded[student].score
    assert code == (0 if student == "correct" else 1)
    assert state.results[student].score == data["score"]
    assert isinstance(data["execution_time"], float)


def test_items_are_named_by_problem_id(tmp_path):
    code, state = run("--submission", EXAMPLES / "mistaken", "--grader-problem",
                      "optim.bias_corrected", "--grader-problem", "rnn.cross_entropy")
    assert code == 1
    assert state.outcomes == {"optim.bias_corrected": "failed", "rnn.cross_entropy": "passed"}


def test_several_submissions_get_one_item_per_student_and_problem():
    code, state = run("--submission", EXAMPLES / "correct", "--submission", EXAMPLES / "raises",
                      "--grader-problem", "rnn.bptt_grads", "--grader-public-only")
    assert state.outcomes == {"rnn.bptt_grads[correct]": "passed",
                              "rnn.bptt_grads[raises]": "failed"}


def test_a_folder_name_with_control_characters_is_shown_escaped(tmp_path):
    evil = tmp_path / "evil\x1b]0;PWNED\x07\x1b[2J"
    shutil.copytree(EXAMPLES / "correct", evil)
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-p",
         "no:cacheprovider", "-v", "--submission", str(evil), "--submission",
         str(EXAMPLES / "raises"), "--grader-problem", "rnn.cross_entropy",
         "--grader-public-only"], cwd=ROOT, capture_output=True, text=True)
    assert "rnn.cross_entropy[evil\\x1b]0;PWNED\\x07\\x1b[2J] PASSED" in process.stdout
    assert "\x1b" not in process.stdout + process.stderr


def test_a_class_graded_by_grader_grade_is_one_item_per_student(course, sandbox, graded):
    from grader.batch.runner import run_pytest
    from grader.engine import Engine
    from grader.pytest_plugin.session import GradingSession
    engine = Engine(course=course, sandbox=sandbox, hidden=True)
    students = {name: [EXAMPLES / name] for name in ("correct", "mistaken")}
    written = []
    state = GradingSession(engine=engine, students=students, per_student=True,
                           writer=lambda result, seconds: written.append(result))
    assert run_pytest(plugins=[state]) == 1  # a student with a failing problem fails
    assert state.outcomes == {"correct": "passed", "mistaken": "failed"}
    assert [r.student for r in written] == ["correct", "mistaken"]
    for result in written:  # every problem graded, as the grading core grades it
        assert len(result.problems) == 44 and result.score == graded[result.student].score


def test_a_grading_session_loads_only_the_plugins_it_uses(course, sandbox, tmp_path,
                                                         monkeypatch):
    """No plugin an installed package declares by entry point, and none of pytest's own that
    grading has no use for; a plugin named in PYTEST_PLUGINS (the instructor's, to adjust
    results through the grader's hook) takes part."""
    from grader.batch.runner import run_pytest
    from grader.engine import Engine
    from grader.pytest_plugin.session import GradingSession
    (tmp_path / "installed_plugin.py").write_text(
        "LOADED = []\n"
        "def pytest_configure(config):\n    LOADED.append(config)\n")
    (tmp_path / "named_plugin.py").write_text(
        "def pytest_grader_submission_graded(result, config):\n"
        "    result.problems[0].max_points *= 2\n")
    info = tmp_path / "installed_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: installed-plugin\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\ninstalled = installed_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    import installed_plugin
    seen = {}

    class Probe(GradingSession):
        def pytest_configure(self, config):
            super().pytest_configure(config)
            seen["loaded"] = {name for name, plugin in config.pluginmanager.list_name_plugin()
                              if plugin is not None}  # a blocked one is listed as None

    def session():
        engine = Engine(course=course, sandbox=sandbox, hidden=False,
                        problems=["rnn.cross_entropy"])
        return Probe(engine=engine, students={"correct": [EXAMPLES / "correct"]},
                     per_student=True)

    probe = session()
    assert run_pytest(plugins=[probe]) == 0 and probe.outcomes == {"correct": "passed"}
    assert probe.results["correct"].problems[0].points == 1
    assert installed_plugin.LOADED == [] and "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in os.environ
    assert {"junitxml", "debugging", "unittest", "doctest"}.isdisjoint(seen["loaded"])
    assert "grader.pytest_plugin.plugin" in seen["loaded"]
    import pytest as real_pytest  # the entry point is found: pytest would load it by itself
    real_pytest.main(["-p", "no:cacheprovider", "-q", "--co", str(tmp_path / "none")])
    assert len(installed_plugin.LOADED) == 1
    monkeypatch.setenv("PYTEST_PLUGINS", "named_plugin")
    probe = session()
    assert run_pytest(plugins=[probe]) == 0
    assert probe.results["correct"].problems[0].points == 2  # the named plugin's hook ran


def test_a_hook_may_adjust_results_before_they_are_written(tmp_path):
    class HalfMarks:
        def pytest_grader_submission_graded(self, result, config):
            for problem in result.problems:
                problem.max_points *= 2

    out = tmp_path / "results.json"
    pytest.main(["-p", "no:cacheprovider", "-q", "--grader-problems", str(PROBLEMS),
                 "--grader-reference", str(REFERENCE), "--submission", str(EXAMPLES / "correct"),
                 "--grader-problem", "rnn.cross_entropy", "--grader-results", str(out)], plugins=[HalfMarks()])
    test = json.loads(out.read_text())["tests"][0]
    assert test["max_score"] == 2.0 and test["score"] == 2.0


def test_plugin_is_inert_without_submission(pytester):
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_bad_submission_path_is_a_usage_error(tmp_path):
    code, state = run("--submission", tmp_path / "nobody-here")
    assert code == pytest.ExitCode.USAGE_ERROR and state is None


def test_k_selects_problems_and_only_those_are_graded():
    code, state = run("--submission", EXAMPLES / "mistaken", "-k", "cross_entropy or gd_quad",
                      "--grader-public-only")
    assert set(state.outcomes) == {"rnn.cross_entropy", "optim.gd_quadratic"}
    (result,) = state.results.values()
    assert sorted(p.problem_id for p in result.problems) == ["optim.gd_quadratic",
                                                             "rnn.cross_entropy"]


def test_the_problems_are_collected_and_counted_as_tests_are(course, capsys):
    """pytest says how many items it collected and how many -k left out, as for test files."""
    code = pytest.main(["-p", "no:cacheprovider", "-q", "--collect-only", "--grader-problems",
                        str(PROBLEMS), "--grader-reference", str(REFERENCE), "--submission",
                        str(EXAMPLES / "mistaken"), "-k", "optim."])
    optim = sum(p.assignment == "optim" for p in course.problems)
    total = len(course.problems)
    assert code == 0
    assert f"{optim}/{total} tests collected ({total - optim} deselected)" \
        in capsys.readouterr().out


def test_deselect_and_marker_select_problems():
    code, state = run("--submission", EXAMPLES / "correct", "-m", "grader",
                      "--deselect", "rnn.cross_entropy", "--grader-public-only",
                      "-k", "rnn.")
    assert "rnn.cross_entropy" not in state.outcomes and "rnn.bptt_grads" in state.outcomes
    assert code == 0


def test_stopping_early_keeps_every_graded_student(tmp_path, capsys):
    out = tmp_path / "out"
    code, state = run("--submission", EXAMPLES / "mistaken", "--submission",
                      EXAMPLES / "correct", "--grader-out", out, "-x", "--grader-public-only")
    assert code == 1 and len(state.outcomes) < 23  # stopped at the first failure
    assert (out / "mistaken" / "grade.json").is_file()  # its files were written at once
    assert not (out / "correct").exists()  # never graded
    book = (out / "gradebook.csv").read_text().splitlines()
    assert len(book) == 2 and book[1].startswith("mistaken,")
    # the class files are the session's, written at its end and named in its summary
    said = capsys.readouterr().out
    assert all(f"generated file: {out / name}" in said
               for name in ("gradebook.csv", "common-wrong-answers.csv", "index.html"))
    assert state.written == [str(out / name) for name in
                             ("gradebook.csv", "common-wrong-answers.csv", "index.html")]


def test_xdist_is_refused_with_a_clear_message(pytester):
    pytester.makepyfile(fake_xdist="""
        def pytest_addoption(parser):
            parser.addoption("--numprocesses", dest="numprocesses", default=None)
        def pytest_configure(config):
            config.pluginmanager.register(object(), "xdist")
    """)  # a plugin given with -p: with --submission, no conftest.py is loaded
    result = pytester.runpytest_subprocess(
        "-p", "fake_xdist", "-p", "no:cacheprovider", "--numprocesses", "2", "--submission",
        str(EXAMPLES / "correct"),
        "--grader-problems", str(PROBLEMS), "--grader-reference", str(REFERENCE))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*grader does not run under pytest-xdist (-n)*"])


@pytest.mark.parametrize("config_file, text", [
    ("pytest.ini", "[pytest]\naddopts = --grader-public-only\n"),
    ("pyproject.toml", "[tool.pytest.ini_options]\naddopts = '--grader-public-only'\n"),
    ("tox.ini", "[pytest]\naddopts = --grader-public-only\n"),
    ("setup.cfg", "[tool:pytest]\naddopts = --grader-public-only\n"),
])
@pytest.mark.parametrize("form", ["separate", "joined"])
def test_a_submission_never_configures_the_grader(tmp_path, config_file, text, form):
    """Either pytest never read the submission's file, or the plugin refuses to run."""
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    (student / config_file).write_text(text)
    results = tmp_path / "results.json"
    option = ["--submission", str(student)] if form == "separate" else [f"--submission={student}"]
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *option,
         "--grader-problems", str(PROBLEMS), "--grader-reference", str(REFERENCE),
         "--grader-problem", "rnn.cross_entropy", "--grader-results", str(results)],
        cwd=student, capture_output=True, text=True)
    if process.returncode == pytest.ExitCode.USAGE_ERROR:
        assert "a submission never configures the grader" in process.stderr
        assert not results.exists()
    else:
        assert process.returncode == 0, process.stdout + process.stderr
        assert str(student) not in process.stdout  # neither rootdir nor configfile
        assert "hidden case" in json.loads(results.read_text())["tests"][0]["output"]


def test_a_config_file_read_from_a_submission_is_refused(tmp_path):
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    (student / "pytest.ini").write_text("[pytest]\n")
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--submission", "."
         , "--grader-problems", str(PROBLEMS), "--grader-reference", str(REFERENCE)],
        cwd=student, capture_output=True, text=True)
    assert process.returncode == pytest.ExitCode.USAGE_ERROR, process.stdout + process.stderr
    assert "a submission never configures the grader" in process.stderr


def _graded_with_the_course_config(student, results, cwd) -> dict:
    """The results.json of `pytest -c <the course's pyproject.toml> --submission student` on
    one problem, run from `cwd`."""
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-p",
         "no:cacheprovider", "--submission", str(student), "--grader-problems", str(PROBLEMS),
         "--grader-reference", str(REFERENCE), "--grader-problem", "rnn.cross_entropy",
         "--grader-results", str(results)], cwd=cwd, capture_output=True, text=True)
    assert process.returncode == 0, process.stdout + process.stderr
    return json.loads(results.read_text())


@pytest.mark.parametrize("where", ["the submission", "the folder pytest starts in"])
def test_no_conftest_runs_with_a_submission(tmp_path, where):
    """A conftest.py is code: pytest loads none when grading, so neither a submission's nor
    one in the folder the grader happens to be started from runs."""
    klass = tmp_path / "class"
    student = klass / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    marker = tmp_path / "conftest-ran"
    folder = student if where == "the submission" else klass
    (folder / "conftest.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    results = _graded_with_the_course_config(student, tmp_path / "results.json", folder)
    assert not marker.exists()
    assert results["tests"][0]["score"] > 0


def test_the_course_config_keeps_a_submission_config_unread(tmp_path):
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    (student / "pytest.ini").write_text("[pytest]\naddopts = --grader-public-only\n")
    results = _graded_with_the_course_config(student, tmp_path / "results.json", ROOT)
    assert "hidden case" in results["tests"][0]["output"]


def test_several_students_are_not_graded_in_a_weak_sandbox_unless_allowed(monkeypatch):
    from grader.sandbox.host import Sandbox
    monkeypatch.setattr(Sandbox, "gaps", property(lambda self: ["network is OFF: test"]))
    two = ["--submission", EXAMPLES / "correct", "--submission", EXAMPLES / "raises",
           "--grader-problem", "rnn.cross_entropy", "--grader-public-only"]
    code, state = run(*two)
    assert code == pytest.ExitCode.USAGE_ERROR and state is None
    code, state = run(*two, "--grader-allow-weak-sandbox")
    assert code == 0 and len(state.results) == 2
    code, state = run("--submission", EXAMPLES / "correct", "--grader-problem",
                      "rnn.cross_entropy")  # one student's own check: allowed
    assert code == 0
