"""Feedback that teaches: in a student's report, a picture of where a matrix answer differs, a
known mistake said once per problem, a failing public case to paste (never a hidden one) and,
under an error whose cause is known (Python 2 code, a module the grader does not have), the
sentence that fixes it; a copy of the report to hand back, without the hidden cases' details;
across a class, the wrong answers several students share, grouped within the problem's
tolerance, in OUT/common-wrong-answers.csv and on the class page with per-problem figures."""
import html
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from conftest import EXAMPLES, PROBLEMS, REFERENCE, Invoke
from grader.engine import Engine

COURSE = ["--problems", PROBLEMS, "--reference", REFERENCE]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WRONG = "\n\ndef cross_entropy(y, p):\n    return float(-np.sum(y * np.log(p))) * {factor}\n"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """Six students sharing one undeclared wrong cross_entropy (two of them off by less than
    the tolerance), one with another wrong answer, two honest students and the mistaken one."""
    root = tmp_path_factory.mktemp("feedback") / "class"
    for index, factor in enumerate(["2", "2", "2", "2", "2 * (1 + 1e-8)", "2 * (1 - 1e-8)",
                                    "3"]):
        student = root / f"twice{index}" if factor != "3" else root / "thrice"
        shutil.copytree(EXAMPLES / "correct", student)
        with open(student / "rnn.py", "a") as source:
            source.write(WRONG.format(factor=factor))
    shutil.copytree(EXAMPLES / "correct", root / "honest")
    shutil.copytree(EXAMPLES / "cs231n_folder", root / "honest_cs231n")
    shutil.copytree(EXAMPLES / "mistaken", root / "mistaken")
    return root


@pytest.fixture(scope="module")
def graded_class(klass, tmp_path_factory):
    out = tmp_path_factory.mktemp("feedback-out") / "out"
    Invoke()("grade", klass, "--out", out, "-q", *COURSE)
    return out


def test_six_students_with_one_undeclared_wrong_answer_form_one_group(graded_class):
    groups = pd.read_csv(graded_class / "common-wrong-answers.csv", dtype=str).fillna("")
    mine = groups[groups.problem == "rnn.cross_entropy"]
    assert set(mine.students_count) == {"6"}  # one group per case, never honest or thrice
    for row in mine.itertuples():
        assert sorted(row.students.split("; ")) == [f"twice{i}" for i in range(6)]
        assert row.declared_mistake == ""
        assert row.diagnosis.startswith("not equal to tolerance")  # what they were told
    assert not groups.students.str.contains("honest|thrice").any()  # no group of one


def _hidden_cases(page: str) -> list[str]:
    """What a page shows of each hidden case: its heading and what follows up to the next."""
    return re.findall(r'<h3 class="\w+">hidden case .*?(?=<h3|</section>)', page, re.S)


def test_each_student_gets_a_copy_to_hand_back_without_the_hidden_cases_details(graded_class,
                                                                                 tmp_path):
    copies = tmp_path / "handback"
    said = Invoke()("handback", graded_class, "--out", copies).stdout
    graded = sorted(p.name for p in graded_class.iterdir() if (p / "grade.json").is_file())
    assert sorted(p.name for p in copies.iterdir()) == [f"{name}.html" for name in graded]
    assert f"Wrote {len(graded)} students' copies to {copies}" in said
    theirs = (graded_class / "mistaken" / "report.html").read_text()
    mine = (copies / "mistaken.html").read_text()
    assert any("<pre>" in case for case in _hidden_cases(theirs))  # details to leave out
    assert _hidden_cases(mine) and all(
        re.fullmatch(r'<h3 class="(passed|failed)">hidden case [\w-]+: (passed|failed)'
                     r'( <small>\(the known mistake above\)</small>)?</h3>\s*', case)
        for case in _hidden_cases(mine))  # a verdict and nothing else
    total = re.search(r'id="total">Total: [^<]+<', theirs).group()
    assert total in mine and 'id="student-copy"' in mine and 'id="instructor-copy"' in theirs
    public = re.findall(r'<h3 class="\w+">public case .*?(?=<h3|</section>)', theirs, re.S)
    assert public and all(case in mine for case in public)  # the public cases in full


def test_a_handback_is_refused_inside_the_graded_folder_or_from_one_without_students(
        graded_class, tmp_path):
    before = sorted(p.name for p in graded_class.rglob("*"))
    for inside in (graded_class, graded_class / "handback", graded_class / "mistaken"):
        refused = Invoke()("handback", graded_class, "--out", inside, expect=2)
        assert "is inside OUT_DIR" in refused.stderr and "Traceback" not in refused.output
    assert sorted(p.name for p in graded_class.rglob("*")) == before
    (tmp_path / "empty").mkdir()
    empty = Invoke()("handback", tmp_path / "empty", "--out", tmp_path / "copies", expect=2)
    assert "holds no student's folder" in empty.stderr
    assert not (tmp_path / "copies").exists()
    (tmp_path / "taken" / "mistaken.html").mkdir(parents=True)  # a folder where a page goes
    taken = Invoke()("handback", graded_class, "--out", tmp_path / "taken", expect=2)
    assert "could not be written" in taken.stderr and "Traceback" not in taken.output
    assert str(tmp_path / "taken" / "mistaken.html") in taken.stderr  # the page, not a temporary
    assert ".part" not in taken.stderr


def test_a_student_without_a_readable_grade_is_named_and_keeps_no_outdated_page(graded_class,
                                                                                tmp_path):
    out, copies = tmp_path / "out", tmp_path / "copies"
    shutil.copytree(graded_class, out)
    Invoke()("handback", out, "--out", copies)
    (out / "honest" / "grade.json").unlink()  # a regrade interrupted
    (out / "thrice" / "grade.json").write_text('{"fingerprint": "x"}')  # damaged
    (copies / "gone.html").write_text("a student no longer in OUT")
    said = Invoke()("handback", out, "--out", copies, expect=1)
    assert "no page: honest" in said.stderr and "no page: thrice" in said.stderr
    assert "Traceback" not in said.output
    assert not (copies / "honest.html").exists() and not (copies / "thrice.html").exists()
    assert "left as it is" in said.stderr and (copies / "gone.html").exists()
    assert (copies / "mistaken.html").is_file()


def test_the_class_page_shows_the_groups_and_per_problem_figures(graded_class):
    page = (graded_class / "index.html").read_text()
    common = page[page.index('<table id="common"'):page.index("</table>", page.index('id="common"'))]
    assert "rnn.cross_entropy" in common and 'href="twice0/report.html"' in common
    # one row for the one mistake, naming every case it was made on (the CSV has one per case)
    rows = re.findall(r"<tr><td>rnn\.cross_entropy</td><td>([^<]*)</td>", common)
    cases = pd.read_csv(graded_class / "common-wrong-answers.csv", dtype=str)
    cases = cases[cases.problem == "rnn.cross_entropy"].case
    assert len(rows) == 1 and len(cases) > 1
    assert sorted(rows[0].split(", ")) == sorted(cases)
    shown = rows[0].split(", ")
    assert not shown[0].startswith("hidden-") and f"(to {shown[0]})" in common  # public first
    assert [c for c in shown if c.startswith("hidden-")] == shown[-3:]
    assert "[[problem.mistake]]" in common  # the hint on how to declare it
    assert 'class="diagnosis">Told: not equal to tolerance' in common
    per_problem = page[page.index('<table id="per-problem"'):page.index('<table id="common"')]
    row = re.search(r"<tr><td>layers.batchnorm_stats</td>.*?</tr>", per_problem, re.S).group(0)
    assert "8 full, 0 partial, 1 none" in row  # mistaken (unbiased), of those who handed it in
    assert "11%: Your variance is the unbiased one" in row  # 1 of 9
    assert row.endswith('<td class="num">1</td><td class="num">0</td></tr>')  # honest_cs231n


def test_a_report_shows_a_picture_a_mistake_once_and_public_inputs_only(graded_class):
    page = (graded_class / "mistaken" / "report.html").read_text()
    section = page[page.index('<section id="rnn.hidden_jacobian">'):]
    section = section[:section.index("</section>")]
    assert section.count("diag factor goes on the left") == 1  # once, not once per case
    assert section.count("(the known mistake above)") == 5
    assert section.count('<img src="data:image/png;base64,') == 1  # the first difference
    assert "6 of 9 elements differ" in section
    assert section.count("Run this case yourself") == 1
    snippet = section[section.index("<code>"):section.index("</code>")]
    assert "from rnn import hidden_jacobian" in snippet and "W_hh = np.array" in snippet
    hidden = page.count("Run this case yourself")
    failing_public = len(re.findall(r"public case [\w-]+: failed", page))
    assert 0 < hidden <= failing_public  # a hidden case's inputs are never shown


def test_a_paste_able_case_reproduces_the_feedback(graded_class, tmp_path):
    page = (graded_class / "mistaken" / "report.html").read_text()
    section = page[page.index('<section id="optim.bias_corrected">'):]
    code = html.unescape(section[section.index("<code>") + 6:section.index("</code>")])
    shutil.copytree(EXAMPLES / "mistaken", tmp_path / "student")
    *lines, call = code.strip().splitlines()
    script = "\n".join(lines + [f"print({call}.tolist())"])
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path / "student",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[[")


def test_no_case_to_paste_for_a_file_the_student_never_handed_in(graded_class):
    page = (graded_class / "mistaken" / "report.html").read_text()
    section = page[page.index('<section id="cs231n.sgd_momentum">'):]
    section = section[:section.index("</section>")]
    assert "is not in your submission" in section
    assert 'class="reproduce"' not in section


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_pictures_render_and_tables_sort_in_a_real_browser(graded_class, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
             "--dump-dom"]
    probe = tmp_path / "report.html"  # the report, with a probe run once it has loaded
    probe.write_text((graded_class / "mistaken" / "report.html").read_text().replace(
        "</body>", "<script>window.addEventListener('load', function () {"
        "var shown = Array.from(document.images).filter(function (i) {"
        "return i.complete && i.naturalWidth > 40; }).length;"
        "document.body.setAttribute('data-pictures', shown); });</script></body>"))
    dom = subprocess.run([CHROMIUM, *flags, probe.as_uri()], capture_output=True, text=True,
                         timeout=60).stdout
    shown = int(re.search(r'data-pictures="(\d+)"', dom).group(1))
    assert shown == (graded_class / "mistaken" / "report.html").read_text().count("<img ")
    assert shown >= 5
    page = tmp_path / "index.html"  # the class page, its students sorted by score, descending
    page.write_text((graded_class / "index.html").read_text().replace(
        "</body>", "<script>var th = document.querySelector('#students th:nth-child(2)');"
        "th.click(); th.click();</script></body>"))
    dom = subprocess.run([CHROMIUM, *flags, page.as_uri()], capture_output=True, text=True,
                         timeout=60).stdout
    table = dom[dom.index('id="students"'):]
    order = re.findall(r'href="([\w-]+)/report.html"', table[:table.index("</table>")])
    assert order[0] in ("honest", "honest_cs231n") and order[-1] == "mistaken"
    assert 'aria-sort="descending"' in table


@pytest.mark.parametrize("line, words", [
    ("import matplotlib.pyplot as plt",
     ["No module named 'matplotlib'", "matplotlib is not installed where your code is graded",
      "remove the import, and the code that uses it"]),
    ("from past.builtins import xrange",
     ["No module named 'past'", "Python 2 module", "range for xrange"]),
    ("STEPS = list(xrange(3))", ["name 'xrange' is not defined", "xrange is Python 2",
                                 "write range"]),
])
def test_a_file_that_cannot_be_imported_gets_the_sentence_that_fixes_it(course, sandbox,
                                                                        tmp_path, line, words):
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    optim = student / "optim.py"
    optim.write_text(f"{line}\n{optim.read_text()}")
    result = Engine(course=course, sandbox=sandbox).grade("student", [student])
    feedback = [case.feedback for problem in result.problems
                if problem.problem_id.startswith("optim.") for case in problem.cases]
    assert feedback
    for text in feedback:
        assert all(word in text for word in words), text


def test_a_parameter_named_otherwise_than_the_assignment_is_told_its_name(course, sandbox,
                                                                          tmp_path):
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    layers = student / "layers.py"
    source = layers.read_text()
    assert "def ridge_solution(X, y, lam):" in source
    layers.write_text(source.replace("def ridge_solution(X, y, lam):",
                                     "def ridge_solution(X, y, lmbda):\n    lam = lmbda"))
    result = Engine(course=course, sandbox=sandbox).grade("student", [student],
                                                          problems=["layers.ridge_solution"])
    feedback = result.problems[0].cases[0].feedback
    assert "got an unexpected keyword argument 'lam'" in feedback
    assert feedback.endswith("The grader passes ridge_solution's arguments by the names the "
                             "assignment gives them: name the parameter lam, as the assignment "
                             "does.")


def test_a_misspelt_function_is_named_and_an_empty_file_said_to_be(course, sandbox, tmp_path):
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    layers = student / "layers.py"
    layers.write_text(layers.read_text().replace("def ridge_solution(", "def ridge_soluton("))
    (student / "optim.py").write_text("import numpy as np\nfrom math import sqrt\n")
    result = Engine(course=course, sandbox=sandbox, details=True).grade(
        "student", [student], problems=["layers.ridge_solution", "optim.gd_quadratic"])
    ridge, quadratic = result.problems
    assert ridge.cases[0].feedback.startswith(
        "layers.py has no function named ridge_solution; it has ridge_soluton: is that it, "
        "misspelled?")
    assert not any(c.reproduce for c in ridge.cases)  # a snippet would fail on its import
    assert quadratic.cases[0].feedback.startswith(  # np and sqrt are not its own functions
        "optim.py has no function named gd_quadratic: it defines no function at all.")


def test_a_file_saved_as_utf16_is_told_to_be_saved_as_utf8(course, sandbox, tmp_path):
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    optim = student / "optim.py"
    optim.write_bytes(optim.read_text().encode("utf-16"))
    result = Engine(course=course, sandbox=sandbox).grade("student", [student])
    feedback = [case.feedback for problem in result.problems
                if problem.problem_id.startswith("optim.") for case in problem.cases]
    assert feedback and all("save it as UTF-8" in text for text in feedback), feedback[:1]


@pytest.mark.parametrize("body, named", [
    ("bool(np.max(np.abs(np.linalg.eigvals(W_rec))) * gamma < 1)", True),  # the mistake
    ("bool(np.linalg.norm(W_rec, 2) * gamma >= 1)", False),  # another error: every answer wrong
])
def test_a_known_mistake_is_named_only_when_every_wrong_answer_is_its(course, sandbox, tmp_path,
                                                                      body, named):
    """A wrong bool is the mistake's bool on every case where the mistake is wrong: it names
    the mistake only when the student's other wrong answers are the mistake's too."""
    student = tmp_path / "student"
    shutil.copytree(EXAMPLES / "correct", student)
    with open(student / "rnn.py", "a") as source:
        source.write(f"\n\ndef guaranteed_to_vanish(W_rec, gamma):\n    return {body}\n")
    result = Engine(course=course, sandbox=sandbox, hidden=True).grade("student", [student])
    (problem,) = [p for p in result.problems if p.problem_id == "rnn.guaranteed_to_vanish"]
    wrong = [case for case in problem.cases if not case.passed]
    assert wrong and all((case.mistake is not None) == named for case in wrong)
    assert all(("Known mistake" in case.feedback) == named for case in wrong)
