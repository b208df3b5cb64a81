"""The engine's contract, whatever the adapter: keyword-only entry points, one Limits honoured
per problem, the grader's own failures recorded (never blamed on the student), problem kinds
behind one interface, the structured mismatch, and a package without import cycles."""
import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader.compare.mismatch import Mismatch, compare
from grader.course.manifest import load_course
from grader.course.model import Tolerance
from grader.engine import Engine, grade_submission
from grader.kinds import kind_of
from grader.kinds.base import Kind
from grader.results.model import has_grader_error

from conftest import EXAMPLES, ROOT

def test_grade_submission_gives_the_scores_of_every_context(course, sandbox, graded):
    with pytest.raises(TypeError):
        grade_submission(course, EXAMPLES / "mistaken", sandbox)  # keyword-only
    result = grade_submission(course=course, submission=EXAMPLES / "mistaken", sandbox=sandbox)
    assert result.student == "mistaken" and result.score == graded["mistaken"].score
    assert [p.points for p in result.problems] == [p.points for p in graded["mistaken"].problems]


def test_a_single_file_homework_whose_file_a_package_took_is_said_so(graded):
    """As `grader check` skips it, grading says that the loose optim.py of a package handed in
    flat is the package's, rather than that it lacks the optim homework's functions."""
    for student in ("cs231n_flat", "cs231n_adam_nobias"):
        result = graded[student]
        for problem in result.problems:
            assignment = problem.problem_id.partition(".")[0]
            if assignment not in ("optim", "layers"):
                continue
            assert problem.points == 0 and problem.cases
            assert {(c.error_kind, c.feedback) for c in problem.cases} == {(
                "missing_file", f"{assignment}.py was taken as part of cs231n, whose other "
                f"files are in your submission too, so it was not graded as this homework's "
                f"{assignment}.py.")}
        assert any(p.points for p in result.problems if p.problem_id.startswith("cs231n."))
    assert all(c.error_kind != "missing_file" for p in graded["correct"].problems
               for c in p.cases)


def test_every_kind_answers_the_same_interface():
    for name in ("value", "sampler", "property"):
        kind = kind_of(name)
        assert isinstance(kind, Kind) and kind.name == name
    assert len(kind_of("sampler").requests(None, type("Case", (), {"args": {"seed": 1}}))) == 3


def test_a_problem_memory_limit_holds_in_a_full_run(course_copy, sandbox, tmp_path):
    manifest = course_copy / "problems" / "layers.toml"
    text = manifest.read_text()
    manifest.write_text(text.replace('function = "ridge_solution"\npoints = 1',
                                     'function = "ridge_solution"\npoints = 1\n'
                                     'memory_limit_mb = 150', 1))
    course = load_course(course_copy / "problems", course_copy / "reference")
    student = tmp_path / "big"
    shutil.copytree(EXAMPLES / "correct", student)
    with open(student / "layers.py", "a") as source:
        source.write(textwrap.dedent("""
            _ridge = ridge_solution
            def ridge_solution(X, y, lam):
                ballast = np.ones(300 * 2**20 // 8)  # 300 MB: over 150, under the default 512
                return _ridge(X, y, lam) + 0 * ballast[0]
        """))
    result = Engine(course=course, sandbox=sandbox, hidden=False).grade("big", [student])
    failing = {p.problem_id: p for p in result.problems if not p.passed}
    assert "layers.ridge_solution" in failing
    assert "150 MB" in failing["layers.ridge_solution"].feedback()
    assert {p for p in failing if not p.startswith("cs231n.")} == {"layers.ridge_solution"}


def test_an_answer_that_breaks_the_comparison_fails_its_case_not_the_grader(
        course, sandbox, tmp_path, monkeypatch):
    """A kind's comparison that raises on what the child sent (here: on any value of the
    student's) fails that case with a sentence, the other problems graded as usual."""
    value_kind = kind_of("value")
    real = type(value_kind).verdict

    def fragile(self, problem, case, values, expected, course):
        if problem.id == "optim.gd_quadratic":
            raise OverflowError("int too large to convert to float")
        return real(self, problem, case, values, expected, course)

    monkeypatch.setattr(type(value_kind), "verdict", fragile)
    result = Engine(course=course, sandbox=sandbox, hidden=False,
                    problems=["optim.gd_quadratic", "optim.running_average"]).grade(
        "correct", [EXAMPLES / "correct"])
    assert not has_grader_error(result)
    broken, fine = result.problems
    assert fine.passed and not broken.passed and broken.cases
    case = broken.cases[0]
    assert case.error_kind == "unsupported"
    assert case.feedback.startswith(
        "gd_quadratic returned a value the grader could not compare with the expected one "
        "(OverflowError: int too large to convert to float)")


def test_every_case_offered_to_paste_runs_in_the_student_s_folder(course, tmp_path):
    """Each public case given as Python to paste runs, pasted in the correct student's
    folder (one process runs them all, each in a namespace of its own); a problem graded
    through a course driver offers none, since the driver calls the student's functions its
    own way."""
    engine = Engine(course=course, hidden=False)
    snippets = {}
    for planned in engine.plan:
        public = next(c for c in planned.cases if c.visibility == "public")
        code = engine.reproduce(planned.problem.id, public.id)
        assert (code is None) == bool(planned.problem.driver), planned.problem.id
        if code is not None:
            snippets[planned.problem.id] = code
    assert len(snippets) >= 20
    script = ("import json, traceback\nfailed = {}\n"
              "for name, code in json.loads(SNIPPETS).items():\n"
              "    try:\n        exec(code, {})\n"
              "    except Exception:\n        failed[name] = traceback.format_exc(limit=1)\n"
              "print(json.dumps(failed))\n")
    done = subprocess.run([sys.executable, "-c", f"SNIPPETS = {json.dumps(snippets)!r}\n"
                           + script], cwd=EXAMPLES / "correct", capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}


def _break(course_copy, file, old, new):
    path = course_copy / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    return load_course(course_copy / "problems", course_copy / "reference")


def test_a_failing_reference_is_the_grader_s_failure(course_copy, sandbox):
    course = _break(course_copy, "reference/optim.py", "def running_average(gs, beta):\n",
                    "def running_average(gs, beta):\n    raise ZeroDivisionError('course bug')\n")
    result = Engine(course=course, sandbox=sandbox, hidden=True).grade(
        "correct", [EXAMPLES / "correct"])
    broken = next(p for p in result.problems if p.problem_id == "optim.running_average")
    assert has_grader_error(result) and broken.points == 0 and not broken.cases
    assert "ZeroDivisionError: course bug (reference/optim.py, line " in broken.grader_error
    assert str(course_copy) not in broken.grader_error  # no path of the instructor's machine
    assert "not your fault" in broken.feedback()
    assert all(p.passed for p in result.problems if not p.grader_error)


def test_a_failing_generator_is_the_grader_s_failure_not_a_crash(course_copy, sandbox):
    course = _break(course_copy, "problems/optim_cases.py", "def descent(rng):\n",
                    "def descent(rng):\n    raise KeyError('steps')\n")
    engine = Engine(course=course, sandbox=sandbox, hidden=True)
    result = engine.grade("correct", [EXAMPLES / "correct"])
    broken = next(p for p in result.problems if p.problem_id == "optim.gd_quadratic")
    assert "case generator for optim.gd_quadratic failed: KeyError: 'steps' " \
           "(problems/optim_cases.py, line " in broken.grader_error


def test_check_says_when_the_grader_failed_and_exits_3(cli, course_copy):
    _break(course_copy, "reference/optim.py", "def running_average(gs, beta):\n",
           "def running_average(gs, beta):\n    raise ZeroDivisionError('course bug')\n")
    result = cli("check", EXAMPLES / "correct", "--problems", course_copy / "problems",
                 "--reference", course_copy / "reference", expect=3)
    assert "optim.running_average" in result.stdout
    assert "The grader itself failed on optim.running_average" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_grade_lists_a_student_the_grader_failed_on_and_exits_3(cli, course_copy, tmp_path):
    _break(course_copy, "problems/optim_cases.py", "def descent(rng):\n",
           "def descent(rng):\n    raise KeyError('steps')\n")
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", klass / "correct")
    result = cli("grade", klass, "--out", tmp_path / "out", "--problems",
                 course_copy / "problems", "--reference", course_copy / "reference", "-q",
                 expect=3)
    assert "INTERNALERROR" not in result.stdout + result.stderr
    assert "optim.gd_quadratic" in result.stdout


def test_a_mismatch_is_structured_before_it_is_a_message():
    mismatch = compare({"W": np.array([[1.0, 2.0], [3.0, 4.0]])},
                       {"W": np.array([[1.0, 2.5], [3.0, 4.0]])}, Tolerance(1e-6, 1e-9))
    assert isinstance(mismatch, Mismatch) and mismatch.stage == "values"
    assert mismatch.path == ("W",) and (mismatch.count, mismatch.total) == (1, 4)
    assert mismatch.differences[0].index == (0, 1) and mismatch.differences[0].yours == 2.0
    assert mismatch.max_abs == pytest.approx(0.5) and mismatch.max_rel == pytest.approx(0.2)
    assert compare(np.zeros((2, 1)), np.zeros(2), Tolerance(0, 0)).stage == "shape"
    assert compare({"a": 1.0}, {"b": 1.0}, Tolerance(0, 0)).missing == ("b",)


def test_a_dict_with_a_million_keys_is_described_in_a_few(course):
    mismatch = compare({str(i): 0.0 for i in range(10**6)}, {"U": 1.0}, Tolerance(0, 0))
    assert len(mismatch.extra) <= 9 and mismatch.extra[-1].startswith("... and ")


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The grader modules a module imports, at module level or inside its functions (an import
    only for type checkers, under `if TYPE_CHECKING:`, runs nothing): `from package import
    module` imports that module."""
    names = set()

    def visit(node):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
            inner = {f"{node.module}.{a.name}" for a in node.names} & modules
            names.update(inner if len(inner) == len(node.names) else inner | {node.module})
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("grader"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return names


def test_the_package_has_no_import_cycles():
    modules = {}
    for path in (ROOT / "grader").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = {name: {m for m in _imports(path, set(modules)) if m in modules and m != name}
             for name, path in modules.items()}
    state = {}

    def visit(name, trail):
        if state.get(name) == "done":
            return
        assert state.get(name) != "open", f"import cycle: {' -> '.join(trail + [name])}"
        state[name] = "open"
        for target in graph[name]:
            visit(target, trail + [name])
        state[name] = "done"

    for name in graph:
        visit(name, [])


def test_every_module_says_what_it_owns():
    for path in (ROOT / "grader").rglob("*.py"):
        if path.name != "__main__.py":
            assert ast.get_docstring(ast.parse(path.read_text())), path


def _peak_grading(course_copy, sandbox, student, hidden: int) -> tuple[int, int]:
    """(cases graded, peak bytes the grader held) for cross_entropy with `hidden` cases."""
    import tracemalloc
    manifest = course_copy / "problems" / "rnn.toml"
    text = manifest.read_text()
    old = 'generator = "probabilities"\npublic = 1\nhidden = 3'
    manifest.write_text(text.replace(old, f'generator = "probabilities"\npublic = 1\n'
                                          f'hidden = {hidden}', 1))
    course = load_course(course_copy / "problems", course_copy / "reference")
    manifest.write_text(text)
    engine = Engine(course=course, sandbox=sandbox, hidden=True,
                    problems=["rnn.cross_entropy"])
    tracemalloc.start()
    try:
        (problem,) = engine.grade("big", [student]).problems
        return len(problem.cases), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_answers_are_judged_and_dropped_as_they_arrive(course_copy, sandbox, tmp_path):
    """16 MB wrong answers: the grader's peak is that of one answer, however many there are."""
    student = tmp_path / "big"
    student.mkdir()
    (student / "rnn.py").write_text("import numpy as np\n"
                                    "def cross_entropy(y, p):\n    return np.ones(2_000_000)\n")
    few, peak_few = _peak_grading(course_copy, sandbox, student, hidden=1)
    many, peak_many = _peak_grading(course_copy, sandbox, student, hidden=12)
    assert (few, many) == (3, 14)
    assert peak_many < 1.3 * peak_few, (peak_few >> 20, peak_many >> 20)
    assert peak_many < 14 * 16 * 2**20 / 2  # far from holding every answer
