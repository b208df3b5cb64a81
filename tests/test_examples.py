"""Every example student's expected outcome: which problems fail (all others earn full marks)
and words their feedback must contain. The cs231n students' outcomes are in cs231n_expected.py
(shared with the in-process content test) and are checked in both layouts, the package as a
`cs231n/` folder and its files at the top level."""
import shutil

import numpy as np
import pytest

from conftest import EXAMPLES
from cs231n_expected import EXPECTED as CS231N_EXPECTED

RNN = ["rnn.cross_entropy", "rnn.hidden_jacobian", "rnn.jacobian_chain", "rnn.jacobian_norm_bound",
       "rnn.guaranteed_to_vanish", "rnn.softmax_output_grads", "rnn.bptt_grads", "rnn.birnn_grads"]
OPTIM = ["optim.gd_quadratic", "optim.nesterov_quadratic", "optim.momentum_from_running_average",
         "optim.running_average", "optim.bias_corrected"]
LAYERS = ["layers.expected_dropout_loss", "layers.dropout_solution", "layers.ridge_solution",
          "layers.init_scheme", "layers.init_weights", "layers.batchnorm_stats",
          "layers.layernorm_stats", "layers.instancenorm_stats", "layers.weightnorm_weight",
          "layers.weightnorm_grad"]
CS231N = [f"cs231n.{f}" for f in (
    "sgd_momentum", "rmsprop", "adam", "affine_forward", "affine_backward", "relu_forward",
    "relu_backward", "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
    "softmax_loss", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward")]
FIRST_THREE = RNN + OPTIM + LAYERS
ALL = FIRST_THREE + CS231N


def missing(problems) -> dict:
    """The problems of an assignment the student did not hand in: each fails."""
    return {p: [] for p in problems}


# The words each declared mistake's feedback must contain (from the course description).
MISTAKE_WORDS = {
    "rnn.hidden_jacobian": ["diag", "left"], "rnn.jacobian_chain": ["order"],
    "rnn.jacobian_norm_bound": ["spectral"], "rnn.guaranteed_to_vanish": ["singular"],
    "rnn.bptt_grads": ["time steps"], "rnn.birnn_grads": ["sum over"],
    "optim.nesterov_quadratic": ["look-ahead"], "optim.bias_corrected": ["beta**t"],
    "layers.dropout_solution": ["1/p"], "layers.init_scheme": ["ReLU", "half"],
    "layers.batchnorm_stats": ["ddof", "biased"], "layers.layernorm_stats": ["ddof", "biased"],
    "layers.instancenorm_stats": ["ddof", "biased"], "layers.weightnorm_grad": ["project"],
}

# student -> {failing problem: words its feedback contains}
FIRST_THREE_EXPECTED = {
    "mistaken": {problem: ["Known mistake"] + words for problem, words in MISTAKE_WORDS.items()}
                | {"layers.init_weights": ["does not look like uniform", "variance"]},  # its
    # init_scheme's ReLU mistake, carried into the sampler: seen on the relu-uniform case
    "rounded": {p: ["not equal to tolerance"] for p in FIRST_THREE
                if p not in ("rnn.guaranteed_to_vanish", "layers.init_weights")}
               | {"layers.init_weights": ["does not look like uniform", "support"]},
    "syntax_error": {p: ["optim.py, line 36", "syntax error"] for p in OPTIM},
    "missing_function": {"layers.ridge_solution": ["has no function named ridge_solution"]},
    "wrong_shapes": {"layers.ridge_solution": ["shape mismatch: expected (", ", 1)"],
                     "layers.batchnorm_stats": ["shape mismatch", "(1, 2, 1)"],
                     "rnn.cross_entropy": ["expected a single number", "shape (1,)"]},
    "raises": {"rnn.bptt_grads": ["NotImplementedError", "backpropagation", "rnn.py, line"],
               "rnn.birnn_grads": ["ValueError", "rnn.py, line"]},
    "infinite_loop": {"optim.running_average": ["time limit of 2 s", "infinite loop",
                                                "It was stopped here:",
                                                "optim.py, line 5", "in running_average"],
                      "optim.bias_corrected": ["time limit of 2 s",
                                               "optim.py, line 47, in bias_corrected",
                                               "in running_average"]},
    "memory_hog": {"layers.ridge_solution": ["out of memory", "512 MB"]},
    "printer": {},
    "thief": {p: ["nothing stolen"] for p in RNN},
    "hostile_kernel": {p: ["nothing escaped"] for p in RNN},
    "forger": {p: [] for p in RNN},
    "exiter": {p: ["exited during import of optim.py"] for p in OPTIM}
              | {p: ["exited during import of layers.py"] for p in LAYERS}
              | {"rnn.hidden_jacobian": ["os.killpg"],
                 "rnn.jacobian_norm_bound": ["SIGSEGV", "jacobian_norm_bound"]},
    "bomb": {"layers.ridge_solution": ["does not let submissions use os.fork"],
             "layers.weightnorm_weight": ["time limit of 2 s"],
             "layers.weightnorm_grad": ["closed its connection to the grader while running "
                                        "weightnorm_grad"]},
    "liar": {p: ["does not accept"] for p in
             ["rnn.cross_entropy", "rnn.hidden_jacobian", "rnn.jacobian_norm_bound",
              "rnn.softmax_output_grads"]},
}
NOTEBOOK_EXPECTED = {  # notebooks in place of rnn.py, optim.py, layers.py
    "notebook_correct": {},
    "notebook_broken": {"rnn.hidden_jacobian": ["rnn.ipynb, cell 8, line 3", "syntax error"],
                        "rnn.jacobian_norm_bound": ["got None"]},
}
EXPECTED = {"correct": {},  # all four assignments, cs231n as a cs231n/ folder
            **{student: {**outcome, **missing(CS231N)}
               for student, outcome in {**FIRST_THREE_EXPECTED, **NOTEBOOK_EXPECTED}.items()},
            **{student: {**missing(FIRST_THREE), **outcome}
               for student, outcome in CS231N_EXPECTED.items()}}


def test_every_example_student_has_an_expected_outcome(graded):
    assert sorted(graded) == sorted(EXPECTED)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_student_fails_exactly_the_expected_problems(graded, student):
    result = graded[student]
    failing = {p.problem_id for p in result.problems if not p.passed}
    assert failing == set(EXPECTED[student])
    for problem in result.problems:
        if problem.passed:
            assert problem.points == problem.max_points
        for word in EXPECTED[student].get(problem.problem_id, []):
            assert word in problem.feedback(), f"{problem.problem_id}: {word!r} missing"


def test_correct_student_earns_every_point(graded):
    result = graded["correct"]
    assert result.score == result.max_score == 36 + 30
    assert all(any(c.visibility == "hidden" for c in p.cases) for p in result.problems)


def test_partial_credit_is_the_fraction_of_cases_passed(graded):
    # The mistaken student's init_scheme is right on every case that is not ReLU + uniform.
    problem = next(p for p in graded["mistaken"].problems if p.problem_id == "layers.init_scheme")
    assert 0 < problem.passed_cases < len(problem.cases)
    assert problem.points == pytest.approx(2 * problem.passed_cases / len(problem.cases))


def test_printed_megabytes_leave_a_truncated_excerpt(graded):
    problem = next(p for p in graded["printer"].problems if p.problem_id == "rnn.cross_entropy")
    case = problem.cases[0]
    assert case.passed and case.output.startswith("debug step 0:")
    assert len(case.output) <= 64 * 1024 and case.output_dropped > 4_000_000
    assert "output truncated" in problem.feedback()


def test_grading_every_example_is_bounded_and_leaves_no_process(graded, sandbox):
    from conftest import zygote_children
    assert graded.seconds < 60
    assert zygote_children(sandbox) == []


def test_the_forger_forged_nothing(graded):
    from conftest import FORGED
    assert not any(path.exists() for path in FORGED)
    result = graded["forger"]
    assert result.score == 36 - 15  # the eight rnn problems (15 points) earn nothing
    printed = next(p for p in result.problems
                   if p.problem_id == "rnn.cross_entropy").cases[0].output  # import-time output
    wrote = [line for line in printed.splitlines() if "WROTE" in line]
    assert wrote == ["results file: WROTE results.json"]  # its own scratch directory only
    assert "refused" in printed


def test_the_thief_found_nothing(graded):
    printed = next(p for p in graded["thief"].problems
                   if p.problem_id == "rnn.cross_entropy").cases[0].output
    assert "FOUND" not in printed
    for attempt in ("sys.modules", "gc.get_objects", "stack frames", "import reference"):
        assert attempt in printed


@pytest.fixture(scope="module")
def self_checked(course, sandbox):
    """Every example student graded as `grader check` grades: public cases only."""
    from conftest import EXAMPLES
    from grader.engine import Engine
    engine = Engine(course=course, sandbox=sandbox, hidden=False)
    return {path.name: engine.grade(path.name, [path])
            for path in sorted(EXAMPLES.iterdir()) if path.is_dir()}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_the_self_check_fails_the_same_problems(self_checked, student):
    result = self_checked[student]
    assert {p.problem_id for p in result.problems if not p.passed} == set(EXPECTED[student])
    assert all(c.visibility == "public" for p in result.problems for c in p.cases)


def _other_layout(student: str, target):
    """The student's cs231n files laid out the other way: a cs231n/ folder becomes files at
    the top level, and files at the top level go into a cs231n/ folder."""
    source = EXAMPLES / student
    if (source / "cs231n").is_dir():
        shutil.copytree(source / "cs231n", target)
        (target / "__init__.py").unlink(missing_ok=True)
    else:
        shutil.copytree(source, target / "cs231n")
    return target


@pytest.mark.parametrize("student", sorted(CS231N_EXPECTED))
def test_cs231n_students_grade_the_same_in_either_layout(course, sandbox, tmp_path, student):
    from grader.engine import Engine
    engine = Engine(course=course, sandbox=sandbox, hidden=True, problems=CS231N)
    result = engine.grade(student, [_other_layout(student, tmp_path / student)])
    assert {p.problem_id for p in result.problems if not p.passed} == \
        set(CS231N_EXPECTED[student])


# ---- the course's cases go through every kind of input ------------------------------------------

def test_the_sampler_s_cases_cover_every_scheme_with_fans_far_apart(course):
    from grader.course.cases import cases_for
    cases = cases_for(course, course.problem("layers.init_weights"), hidden=True)
    assert {(c.args["activation"], c.args["distribution"]) for c in cases} == {
        ("relu", "normal"), ("relu", "uniform"), ("linear", "normal"), ("linear", "uniform")}
    assert all(c.args["fan_out"] >= 2 * c.args["fan_in"] for c in cases if c.id.startswith("hidden"))


def test_every_wrong_norm_of_guaranteed_to_vanish_is_caught_on_a_hidden_case(course):
    from grader.course.cases import cases_for
    from grader.kinds.base import run_trusted
    problem = course.problem("rnn.guaranteed_to_vanish")
    hidden = [c for c in cases_for(course, problem, hidden=True) if c.visibility == "hidden"]
    answers = [run_trusted(course, problem, c) for c in hidden]
    for norm in (lambda W: np.linalg.norm(W), lambda W: max(abs(np.linalg.eigvals(W)))):
        wrong = [norm(c.args["W_rec"]) * c.args["gamma"] < 1 for c in hidden]
        assert wrong != answers  # Frobenius, then the largest |eigenvalue|
    assert set(answers) == {True, False}


def test_jacobian_chain_is_asked_for_the_identity_too(course):
    from grader.course.cases import cases_for
    cases = cases_for(course, course.problem("rnn.jacobian_chain"), hidden=True)
    assert any(c.args["i"] == c.args["t"] for c in cases)
    assert sum(c.args["t"] - c.args["i"] >= 2 for c in cases) >= 3  # where the order matters


def test_a_generator_taking_index_is_given_the_case_s_number(course, monkeypatch):
    from grader.course import cases as module
    problem = course.problem("rnn.guaranteed_to_vanish")
    seen = []
    monkeypatch.setattr(course.generators["rnn"], "vanishing",
                        lambda rng, index: seen.append(index) or {"W_rec": np.eye(2), "gamma": 1})
    module.cases_for(course, problem, hidden=True)
    assert seen == [1, 1, 2, 3, 4, 5]  # public-1, then hidden-1 .. hidden-5
