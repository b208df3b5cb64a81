"""Reports that read well, without running student code: points rounded, partial credit as
partial, a file-level problem said once at the top, notes, the histogram's axes, Gradescope's
public/hidden split, and cases written as Python a student can paste."""
from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pytest

from grader.report.classpage import ClassSummary, common_rows, histogram_plot
from grader.report.render import _plain_case_section, render_class, render_student
from grader.report.reproduce import literal, snippet
from grader.results.summary import file_problems, points, problem_feedback, status
from grader.report.terminal import table
from grader.results.gradescope import to_gradescope
from grader.results.model import CaseResult, ProblemResult, SubmissionResult
from grader.results.stored import from_dict, to_dict

SYNTAX = ("optim.py, line 36: syntax error: expected ':'\n    def running_average(gs, beta)\n"
          "Fix the syntax error: Python cannot load this file, so none of its functions ran.")


def broken(case_id: str, visibility: str = "public") -> CaseResult:
    return CaseResult(case_id, visibility, False, SYNTAX, error_kind="syntax")


@pytest.fixture
def result():
    """Partial credit (6 of 7 cases), a syntax error on every case of two problems, a note."""
    return SubmissionResult("ada", [
        ProblemResult("layers.init_scheme", 1.0, [
            *[CaseResult(f"public-{i}", "public", True) for i in range(1, 4)],
            CaseResult("relu-uniform", "public", False,
                       "Known mistake: double the variance\nnot equal to tolerance",
                       mistake="double the variance"),
            *[CaseResult(f"hidden-{i}", "hidden", True) for i in range(1, 4)]]),
        ProblemResult("optim.gd_quadratic", 2.0,
                      [broken("homework"), broken("public-1"), broken("hidden-1", "hidden")]),
        ProblemResult("optim.running_average", 1.0, [broken("public-1"),
                                                     broken("hidden-1", "hidden")]),
        ProblemResult("rnn.cross_entropy", 1.0, [CaseResult("public-1", "public", True)]),
    ], notes=["Your files were found in the folder hw/, not at the top of your submission; "
              "they are graded from there."])


@pytest.mark.parametrize("value, text", [(6 / 7, "0.86"), (36.0, "36"), (14.357143, "14.36"),
                                         (0.0, "0"), (2.5, "2.5")])
def test_points_are_rounded_for_reading(value, text):
    assert points(value) == text


def test_statuses(result):
    assert [status(p) for p in result.problems] == ["partial", "failed", "failed", "passed"]
    assert status(ProblemResult("x", 1.0, grader_error="boom")) == "error"


def test_a_file_level_problem_is_found_once(result):
    (problem,) = file_problems(result)
    assert problem.message == SYNTAX
    assert problem.problems == ["optim.gd_quadratic", "optim.running_average"]
    text = problem_feedback(result.problems[1])
    assert text.count("Fix the syntax error") == 0
    assert text.splitlines()[:2] == [
        "public case 'homework': FAILED",
        "  optim.py, line 36: syntax error: expected ':' (a problem with the whole file, shown "
        "at the top)"]


def test_the_table(result):
    lines = table(result, skipped=["Not checked: cs231n (none of its files is in your "
                                   "submission: cs231n/optim.py)"]).splitlines()
    assert lines[:5] == [
        "Note: Your files were found in the folder hw/, not at the top of your submission; "
        "they are graded from there.",
        "A problem with a whole file stops 2 problems (optim.gd_quadratic, "
        "optim.running_average):",
        "    optim.py, line 36: syntax error: expected ':'",
        "        def running_average(gs, beta)",
        "    Fix the syntax error: Python cannot load this file, so none of its functions ran."]
    assert lines[5:11] == [
        "problem                result  points",
        "layers.init_scheme     partial 0.86/1",
        "    case 'relu-uniform': Known mistake: double the variance",
        "    not equal to tolerance",
        "optim.gd_quadratic     FAILED  0/2",
        "    optim.py, line 36: syntax error: expected ':' (see above)"]
    assert "\n".join(lines).count("Fix the syntax error") == 1
    assert lines[-2:] == [
        "Not checked: cs231n (none of its files is in your submission: cs231n/optim.py)",
        "1 of 4 problems passed; 1.86 / 5 points on the public cases"]
    assert "0.857143" not in "\n".join(lines)


def test_the_short_table_keeps_what_the_answer_is_and_offers_only_a_case_there_is():
    long = "\n".join(["not equal to tolerance", "Mismatched elements: 2 / 2", "Max abs: 0.003",
                      "First differences:", "  [0]: 0.27 | 0.2671",
                      "Also not as expected: output['db'].",
                      "Your answer is the expected one rounded to 2 decimal places: return it "
                      "at full precision (round only what you print)."])
    result = SubmissionResult("ann", [ProblemResult(p, 1.0, [CaseResult("public-1", "public",
                                                                       False, long)])
                                      for p in ("layers.drop", "cs231n.rnn_backward")])
    pasted = {"layers.drop": "from layers import drop\ndrop()", "cs231n.rnn_backward": None}
    lines = table(result, reproduce=lambda p, c: pasted[p]).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("layers.drop "))
    assert lines[first + 1:first + 6] == [
        "    case 'public-1': not equal to tolerance", "    Mismatched elements: 2 / 2",
        "    ... (grader check -v shows all of it, and the case as Python to paste)",
        "    Also not as expected: output['db'].",
        "    Your answer is the expected one rounded to 2 decimal places: return it at full "
        "precision (round only what you print)."]
    assert "    ... (grader check -v shows all of it)" in lines  # a driver's: nothing to paste


def test_the_short_table_shows_where_an_error_was_raised_or_stuck():
    raised = ("f raised ValueError: bad\n  hw.py, line 9, in f\n    return g(x)\n"
              "  hw.py, line 4, in g\n    raise ValueError('bad')")
    stuck = ("f did not finish within the time limit of 2 s. Look for an infinite loop.\n"
             "It was stopped here:\n  hw.py, line 9, in f\n    return g(x)\n"
             "  hw.py, line 2, in g\n    while True:")
    result = SubmissionResult("ann", [
        ProblemResult(p, 1.0, [CaseResult("public-1", "public", False, text, error_kind=kind)])
        for p, text, kind in (("hw.raised", raised, "exception"), ("hw.stuck", stuck, "timeout"))])
    lines = table(result).splitlines()
    first = lines.index(next(line for line in lines if line.startswith("hw.raised ")))
    assert lines[first + 1:first + 5] == [
        "    case 'public-1': f raised ValueError: bad",
        "      hw.py, line 4, in g", "        raise ValueError('bad')",
        "    ... (grader check -v shows all of it)"]
    first = lines.index(next(line for line in lines if line.startswith("hw.stuck ")))
    assert lines[first + 1:first + 6] == [
        "    case 'public-1': f did not finish within the time limit of 2 s. Look for an "
        "infinite loop.", "    It was stopped here:",
        "      hw.py, line 2, in g", "        while True:",
        "    ... (grader check -v shows all of it)"]


def test_the_table_in_colour(result):
    coloured = table(result, color=True)
    partial, failed, passed = (re.search(rf"((?:\x1b\[[0-9;]+m)+){word}\x1b\[0m", coloured)
                               for word in ("partial", "FAILED", "passed"))
    assert len({partial.group(1), failed.group(1), passed.group(1)}) == 3  # three colours
    assert "\x1b" not in table(result)


def test_verbose_shows_everything_and_the_case_to_paste(result):
    text = table(result, verbose=True,
                 reproduce=lambda problem, case: f"# {problem} {case}")
    assert "  hidden case 'hidden-1': passed" in text
    assert "    To run case 'relu-uniform' yourself, paste this into Python in your " \
           "submission's folder (or, without its from-import, into a new cell at the end of " \
           "your notebook):\n        # layers.init_scheme relu-uniform" in text
    assert "# optim.gd_quadratic" not in text  # a file-level failure has no case to paste


def test_the_student_page(result):
    page = render_student(result)
    assert "<title>ada: 1.86 / 5</title>" in page and 'id="total">Total: 1.86 / 5<' in page
    assert '<td class="partial">partial</td>' in page and '<td class="num">0.86 / 1</td>' in page
    assert '<td class="failed">failed</td>' in page
    assert page.count("Fix the syntax error") == 1
    assert page.index("Fix the syntax error") < page.index('id="problems"')  # at the top
    assert "found in the folder hw/" in page and "0.857143" not in page
    assert ".partial {" in page  # its own colour
    assert 'id="instructor-copy"' in page  # hidden cases are shown: said at the top


def test_a_page_without_hidden_cases_is_not_called_the_instructors(result):
    for problem in result.problems:
        problem.cases = [c for c in problem.cases if c.visibility != "hidden"]
    assert 'id="instructor-copy"' not in render_student(result)


def test_the_student_s_copy_shows_a_hidden_case_s_verdict_only():
    result = SubmissionResult("ada", [ProblemResult("optim.gd_quadratic", 2.0, [
        CaseResult("public-1", "public", False, "public differs", output="public print"),
        CaseResult("hidden-1", "hidden", False, "expected [0.3125] got [SECRET]",
                   output="x = SECRET", error_kind="exception",
                   picture={"data_uri": "data:image/png;base64,SECRET", "caption": "SECRET",
                            "width": 1, "height": 1}),
        CaseResult("hidden-2", "hidden", True)])])
    mine = render_student(result, student_copy=True)
    assert "SECRET" not in mine and "0.3125" not in mine
    assert "hidden case hidden-1: failed" in mine and "hidden case hidden-2: passed" in mine
    assert "public differs" in mine and "public print" in mine  # the public case in full
    assert 'id="total">Total: 0.67 / 2<' in mine  # the same points as the instructor's copy
    assert 'id="student-copy"' in mine and 'id="instructor-copy"' not in mine
    theirs = render_student(result)
    assert "SECRET" in theirs and 'id="student-copy"' not in theirs
    assert 'id="total">Total: 0.67 / 2<' in theirs
    result.problems[0].grader_error = "the reference failed on case hidden-1: x=SECRET"
    mine = render_student(result, student_copy=True)  # the course's code, failing on inputs
    assert "SECRET" not in mine and "The grader failed on this problem" in mine


def test_a_case_reads_the_same_whether_rendered_anew_or_recalled():
    def student(name, feedback, output=""):
        return SubmissionResult(name, [ProblemResult("optim.gd_quadratic", 1.0, [
            CaseResult("public-1", "public", False, feedback, output=output),
            CaseResult("hidden-1", "hidden", True)])])
    _plain_case_section.cache_clear()
    first = render_student(student("ada", "<script>alert(1)</script> differs"))
    assert _plain_case_section.cache_info().currsize == 2  # the failed case and the passed one
    again = render_student(student("bob", "<script>alert(1)</script> differs"))
    assert _plain_case_section.cache_info().hits == 2
    assert again == first.replace("ada", "bob")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; differs" in again and "<script>alert" not in again
    printed = render_student(student("cy", "differs", output="<b>step 1</b>"))
    assert "&lt;b&gt;step 1&lt;/b&gt;" in printed and "<b>step" not in printed
    long = render_student(student("dee", "<i>" + "x" * 5000))
    assert "&lt;i&gt;" + "x" * 5000 in long
    wide = render_student(student("eve", '"\U0001d54f" differs'))
    assert "&#34;\U0001d54f&#34; differs" in wide
    assert _plain_case_section.cache_info().currsize == 2  # output, long, wide: none kept


def test_the_class_page_joins_one_mistake_across_cases_only_for_the_same_students():
    from grader.results.common import Group
    ab, abc = ("ann", "bob"), ("ann", "bob", "cy")
    groups = [Group("p.f", "hidden-1", abc, "2.0"), Group("p.f", "public-1", abc, "1.0"),
              Group("p.g", "public-1", abc, "1.0"), Group("p.f", "public-2", ab, "3.0"),
              Group("p.f", "hidden-2", ab, "4.0", declared_mistake="Off by one.")]
    rows = common_rows(groups)
    assert [(r["problem"], r["cases"], r["count"]) for r in rows] == [
        ("p.f", ["hidden-1", "public-1"], 3), ("p.g", ["public-1"], 3), ("p.f", ["public-2"], 2),
        ("p.f", ["hidden-2"], 2)]  # another problem, other students, a declared mistake: apart
    assert rows[0]["answer"] == "2.0"
    first = common_rows(groups, hidden={("p.f", "hidden-1"), ("p.f", "hidden-2")})[0]
    assert first["cases"] == ["public-1", "hidden-1"] and first["answer"] == "1.0"  # public first


def test_the_class_page_joins_the_same_students_wrong_answers_across_problems():
    from grader.sandbox import wire

    def summarised(wrong: dict) -> ClassSummary:  # student -> problem -> their wrong answer
        summary = ClassSummary()
        for name, answers in wrong.items():
            summary.add(SubmissionResult(name, [ProblemResult(problem, 1.0, [CaseResult(
                "public-1", "public", problem not in answers, "wrong",
                answer=wire.encode(answers.get(problem, 0.0)))])
                for problem in ("p.f", "p.g", "p.h")]))
        return summary

    three = {"p.f": 9.5, "p.g": 8.5, "p.h": 3.5}
    wrong = {"ann": {"p.f": 1.5, "p.g": 2.5}, "bob": {"p.f": 1.5, "p.g": 2.5},
             "cy": {"p.f": 7.5}, "dee": {"p.f": 7.5, "p.g": 2.5},  # p.g: with ann and bob
             "eve": three, "fay": three, "gus": three}
    rows = summarised(wrong).context()["across"]
    assert [(r["count"], r["problems"], r["students"]) for r in rows] == [
        (3, ["p.f", "p.g", "p.h"], ["eve", "fay", "gus"])]  # ann and bob: not alone on p.g
    del wrong["dee"]
    summary = summarised(wrong)
    assert [(r["count"], r["problems"]) for r in summary.context()["across"]] == [
        (3, ["p.f", "p.g", "p.h"]), (2, ["p.f", "p.g"])]
    page = render_class(summary)
    across = page[page.index('<table id="across"'):page.index("<h2>Common errors")]
    assert ('<td class="num">2</td><td>p.f, p.g</td><td><a href="ann/report.html">ann</a>, '
            '<a href="bob/report.html">bob</a></td>') in across
    assert across.index("p.f, p.g, p.h") < across.index("p.f, p.g<")
    assert 'id="across"' not in render_class(summarised({"ann": three, "bob": {"p.f": 9.5}}))


def test_the_class_page_says_what_it_leaves_to_the_csv_and_lists_every_known_mistake():
    from grader.report.classpage import COMMON_SHOWN
    from grader.sandbox import wire
    summary = ClassSummary()
    extra = 3
    for name in ("ann", "bob"):  # the same wrong answer to every problem
        summary.add(SubmissionResult(name, [
            ProblemResult(f"hw.p{index:02d}", 1.0, [CaseResult(
                "public-1", "public", False, "wrong", answer=wire.encode(index + 0.5),
                mistake=f"mistake {index}" if index >= COMMON_SHOWN - 10 else None)])
            for index in range(COMMON_SHOWN + extra)]))
    page = render_class(summary)
    common = page[page.index('<table id="common"'):page.index("<h2>Known mistakes")]
    assert common.count("<tr><td>hw.p") == COMMON_SHOWN
    left = [f"hw.p{index:02d}" for index in range(COMMON_SHOWN, COMMON_SHOWN + extra)]
    assert (f"{extra} more rows, none larger than those above ({extra} rows of <a href="
            f'"common-wrong-answers.csv">common-wrong-answers.csv</a>), on {", ".join(left)}.'
            in common)  # the declared ones go last: p40-p52 declared, p50-p52 left out
    known = page[page.index("<h2>Known mistakes"):]
    assert all(f"mistake {index}" in known  # all 13, not the first ten
               for index in range(COMMON_SHOWN - 10, COMMON_SHOWN + extra))


def test_the_class_page_names_each_kind_of_whole_file_failure_and_who_had_it(result):
    def missing(file: str, problem: str) -> ProblemResult:
        return ProblemResult(problem, 1.0, [CaseResult("public-1", "public", False,
                                                       f"{file} is not in your submission.",
                                                       error_kind="missing_file")])
    passed = ProblemResult("optim.sgd", 1.0, [CaseResult("public-1", "public", True)])
    parts = [ClassSummary(), ClassSummary()]
    parts[0].add(result)  # a syntax error in optim.py, which holds two problems of the three
    for name, part in (("bob", parts[0]), ("cy", parts[1])):  # a package's three files
        part.add(SubmissionResult(name, [missing("cs231n/layers.py", "cs231n.relu_forward"),
                                         missing("cs231n/optim.py", "cs231n.sgd"),
                                         missing("cs231n/rnn_layers.py", "cs231n.rnn_step"),
                                         passed]))
    parts[1].add(SubmissionResult("dee", [missing("rnn.py", "rnn.cross_entropy"),
                                          missing("optim.py", "optim.sgd")]))
    parts[0].merge(parts[1])
    rows = parts[0].context()["file_failures"]
    assert [(r["what"], r["stopped"], r["count"], r["students"]) for r in rows] == [
        ("not handed in", "all of cs231n (3)", 2, ["bob", "cy"]),  # once each, not per file
        ("handed in nothing", "all", 1, ["dee"]),
        ("a syntax error", "optim.gd_quadratic, optim.running_average", 1, ["ada"])]
    problems = {d["id"]: d for d in parts[0].context()["problems"]}
    assert (problems["optim.gd_quadratic"]["students"], problems["optim.gd_quadratic"]["unloaded"],
            problems["cs231n.sgd"]["missing"], problems["optim.sgd"]["students"]) == (0, 1, 2, 2)
    page = render_class(parts[0])
    assert '<td>not handed in</td><td>all of cs231n (3)</td><td class="num">2</td>' in page
    assert 'href="cy/report.html"' in page[page.index('id="file-failures"'):]


def test_the_class_page_groups_the_errors_students_share(result):
    def failing(name: str, first: str, kind: str = "exception") -> SubmissionResult:
        return SubmissionResult(name, [ProblemResult("rnn.bptt", 1.0, [
            CaseResult("public-1", "public", False, f"{first}\n  rnn.py, line {len(name)}",
                       error_kind=kind),
            CaseResult("hidden-1", "hidden", False, "not run: an earlier case of this problem "
                       "failed (exit).", error_kind="not_run")])])
    summary = ClassSummary()
    summary.add(result)  # a syntax error: said with the whole files, not here
    stub = "bptt raised NotImplementedError: not finished"
    for name in ("ann", "bo", "cyd"):
        summary.add(failing(name, stub))
    summary.add(failing("dee", "bptt raised ValueError: shapes (3,) and (4,) not aligned"))
    other = ClassSummary()
    other.add(failing("eve", stub))
    summary.merge(other)
    rows = summary.context()["common_errors"]
    assert [(r["problem"], r["error"], r["students"]) for r in rows] == [
        ("rnn.bptt", stub, ["ann", "bo", "cyd", "eve"])]  # one student's error is no group
    assert "<code>bptt raised NotImplementedError: not finished</code>" in render_class(summary)


def test_a_notebook_cell_s_syntax_error_is_said_once_as_the_cell_s():
    cell = ("rnn.ipynb, cell 8, line 3: syntax error: '(' was never closed\n    return f(x\n"
            "Fix the syntax error: Python cannot run this cell, so the functions it defines did "
            "not run (the other cells were graded).")
    result = SubmissionResult("ann", [ProblemResult("rnn.jac", 1.0, [
        CaseResult("public-1", "public", False, cell, error_kind="syntax")])], notes=[
        "rnn.ipynb, cell 8, line 3: syntax error ('(' was never closed): the cell is not run, so "
        "jac fails with this error. The other cells are graded.",
        "rnn.ipynb, cell 9, line 1: syntax error (invalid syntax): the cell is not run."])
    lines = table(result).splitlines()
    assert lines[0] == "Note: rnn.ipynb, cell 9, line 1: syntax error (invalid syntax): the cell " \
                       "is not run."  # another cell's, which stops no graded function: kept
    assert lines[1] == "A problem with a notebook cell stops 1 problem (rnn.jac):"
    assert not any(line.startswith("Note:") and "cell 8" in line for line in lines)
    page = render_student(result)
    assert page.count("cell 8, line 3") == 2  # at the top, and its case's one line
    assert "<strong>A problem with a notebook cell</strong> stops 1 problem (rnn.jac):" in page
    assert "(a problem with a notebook cell, shown at the top)" in page
    overview = to_gradescope(result)["output"]
    assert overview.count("cell 8, line 3") == 1 and "cell 9, line 1" in overview


def test_a_mistake_declared_on_several_problems_is_one_row_naming_them():
    unbiased = "Your variance is the unbiased one (ddof=1)."
    summary = ClassSummary()
    for name, problems in (("ann", ["l.batchnorm", "l.layernorm"]), ("bo", ["l.batchnorm"]),
                           ("cy", ["l.other"])):
        summary.add(SubmissionResult(name, [ProblemResult(p, 1.0, [CaseResult(
            "public-1", "public", False, "wrong", mistake=unbiased if p != "l.other" else "x")])
            for p in problems]))
    assert summary.context()["mistakes"] == [
        {"message": unbiased, "problems": [("l.batchnorm", 2), ("l.layernorm", 1)]},
        {"message": "x", "problems": [("l.other", 1)]}]
    assert "l.batchnorm (2), l.layernorm (1)" in render_class(summary)


def test_what_a_shared_wrong_answer_was_told_keeps_what_the_answer_evidently_is():
    from grader.compare.message import render
    from grader.compare.mismatch import compare
    from grader.course.model import Tolerance
    from grader.report.classpage import diagnosis
    from grader.results.common import Group, hint
    for answer, told in ((None, "expected a number, got None. Your function returned None"),
                         (round(26.876403541, 2), "Your answer is the expected one rounded")):
        feedback = render(compare(answer, np.float64(26.876403541), Tolerance(1e-6, 1e-9)))
        said = diagnosis(CaseResult("public-1", "public", False, feedback))
        assert said.startswith(feedback.splitlines()[0]) and told in said
        assert "would say it again" in hint(Group("p.f", "public-1", ("a", "b"), "x",
                                                  diagnosis=said))


def test_a_message_repeated_word_for_word_is_said_once_per_problem():
    missing = "layers.py has no function named ridge_solution. Check the spelling."
    problem = ProblemResult("layers.ridge_solution", 1.0, [
        CaseResult("public-1", "public", False, missing, error_kind="missing_function"),
        CaseResult("public-2", "public", True),
        CaseResult("hidden-1", "hidden", False, missing, error_kind="missing_function"),
        CaseResult("hidden-2", "hidden", False, "not equal to tolerance"),
        CaseResult("hidden-3", "hidden", False, missing, error_kind="missing_function")])
    text = problem.feedback()
    assert text.count("no function named") == 1
    assert text.count("The same as case 'public-1' above.") == 2
    assert "not equal to tolerance" in text
    hidden = problem.feedback(cases=problem.cases[2:])  # e.g. Gradescope's hidden test alone
    assert hidden.count("no function named") == 1 and "'hidden-1' above" in hidden
    page = render_student(SubmissionResult("ann", [problem]))
    assert page.count("no function named") == 1 and page.count("The same as case") == 2


def test_the_class_page_axes_and_maximum():
    summary = ClassSummary()
    for name, earned in (("a", 36.0), ("b", 20.5), ("c", 3.0)):
        summary.add(SubmissionResult(name, [ProblemResult("p", 36.0, [
            CaseResult(str(i), "public", i < earned) for i in range(36)])]))
    page = render_class(summary)
    assert ">Score (points, out of a maximum of 36)</text>" in page
    assert ">Students</text>" in page
    assert re.search(r'font-weight="bold">36</text>', page)  # the maximum, on the axis
    assert ">mean 20</text>" in page  # (36 + 21 + 3) / 3
    plot = histogram_plot([36.0, 20.5, 3.0], 36.0, 19.83)
    assert [t["label"] for t in plot["ticks_x"]][::5] == ["0", "18", "36"]
    assert [b["count"] for b in plot["bars"]] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    highest_count = min(b["y"] - 4 for b in plot["bars"] if b["count"])  # a count's baseline
    assert plot["mean"]["y"] <= highest_count - 11  # the mean's label sits above, not on it
    small = histogram_plot([1.0, 5.0], 5.0, 3.0)  # one bin per point of a small maximum
    assert [t["label"] for t in small["ticks_x"]] == ["0", "1", "2", "3", "4", "5"]


def test_gradescope_split_public_and_hidden(result):
    data = to_gradescope(result, hidden_visibility="after_due_date")
    tests = {t["name"]: t for t in data["tests"]}
    public = tests["layers.init_scheme: public cases (3/4 passed)"]
    hidden = tests["layers.init_scheme: hidden cases (3/3 passed)"]
    assert public["visibility"] == "visible" and hidden["visibility"] == "after_due_date"
    assert public["tags"] == ["mistake"] and "Known mistake: double" in public["output"]
    assert public["score"] + hidden["score"] == pytest.approx(result.problems[0].points,
                                                              abs=1e-5)
    assert public["max_score"] + hidden["max_score"] == pytest.approx(1.0)
    assert tests["rnn.cross_entropy: public cases (1/1 passed)"]["visibility"] == "visible"
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(data["score"])
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(result.max_score)
    assert data["output"].count("Fix the syntax error") == 1
    assert data["output"].startswith("Your files were found in the folder hw/")
    grader_failed = to_gradescope(SubmissionResult("x", [ProblemResult(
        "p", 1.0, [CaseResult("hidden-1", "hidden", True)], grader_error="boom")]),
        hidden_visibility="hidden")
    (test,) = grader_failed["tests"]
    assert test["visibility"] == "visible" and "grader itself failed" in test["output"]


def test_the_public_and_hidden_tests_add_up_to_the_problem_s_points_exactly():
    problem = ProblemResult("p", 1.0, [CaseResult("public-1", "public", True),
                                       CaseResult("hidden-1", "hidden", True),
                                       CaseResult("hidden-2", "hidden", False)])
    data = to_gradescope(SubmissionResult("x", [problem]), hidden_visibility="hidden")
    public, hidden = data["tests"]
    assert (public["score"], public["max_score"]) == (0.333333, 0.333333)
    assert (hidden["score"], hidden["max_score"]) == (0.333334, 0.666667)
    assert public["score"] + hidden["score"] == problem.points == data["score"] == 0.666667
    assert public["max_score"] + hidden["max_score"] == 1.0


def test_a_file_problem_only_hidden_cases_met_stays_in_their_hidden_test():
    """Student code running a hidden case holds its inputs: what it makes the grader say there
    (an import error, a syntax error raised on purpose) is not said in the top-level output,
    which students see at once, but in full in the hidden test."""
    leaked = "optim.py, line 0: syntax error: HIDDEN A=[[7.69]]\nFix the syntax error: ..."
    shared = "rnn.py is not in your submission."
    result = SubmissionResult("x", [
        ProblemResult("optim.gd", 1.0, [
            CaseResult("public-1", "public", True),
            CaseResult("hidden-1", "hidden", False, leaked, error_kind="syntax")]),
        ProblemResult("rnn.ce", 1.0, [
            CaseResult("public-1", "public", False, shared, error_kind="missing_file"),
            CaseResult("hidden-1", "hidden", False, shared, error_kind="missing_file")])])
    data = to_gradescope(result, hidden_visibility="after_due_date")
    tests = {t["name"]: t for t in data["tests"]}
    assert "HIDDEN" not in data["output"] and shared in data["output"]
    assert "FAILED\n  optim.py, line 0: syntax error: HIDDEN A=[[7.69]]\n  Fix the syntax error" \
        in tests["optim.gd: hidden cases (0/1 passed)"]["output"]  # in full, not "at the top"
    assert "(a problem with the whole file, shown at the top)" \
        in tests["rnn.ce: hidden cases (0/1 passed)"]["output"]
    for test in data["tests"]:
        if test["visibility"] == "visible":
            assert "HIDDEN" not in test["output"]
    whole = to_gradescope(result)  # one test per problem: for the instructor, all of it
    assert "HIDDEN" in whole["output"]


def test_notes_are_stored(result):
    assert from_dict(to_dict(result)).notes == result.notes
    assert from_dict({"student": "x", "problems": []}).notes == []  # older grade.json


@pytest.mark.parametrize("value", [
    np.array([[2.0, 1.0], [1.0, 12.0]]), np.array([0.1 + 0.2, 1 / 3, -1e-300, 5e-324]),
    np.array([np.nan, np.inf, -np.inf]), np.arange(6, dtype=np.int64).reshape(2, 3),
    np.array([1.5, 2.25], dtype=np.float32), np.array([True, False]), np.array(2.5),
    np.random.default_rng(0).normal(size=(30, 20)),  # written as bytes, still exact
    {"w": np.ones(2), "cfg": {"lr": 0.1, "t": 3}}, (np.zeros((0, 3)), None, "s"), [1, 2.0],
    math.nan, -math.inf])
def test_literals_evaluate_to_the_same_value(value):
    import base64  # noqa: F401 - names the literal may use
    back = eval(literal(value), {"np": np, "base64": base64})
    np.testing.assert_equal(back, value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape


def test_a_snippet_runs_the_students_function(tmp_path):
    (tmp_path / "optim.py").write_text("def step(A, w0, lr):\n    return w0 - lr * (A @ w0)\n")
    code = snippet(function="step", module="optim", positional=False,
                   args={"A": np.array([[2.0, 1.0], [1.0, 12.0]]), "w0": np.array([4.0, 1.0]),
                         "lr": 0.05})
    assert code.splitlines() == [
        "import numpy as np", "from optim import step", "A = np.array([[2.0, 1.0], [1.0, 12.0]])",
        "w0 = np.array([4.0, 1.0])", "lr = 0.05", "step(A=A, w0=w0, lr=lr)"]
    lines = code.splitlines()
    script = "\n".join(lines[:-1] + [f"print(np.allclose({lines[-1]}, [3.55, 0.2]))"])
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "True"


def test_a_student_with_grader_failures_names_each_and_has_no_points_for_them():
    ok = ProblemResult("a.fine", 2.0, [CaseResult("public-1", "public", True)])
    broken = [ProblemResult(f"a.broken{i}", 1.0, grader_error="the course's generator failed")
              for i in (1, 2)]
    summary = ClassSummary()
    summary.add(SubmissionResult("ada", [ok, *broken]))
    (row,) = summary.students
    assert row["grader_error"] == ("a.broken1: the course's generator failed; a.broken2 too")
    assert row["points"] == {"a.fine": 2.0, "a.broken1": None, "a.broken2": None}

