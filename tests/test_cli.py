"""The command line: `grader check` and `grader validate`."""
import pytest

from conftest import EXAMPLES, PROBLEMS, REFERENCE

COURSE = ["--problems", PROBLEMS, "--reference", REFERENCE]


def test_check_passes_the_correct_student(cli):
    result = cli("check", EXAMPLES / "correct", *COURSE)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["problem", "result", "points"]
    assert len([line for line in lines if " passed " in line]) == 44
    assert lines[-1] == "44 of 44 problems passed; 66 / 66 points on the public cases"


def test_check_shows_the_first_lines_of_feedback_and_fails(cli):
    result = cli("check", EXAMPLES / "mistaken", *COURSE, "--problem", "optim.bias_corrected",
                 expect=1)
    assert result.stdout.splitlines()[1:3] == [
        "optim.bias_corrected  FAILED  0/1",
        "    case 'public-1': Known mistake: You divided by (1 - beta). The bias of v_t depends "
        "on the step: divide by (1 - beta**t), which tends to 1 as t grows."]


def test_check_accepts_files(cli):
    result = cli("check", EXAMPLES / "correct" / "optim.py", *COURSE, "--problem",
                 "optim.gd_quadratic")
    assert "optim.gd_quadratic" in result.stdout


def test_check_rejects_a_missing_path(cli, tmp_path):
    result = cli("check", tmp_path / "absent", *COURSE, expect=2)
    assert "does not exist" in result.stderr


def test_check_reports_a_broken_manifest(cli, course_copy):
    path = course_copy / "problems" / "rnn.toml"
    path.write_text(path.read_text().replace("points = 3", "pionts = 3", 1))
    result = cli("check", EXAMPLES / "correct", "--problems", course_copy / "problems",
                 "--reference", course_copy / "reference", expect=2)
    assert "rnn.toml: problem 'bptt_grads': key 'pionts': unknown key" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_validate_passes_the_shipped_course(cli):
    result = cli("validate", *COURSE)
    assert result.stdout.splitlines()[-1] == "The course is valid."


@pytest.mark.parametrize("file, old, new, words", [
    ("reference/optim.py", "ws.append(ws[-1] - lr * (A @ ws[-1]))",
     "ws.append(ws[-1] - 2 * lr * (A @ ws[-1]))",
     "optim.gd_quadratic: case homework: the reference does not reproduce the known value"),
    ("reference/layers.py", "return (gamma / np.linalg.norm(u)) * grad_w",
     "return weightnorm_grad(u, gamma, grad_w)",
     "mistake weightnorm_grad_unprojected gives the reference's answer on every case"),
    ("reference/rnn.py", "dW += np.outer(dz, hs[s - 1])", "dW += np.outer(dz, hs[s])",
     "rnn.bptt_grads: case public-1: the reference's derivative with respect to W disagrees"),
    ("problems/layers.toml", "hidden = 6", "hiden = 6",
     "layers.toml: problem 'init_scheme': key 'hiden': unknown key"),
])
def test_validate_fails_on_a_broken_course(cli, course_copy, file, old, new, words):
    path = course_copy / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    result = cli("validate", "--problems", course_copy / "problems", "--reference",
                 course_copy / "reference", "-q", expect=1)
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_help_explains_with_an_example(cli):
    for command in ("check", "validate"):
        assert "Example: grader " + command in cli(command, "--help").stdout
