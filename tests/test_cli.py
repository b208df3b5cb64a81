"""The command line: `grader check` and `grader validate`, submissions as students make them
(several homeworks, nested folders, zips, near-miss names, empty folders), reports that read
well, Ctrl-C and closed pipes."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

import grader
from conftest import EXAMPLES, PROBLEMS, REFERENCE, ROOT

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
    assert result.stdout.splitlines()[-1] == \
        "1 of 1 problem passed; 2 / 2 points on the public cases"


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


def test_a_broken_manifest_is_one_sentence_without_a_usage_banner(cli, course_copy, tmp_path):
    path = course_copy / "problems" / "optim.toml"
    path.write_text(path.read_text().replace("rtol = ", "rtol = 'x' #", 1))
    for command in (["check", EXAMPLES / "correct"],
                    ["grade", EXAMPLES, "--out", tmp_path / "out", "-q"],
                    ["kit", "--out", tmp_path / "kit"]):
        result = cli(*command, "--problems", course_copy / "problems", "--reference",
                     course_copy / "reference", expect=2)
        assert result.stderr.startswith("Error: ")
        assert "optim.toml: key 'rtol': must be int or float, got str 'x'" in result.stderr
        assert "Usage:" not in result.stderr and "Grading" not in result.stdout
    assert not (tmp_path / "out").exists() and not (tmp_path / "kit").exists()


def test_an_unknown_assignment_is_the_option_s_fault(cli, tmp_path):
    result = cli("grade", EXAMPLES, "--out", tmp_path / "out", "--assignment", "optm", *COURSE,
                 expect=2)
    assert "Invalid value for '--assignment': the course has no assignment 'optm' (it has " \
        in result.stderr
    assert "key 'assignment'" not in result.stderr and not (tmp_path / "out").exists()


def test_a_student_without_the_kit_is_told_to_pass_it(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no problems/ folder here
    result = cli("check", EXAMPLES / "correct", expect=2)
    assert "is not a directory of problem manifests" in result.stderr
    assert "Pass it with --kit: grader check --kit KIT" in result.stderr


def _small_class(root):
    shutil.copytree(EXAMPLES / "correct", root / "ada")
    return root


def test_an_output_path_below_a_file_is_refused(cli, tmp_path):
    klass = _small_class(tmp_path / "class")
    afile = tmp_path / "afile"
    afile.write_text("")
    for command in (["grade", klass, "--out", afile / "out", *COURSE],
                    ["kit", "--out", afile / "kit", *COURSE],
                    ["merge", tmp_path, "--out", afile / "m", *COURSE],
                    ["export", "--lms", "canvas", "--roster", ROOT / "examples" / "roster.csv",
                     "--out", afile / "x.csv", tmp_path]):
        result = cli(*command, expect=2)
        assert f"cannot be made: {afile} is a file, not a folder" in result.stderr
        assert "Traceback" not in result.stderr


def test_the_output_folder_cannot_be_the_submissions_folder(cli, tmp_path):
    klass = _small_class(tmp_path / "class")
    before = sorted(p.relative_to(klass) for p in klass.rglob("*"))
    result = cli("grade", klass, "--out", klass, *COURSE, expect=2)
    assert "is the submissions folder" in result.stderr
    assert sorted(p.relative_to(klass) for p in klass.rglob("*")) == before


def test_a_grader_failure_shared_by_the_class_is_said_once(tmp_path):
    from grader.cli.main import _summary
    course_bug = "optim.descent: the course's case generator failed"
    students = [{"name": f"s{i:02d}", "score": 0.0, "max_score": 7.0, "grader_error": course_bug}
                for i in range(30)] + [{"name": "odd", "score": 0.0, "max_score": 7.0,
                                        "grader_error": "disk on fire"}]
    lines = _summary(students, graded=31, kept=0, seconds=1.0, out=tmp_path).splitlines()
    assert f"  s00, s01, s02, s03, s04 and 25 more: {course_bug}" in lines
    assert "  odd: disk on fire" in lines
    assert len(lines) == 6  # students, failures, two groups, gradebook, reports


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
    assert words in result.stderr and "Error: " in result.stderr
    assert "yours" not in result.stderr  # the instructor's reference, not a student's answer
    assert result.stderr.rstrip().endswith("in the course, to fix before students see it.")
    assert "Traceback" not in result.stderr


def test_help_explains_with_an_example(cli):
    for command in ("check", "validate"):
        assert "Example: grader " + command in cli(command, "--help").stdout


def test_version(cli):
    assert cli("--version").stdout == f"grader, version {grader.__version__}\n"


def test_check_grades_only_the_homeworks_it_finds(cli, tmp_path):
    shutil.copy(EXAMPLES / "correct" / "optim.py", tmp_path / "optim.py")
    result = cli("check", tmp_path, *COURSE)
    lines = result.stdout.splitlines()
    assert {line.split()[0].split(".")[0] for line in lines[1:-4]} == {"optim"}
    assert lines[-4:] == [
        "Not checked: cs231n (none of its files is in your submission: cs231n/optim.py, "
        "cs231n/layers.py, cs231n/rnn_layers.py)",
        "Not checked: layers (none of its files is in your submission: layers.py)",
        "Not checked: rnn (none of its files is in your submission: rnn.py)",
        "5 of 5 problems passed; 7 / 7 points on the public cases"]


def test_check_fails_a_homework_whose_file_is_named_almost_right(cli, tmp_path):
    shutil.copy(EXAMPLES / "correct" / "optim.py", tmp_path / "optim.py")
    shutil.copy(EXAMPLES / "correct" / "rnn.py", tmp_path / "RNN.py")
    result = cli("check", tmp_path, *COURSE, expect=1)  # not "5 of 5 passed", exit 0
    assert "Note: Found RNN.py but expected rnn.py: file names must match exactly" in result.stdout
    assert "Not checked: rnn" not in result.stdout
    assert "rnn.cross_entropy" in result.stdout and "5 of 13 problems passed" in result.stdout
    alone = cli("check", tmp_path / "RNN.py", *COURSE, expect=1)  # the file given by itself
    assert alone.stdout.startswith("Note: Found RNN.py but expected rnn.py")


def test_check_knows_a_package_from_loose_files(cli):
    lines = cli("check", EXAMPLES / "cs231n_flat", *COURSE).stdout.splitlines()
    assert "Not checked: optim (its file optim.py is taken as part of cs231n, whose other " \
           "files are here too)" in lines
    assert all(line.startswith(("cs231n.", "problem", "Not checked", "21 of 21")) for line in lines)


def test_partial_credit_is_partial_and_rounded(cli):
    result = cli("check", EXAMPLES / "mistaken", *COURSE, "--problem", "layers.init_scheme",
                 expect=1)
    assert result.stdout.splitlines()[1] == "layers.init_scheme  partial 1/2"
    result = cli("check", EXAMPLES / "rounded", *COURSE, expect=1)
    assert not re.search(r"\d\.\d{3,}/", result.stdout)  # no 0.857143 anywhere in the points


def test_a_syntax_error_is_shown_once_at_the_top(cli):
    result = cli("check", EXAMPLES / "syntax_error", *COURSE, expect=1)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("A problem with a whole file stops 5 problems (optim.")
    assert lines[1] == "    optim.py, line 36: syntax error: expected ':'"
    assert result.stdout.count("Fix the syntax error") == 1
    assert "optim.gd_quadratic                   FAILED  0/2\n    optim.py, line 36: syntax " \
           "error: expected ':' (see above)" in result.stdout


def test_verbose_gives_the_failing_case_as_python_to_paste(cli):
    result = cli("check", "-v", EXAMPLES / "mistaken", *COURSE, "--problem",
                 "optim.nesterov_quadratic", expect=1)
    text = result.stdout
    assert "public case 'public-1': FAILED" in text and "... and 1 more" in text  # all of it
    head = "    To run case 'homework' yourself, paste this into Python in your submission's " \
           "folder (or, without its from-import, into a new cell at the end of your notebook):\n"
    code = "\n".join(line[8:] for line in text.split(head)[1].splitlines()
                     if line.startswith("        "))
    assert code.splitlines()[:3] == ["import numpy as np",
                                     "from optim import nesterov_quadratic",
                                     "A = np.array([[2.0, 1.0], [1.0, 12.0]])"]
    lines = code.splitlines()  # pasted in the student's folder, it gives the student's answer
    script = "\n".join(lines[:-1] + [f"print(np.round({lines[-1]}[2], 9).tolist())"])
    done = subprocess.run([sys.executable, "-c", script], cwd=EXAMPLES / "mistaken",
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[2.78, -0.8175]"  # the "yours" of its feedback, [2, 0], [2, 1]
    assert "[2, 0]: 2.78 | 2.8565" in text


def test_a_nested_folder_is_used_and_said_so(cli, tmp_path):
    folder = tmp_path / "submission"
    (folder / "hw1").mkdir(parents=True)
    shutil.copy(EXAMPLES / "correct" / "optim.py", folder / "hw1" / "optim.py")
    result = cli("check", folder, *COURSE)
    lines = result.stdout.splitlines()
    assert lines[0] == ("Note: Your files were found in the folder hw1/, not at the top of your "
                        "submission; they are graded from there.")
    assert lines[-1] == "5 of 5 problems passed; 7 / 7 points on the public cases"


def test_a_zip_is_unpacked(cli, tmp_path):
    archive = tmp_path / "homework.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(EXAMPLES / "correct" / "optim.py", "homework/optim.py")
    result = cli("check", archive, *COURSE)
    assert "Note: The files inside your zip file homework.zip were graded." in result.stdout
    assert result.stdout.splitlines()[-1] == ("5 of 5 problems passed; 7 / 7 points on the "
                                              "public cases")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zipped:
        zipped.writestr("../optim.py", "x = 1\n")
    result = cli("check", bad, *COURSE, expect=1)
    assert result.stdout.startswith("Note: Your zip file bad.zip was not unpacked: the entry "
                                    "'../optim.py' points outside the folder")


@pytest.mark.parametrize("name, words", [
    ("Optim.py", "Found Optim.py but expected optim.py: file names must match exactly"),
    ("optim.py.txt", "Found optim.py.txt but expected optim.py: the name has an extra "
                     "extension (.txt)"),
    ("cs231n/Layers.py", "Found cs231n/Layers.py but expected layers.py"),
])
def test_a_near_miss_is_named(cli, tmp_path, name, words):
    folder = tmp_path / "submission"
    (folder / name).parent.mkdir(parents=True)
    (folder / name).write_text("def f():\n    return 1\n")
    result = cli("check", folder, *COURSE, expect=1)
    assert f"Note: {words}" in result.stdout
    said = [line for line in result.stdout.splitlines() if "is not in your submission" in line]
    assert len([line for line in said if not line.endswith("(see above)")]) == len(
        re.findall("A problem with a whole file", result.stdout))  # once each, at the top


def test_a_notebook_in_place_of_the_file_is_graded(cli, tmp_path):
    shutil.copytree(EXAMPLES / "notebook_correct", tmp_path / "nb")
    result = cli("check", tmp_path / "nb", *COURSE)
    assert "Note:" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith("23 of 23 problems passed")


def test_a_file_and_a_notebook_for_one_homework_say_which_was_graded(cli, tmp_path):
    shutil.copytree(EXAMPLES / "notebook_correct", tmp_path / "nb")
    shutil.copy(EXAMPLES / "mistaken" / "rnn.py", tmp_path / "nb" / "rnn.py")  # a stale one
    result = cli("check", tmp_path / "nb", *COURSE, expect=1)
    assert "Note: Both rnn.py and rnn.ipynb are in your submission: rnn.py was graded, not " \
           "rnn.ipynb." in result.stdout


def test_a_notebook_over_a_megabyte_of_outputs_is_graded_and_a_large_file_said_so(cli,
                                                                                  tmp_path):
    """A notebook may hold 32 MB (its outputs hold pictures), a homework file 1 MB: neither is
    ever said to be missing."""
    import base64
    import nbformat
    folder = tmp_path / "big"
    shutil.copytree(EXAMPLES / "notebook_correct", folder)
    notebook = nbformat.read(folder / "rnn.ipynb", 4)
    picture = base64.b64encode(os.urandom(1_600_000)).decode()
    next(c for c in notebook.cells if c.cell_type == "code").outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": picture})]
    nbformat.write(notebook, folder / "rnn.ipynb")
    assert (folder / "rnn.ipynb").stat().st_size > 2 << 20
    (folder / "optim.ipynb").unlink()
    source = (EXAMPLES / "correct" / "optim.py").read_text()
    (folder / "optim.py").write_text(source + "\n# " + "x" * 1_200_000 + "\n")
    result = cli("check", folder, *COURSE, expect=1)
    assert "rnn.cross_entropy" in result.stdout and "rnn.birnn_grads" in result.stdout
    assert "optim.py is larger than 1 MB, more than a homework file may be: remove the data it " \
        "holds (the grader gives your functions their inputs, and only .py and .ipynb files " \
        "reach them), and submit it again." in result.stdout
    assert "not in your submission" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith("18 of 23 problems passed")


def test_an_empty_submission_says_so(cli, tmp_path):
    """Nothing is run for a submission without any of the homework's files: the note says
    what is missing, each assignment is named as not checked, and the check fails."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.txt").write_text("my homework")
    for folder, note in (("empty", "Note: Your submission is empty: no files were found. "
                                   "Expected: "),
                         ("notes", "Note: None of the files this homework needs is in your "
                                   "submission (expected: ")):
        lines = cli("check", tmp_path / folder, *COURSE, expect=1).stdout.splitlines()
        assert lines[0].startswith(note) and "cs231n/optim.py" in lines[0]
        assert [line.split(" (")[0] for line in lines[1:-1]] == [
            "Not checked: cs231n", "Not checked: layers", "Not checked: optim",
            "Not checked: rnn"]
        assert lines[-1].startswith("Nothing was checked: none of the homework's files")


def _grader(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "grader.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, **kwargs)


def test_a_closed_pipe_is_no_error():
    process = _grader("check", EXAMPLES / "mistaken", *COURSE)
    process.stdout.close()  # as `grader check ... | head -1` does once it has its line
    error = process.stderr.read()
    assert process.wait(timeout=120) == 141 and error == ""


def test_the_command_ends_without_teardown_but_with_all_its_output(cli):
    """The `grader` process ends as soon as its output is flushed (no interpreter teardown):
    all of a long output arrives, with the command's exit code."""
    process = _grader("check", EXAMPLES / "mistaken", *COURSE, "--verbose")
    out, error = process.communicate(timeout=120)
    assert process.returncode == 1 and error == ""
    expected = cli("check", EXAMPLES / "mistaken", *COURSE, "--verbose", expect=1).stdout
    assert out == expected and len(out) > 5000


def test_ctrl_c_ends_with_a_sentence_not_a_traceback():
    process = _grader("check", EXAMPLES / "infinite_loop", *COURSE, start_new_session=True)
    time.sleep(1.5)  # in the middle of the two-second time limits of its loops
    os.killpg(process.pid, signal.SIGINT)  # as the terminal sends Ctrl-C: to the whole group
    out, error = process.communicate(timeout=60)
    assert process.returncode == 130 and error.rstrip().endswith("Interrupted.")
    assert "Traceback" not in error, error


def test_a_usage_error_prints_no_traceback_from_the_sandbox(course_copy):
    """The self-check starts the sandbox first; stopping on a bad course must leave the
    terminal with the one error, not with the sandbox's own traceback (its stderr is the
    command's, so the pipe stays open until it has ended)."""
    import subprocess
    import sys
    path = course_copy / "problems" / "optim.toml"
    path.write_text(path.read_text().replace("points = 2", 'points = "two"', 1))
    done = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(EXAMPLES / "correct"),
                           "--problems", str(course_copy / "problems"), "--reference",
                           str(course_copy / "reference")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "must be int or float" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr


TERMINAL_TRICKS = ("\x1b[2J\x1b[H" "rnn.cross_entropy  passed  1/1\x1b]0;owned\x07\x1b[8m"
                   "\x9b2J\r\n\x00 1/1 \u202edessap")
OBEYED = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def _tricky_student(root):
    student = root / "tricky"
    shutil.copytree(EXAMPLES / "correct", student)
    with open(student / "rnn.py", "a") as source:
        source.write(f"\n\ndef cross_entropy(y, p):\n    print({TERMINAL_TRICKS!r})\n"
                     f"    raise ValueError({TERMINAL_TRICKS!r})\n")
    return student


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_a_submission_s_text_reaches_the_terminal_shown_not_obeyed(cli, tmp_path, verbose):
    """Control characters a student prints or raises (clear the screen, draw a fake table,
    set the title, hide the rest, reverse the words that follow) are written as escapes."""
    result = cli("check", _tricky_student(tmp_path), *COURSE, "--problem", "rnn.cross_entropy",
                 *verbose, expect=1)
    assert not re.search(OBEYED, result.stdout + result.stderr)
    assert r"raised ValueError: \x1b[2J\x1b[Hrnn.cross_entropy  passed  1/1\x1b]0;owned\x07" \
        in result.stdout
    assert r"\x9b2J" in result.stdout and r"1/1 \u202edessap" in result.stdout


def test_the_plugin_s_failures_show_a_submission_s_text_not_obey_it(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-p",
         "no:cacheprovider", "--submission", str(_tricky_student(tmp_path)), "-k",
         "cross_entropy"], cwd=ROOT, capture_output=True, text=True)
    assert process.returncode == 1
    assert "raised ValueError: \\x1b[2J" in process.stdout
    assert not re.search(OBEYED, process.stdout + process.stderr)


@pytest.mark.parametrize("given, words", [
    (["correct", "mistaken"], "give one submission: your folder, a zip of it, or your files"),
    (["correct/optim.py", "mistaken/optim.py"], "two files named optim.py"),
])
def test_check_of_more_than_one_submission_is_a_usage_error(cli, given, words):
    result = cli("check", *(EXAMPLES / path for path in given), *COURSE, expect=2)
    assert words in result.stderr and "Traceback" not in result.stderr



def test_a_file_whose_import_never_ends_is_said_once_for_all_its_problems(cli, tmp_path):
    student = tmp_path / "student"
    student.mkdir()
    (student / "optim.py").write_text("while True:\n    pass\n")
    result = cli("check", student, *COURSE, expect=1)
    said = [line for line in result.stdout.splitlines()
            if "the import of optim.py did not finish within the time limit" in line]
    assert len(said) == 6, result.stdout  # once at the top, then a pointer per problem
    assert "A problem with a whole file stops 5 problems" in result.stdout
    assert all(line.endswith("(see above)") for line in said[1:])
