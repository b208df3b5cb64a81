"""The pytest plugin: items per problem, results in memory, results.json following the
Gradescope specification, and no effect without --submission."""
import json
from pathlib import Path

import jsonschema
import pytest

from grader.pytest_plugin.plugin import session_of

from conftest import EXAMPLES, PROBLEMS, REFERENCE

SCHEMA = json.loads((Path(__file__).parent / "gradescope_schema.json").read_text())


def _nulls(value):
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_nulls(v) for v in value.values())
    if isinstance(value, list):
        return any(_nulls(v) for v in value)
    return False


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
    assert not _nulls(data)
    assert len(data["tests"]) == 23
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
