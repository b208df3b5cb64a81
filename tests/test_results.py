"""The result model and its serialisations, without running pytest."""
import pytest

from grader.results.gradescope import to_gradescope
from grader.results.model import CaseResult, ProblemResult, SubmissionResult
from grader.results.rows import csv_rows
from grader.results.stored import from_dict, to_dict


@pytest.fixture
def result():
    return SubmissionResult("ada", [
        ProblemResult("optim.bias_corrected", 2.0, [
            CaseResult("public-1", "public", True),
            CaseResult("hidden-1", "hidden", False, "Known mistake: divide by (1 - beta**t)",
                       mistake="divide by (1 - beta**t)", output="hi\n"),
            CaseResult("hidden-2", "hidden", True)]),
        ProblemResult("rnn.cross_entropy", 1.0, grader_error="reference failed"),
    ])


def test_points_are_the_fraction_of_cases_passed(result):
    bias, broken = result.problems
    assert bias.points == pytest.approx(4 / 3) and not bias.passed
    assert broken.points == 0 and result.max_score == 3.0
    assert result.score == pytest.approx(4 / 3)


def test_gradescope_dict(result):
    data = to_gradescope(result, execution_time=1.23456,
                         visibility={"optim.bias_corrected": "after_due_date"})
    assert data["score"] == pytest.approx(4 / 3) and data["execution_time"] == 1.235
    bias, broken = data["tests"]
    assert bias["name"] == "optim.bias_corrected (2/3 cases)" and bias["status"] == "failed"
    assert bias["visibility"] == "after_due_date" and bias["tags"] == ["mistake"]
    assert "hidden case 'hidden-1': FAILED\n  Known mistake" in bias["output"]
    assert "  Your code printed:\n    hi" in bias["output"]
    assert "visibility" not in broken and "tags" not in broken  # absent, never null
    assert broken["output"].startswith("The grader itself failed on this problem")
    assert "output" not in data


def test_csv_rows(result):
    rows = csv_rows(result)
    assert [r["case"] for r in rows] == ["public-1", "hidden-1", "hidden-2"]
    assert rows[1]["mistake"] == "divide by (1 - beta**t)" and rows[1]["points"] == 0
    assert sum(r["points"] for r in rows) == pytest.approx(result.score, abs=1e-5)


def test_stored_results_read_back_identically(result):
    back = from_dict(to_dict(result))
    assert to_dict(back) == to_dict(result) and back.score == result.score


def test_a_student_copy_keeps_every_verdict_and_nothing_else_of_a_hidden_case(result):
    hidden = result.problems[0].cases[1]
    hidden.picture, hidden.answer, hidden.error_kind = {"caption": "yours"}, [1.5], "exception"
    copy = result.student_copy()
    assert copy.score == result.score and copy.max_score == result.max_score
    assert [p.points for p in copy.problems] == [p.points for p in result.problems]
    public, kept, passed = copy.problems[0].cases
    assert public == result.problems[0].cases[0]  # a public case in full
    assert (kept.case_id, kept.visibility, kept.passed, kept.mistake) == \
        ("hidden-1", "hidden", False, "divide by (1 - beta**t)")  # the course's own words
    assert (kept.feedback, kept.output, kept.picture, kept.answer, kept.error_kind) == \
        ("", "", None, None, None)
    assert passed.passed and copy.problems[1].grader_error  # said, without its details,
    assert "reference failed" not in copy.problems[1].grader_error  # which may quote inputs
    assert hidden.output == "hi\n" and hidden.picture  # the instructor's result is untouched
