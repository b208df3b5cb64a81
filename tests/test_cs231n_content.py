"""The `cs231n` course content, checked in this process without the sandbox: the manifest names
what exists; the reference's backward passes agree with finite differences of its forwards;
every driver runs on the reference; the property checks accept the reference and each known
mistake is recognised; and every example student fails exactly the problems its expected
outcome lists (pass or fail only: the words of the feedback belong to the engine's tests).
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import importlib.util
import inspect
import shutil
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS, REFERENCE = ROOT / "problems", ROOT / "reference" / "cs231n"
MANIFEST = next(path for path in (PROBLEMS / "cs231n.toml", PROBLEMS / "cs231n.toml.pending")
                if path.exists())
STUDENTS = ROOT / "submissions_example"
EXPECTED_FILE = Path(__file__).with_name("cs231n_expected.py")
RTOL, ATOL = 1e-6, 1e-9
FD_STEP, FD_RTOL, FD_ATOL = 1e-6, 1e-5, 1e-7

SPEC = ["sgd_momentum", "rmsprop", "adam", "affine_forward", "affine_backward", "relu_forward",
        "relu_backward", "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
        "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
        "softmax_loss", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
        "word_embedding_forward", "word_embedding_backward"]

# The reference function that exhibits each predicate mistake, and the function it stands in
# for, so the predicates can be shown to recognise their mistake.
PREDICATE_EXAMPLES = {
    "dropout_drop_probability": ("dropout_forward", "dropout_forward_drop_probability"),
    "dropout_not_inverted": ("dropout_forward", "dropout_forward_not_inverted"),
    "dropout_backward_drop_probability": ("dropout_forward", "dropout_forward_drop_probability"),
}

MANIFEST_DATA = tomllib.loads(MANIFEST.read_text())
ASSIGNMENT = MANIFEST_DATA["assignment"]
PROBLEM_LIST = MANIFEST_DATA["problem"]
BY_FUNCTION = {p["function"]: p for p in PROBLEM_LIST}


def _load(name: str, path: Path, *, package: bool = False):
    location = path / "__init__.py" if package else path
    spec = importlib.util.spec_from_file_location(
        name, location, submodule_search_locations=[str(path)] if package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if not package:
            del sys.modules[name]
    return module


def _forget(package: str):
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def reference():
    """The reference package's modules, loaded under a name no student package uses."""
    name = "_cs231n_reference"
    _load(name, REFERENCE, package=True)
    try:
        yield {stem: importlib.import_module(f"{name}.{stem}")
               for stem in (Path(f).stem for f in ASSIGNMENT["files"])}
    finally:
        _forget(name)


GENERATORS = _load("_cs231n_cases", PROBLEMS / ASSIGNMENT["generators"])
DRIVERS = _load("_cs231n_drivers", PROBLEMS / ASSIGNMENT["drivers"])
CHECKS = _load("_cs231n_checks", PROBLEMS / ASSIGNMENT["checks"])
SUPPORT = [PROBLEMS / path for path in ASSIGNMENT["support"]]


def case_rng(seed: int, problem_id: str, visibility: str, index: int):
    return np.random.default_rng([seed, zlib.crc32(f"{problem_id}/{visibility}".encode()), index])


def cases(problem: dict) -> list[tuple[str, dict]]:
    """(case id, args) of a problem's public and hidden cases, seeded as the engine seeds them."""
    generator = getattr(GENERATORS, problem["generator"])
    problem_id = f"cs231n.{problem['function']}"
    found = []
    for visibility, seed in (("public", ASSIGNMENT["public_seed"]),
                             ("hidden", ASSIGNMENT["hidden_seed"])):
        for index in range(1, problem.get(visibility, 0) + 1):
            found.append((f"{visibility}-{index}",
                          generator(case_rng(seed, problem_id, visibility, index))))
    return found


CASES = {p["function"]: cases(p) for p in PROBLEM_LIST}


def run(problem: dict, module, args: dict):
    """The problem's graded value (or observations) of `module` on fresh copies of `args`."""
    positional = copy.deepcopy(list(args.values()))
    if "driver" in problem:
        return getattr(DRIVERS, problem["driver"])(module, *positional)
    return getattr(module, problem["function"])(*positional)


def differs(actual, expected, rtol=RTOL, atol=ATOL) -> str | None:
    """None when `actual` matches `expected` (same structure, allclose values), else why not."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return f"expected a dict with keys {sorted(expected)}, got {actual!r:.80}"
        for key in expected:
            message = differs(actual[key], expected[key], rtol, atol)
            if message:
                return f"[{key!r}] {message}"
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return f"expected a sequence of length {len(expected)}, got {actual!r:.80}"
        for index, (a, e) in enumerate(zip(actual, expected)):
            message = differs(a, e, rtol, atol)
            if message:
                return f"[{index}] {message}"
        return None
    if expected is None or isinstance(expected, (str, bool)):
        return None if actual == expected else f"expected {expected!r}, got {actual!r:.80}"
    if not isinstance(actual, (np.ndarray, int, float, np.number)) or isinstance(actual, bool):
        return f"expected numbers, got {type(actual).__name__}"
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.dtype.kind not in "iuf" or actual.shape != expected.shape:
        return f"expected shape {expected.shape}, got {actual.dtype} of shape {actual.shape}"
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        return f"values differ by up to {np.max(np.abs(actual - expected)):.3g}"
    return None


def _with(module, replaces: str, mistake: str):
    """A copy of a reference module whose `replaces` is the mistake function, as the engine
    builds it."""
    return SimpleNamespace(**{**vars(module), replaces: getattr(module, mistake)})


# --- the manifest names what exists -----------------------------------------------------------

def test_the_manifest_has_one_problem_per_function_of_the_spec(reference):
    assert [p["function"] for p in PROBLEM_LIST] == SPEC
    assert ASSIGNMENT["package"] == ASSIGNMENT["reference"] == "cs231n"
    assert ASSIGNMENT["call"] == "positional"
    for problem in PROBLEM_LIST:
        module = reference[problem["module"]]
        assert callable(getattr(module, problem["function"]))
        assert problem.get("public", 0) >= 1 and problem.get("hidden", 0) >= 3
        driver = getattr(DRIVERS, problem["driver"])
        # a driver takes the case's arguments in the generator's order
        first_case = CASES[problem["function"]][0][1]
        assert list(inspect.signature(driver).parameters)[1:] == list(first_case)
        if problem.get("check") == "property":
            assert callable(getattr(CHECKS, problem["property"]))
        for mistake in problem.get("mistake", []):
            if "check" in mistake:
                assert callable(getattr(CHECKS, mistake["check"]))
                assert mistake["check"] in PREDICATE_EXAMPLES
            else:
                assert callable(getattr(module, mistake["function"]))
                assert callable(getattr(module, mistake.get("replaces", problem["function"])))
    for path in SUPPORT:
        assert path.is_file()


@pytest.mark.parametrize("function, words", [
    ("adam", ["bias correction"]), ("dropout_forward", ["keep"]),
    ("dropout_forward", ["inverted"]), ("dropout_backward", ["keep"]),
    ("rnn_backward", ["every time step"]), ("softmax_loss", ["summed", "divide both"]),
    ("softmax_loss", ["dx is N times too large"])])
def test_known_mistake_messages_say_what_the_course_promises(function, words):
    messages = [m["message"] for m in BY_FUNCTION[function]["mistake"]]
    assert any(all(word in message for word in words) for message in messages)


def test_update_rules_fill_the_starter_defaults_when_config_is_none(reference):
    w, dw = np.ones((2, 3)), np.full((2, 3), 0.5)
    keys = {"sgd_momentum": {"learning_rate", "momentum", "velocity"},
            "rmsprop": {"learning_rate", "decay_rate", "epsilon", "cache"},
            "adam": {"learning_rate", "beta1", "beta2", "epsilon", "m", "v", "t"}}
    for rule, expected in keys.items():
        next_w, config = getattr(reference["optim"], rule)(w, dw)
        assert next_w.shape == w.shape and set(config) == expected
    assert reference["optim"].adam(w, dw)[1]["t"] == 1


# --- generators -------------------------------------------------------------------------------

@pytest.mark.parametrize("problem", PROBLEM_LIST, ids=lambda p: p["function"])
def test_generators_are_seeded_and_typed(problem):
    generator = getattr(GENERATORS, problem["generator"])
    first = generator(np.random.default_rng(3))
    assert differs(generator(np.random.default_rng(3)), first, 0, 0) is None
    assert differs(generator(np.random.default_rng(4)), first, 0, 0) is not None

    def arrays(value):
        if isinstance(value, dict):
            return [a for v in value.values() for a in arrays(v)]
        return [value] if isinstance(value, np.ndarray) else []
    for name, value in first.items():
        for array in arrays(value):
            assert array.dtype == (np.int64 if name in ("x", "y") and array.dtype.kind == "i"
                                   else np.float64), name


# --- (a) backward passes agree with finite differences of their forwards ----------------------

FORWARD_BACKWARD = [  # module, forward, backward, generator, inputs the gradients are for
    ("layers", "affine_forward", "affine_backward", "affine_backward", ["x", "w", "b"]),
    ("layers", "relu_forward", "relu_backward", "relu_backward", ["x"]),
    ("layers", "batchnorm_forward", "batchnorm_backward", "batchnorm_backward",
     ["x", "gamma", "beta"]),
    ("layers", "batchnorm_forward", "batchnorm_backward_alt", "batchnorm_backward",
     ["x", "gamma", "beta"]),
    ("layers", "layernorm_forward", "layernorm_backward", "layernorm_backward",
     ["x", "gamma", "beta"]),
    ("layers", "dropout_forward", "dropout_backward", "dropout_backward", ["x"]),
    ("rnn_layers", "rnn_step_forward", "rnn_step_backward", "rnn_step_backward",
     ["x", "prev_h", "Wx", "Wh", "b"]),
    ("rnn_layers", "rnn_forward", "rnn_backward", "rnn_backward", ["x", "h0", "Wx", "Wh", "b"]),
    ("rnn_layers", "word_embedding_forward", "word_embedding_backward",
     "word_embedding_backward", ["W"]),
]


def numeric_gradient(f, args: dict, name: str) -> np.ndarray:
    """Central differences of the scalar f(args) with respect to args[name]."""
    grad = np.zeros_like(args[name], dtype=float)
    for index in np.ndindex(grad.shape):
        values = []
        for sign in (1, -1):
            moved = copy.deepcopy(args)
            moved[name][index] += sign * FD_STEP
            values.append(f(moved))
        grad[index] = (values[0] - values[1]) / (2 * FD_STEP)
    return grad


@pytest.mark.parametrize("module, forward, backward, generator, wrt", FORWARD_BACKWARD,
                         ids=[row[2] for row in FORWARD_BACKWARD])
def test_reference_backward_matches_finite_differences(reference, module, forward, backward,
                                                       generator, wrt):
    forward, backward = (getattr(reference[module], f) for f in (forward, backward))
    for seed in range(2):
        args = getattr(GENERATORS, generator)(np.random.default_rng(seed))
        upstream = args.pop(list(args)[-1])
        if generator == "dropout_backward":  # keep finite differences fast: a slice will do
            args["x"] = args["x"][:4, :5].copy()
            upstream = upstream[:4, :5].copy()
        def loss(a):
            return float(np.sum(forward(*copy.deepcopy(list(a.values())))[0] * upstream))
        _, cache = forward(*copy.deepcopy(list(args.values())))
        grads = backward(upstream.copy(), cache)
        by_name = dict(zip(wrt, grads if isinstance(grads, tuple) else (grads,)))
        for name in wrt:
            message = differs(by_name[name], numeric_gradient(loss, args, name), FD_RTOL, FD_ATOL)
            assert message is None, f"d{name}: {message}"


def test_reference_softmax_loss_gradient_matches_finite_differences(reference):
    softmax_loss = reference["layers"].softmax_loss
    for seed in range(3):
        args = GENERATORS.softmax(np.random.default_rng(seed))
        _, dx = softmax_loss(args["x"], args["y"])
        numeric = numeric_gradient(lambda a: softmax_loss(a["x"], a["y"])[0], args, "x")
        assert differs(dx, numeric, FD_RTOL, FD_ATOL) is None


def test_batchnorm_forward_grades_the_running_statistics_its_train_call_leaves(reference):
    """The graded running statistics are those the train call writes into bn_param, so a
    forward that never updates them, or swaps momentum and 1 - momentum, fails."""
    problem, layers = BY_FUNCTION["batchnorm_forward"], reference["layers"]

    def frozen(x, gamma, beta, bn_param):
        kept = {key: bn_param[key].copy() for key in ("running_mean", "running_var")}
        out = layers.batchnorm_forward(x, gamma, beta, bn_param)
        bn_param.update(kept)
        return out

    def swapped(x, gamma, beta, bn_param):
        return layers.batchnorm_forward(x, gamma, beta,
                                        {**bn_param, "momentum": 1 - bn_param["momentum"]})
    for case_id, args in CASES["batchnorm_forward"]:
        value = run(problem, layers, args)
        x, bn_param = args["x"], args["bn_param"]
        momentum = bn_param["momentum"]
        for key, batch in (("running_mean", x.mean(axis=0)), ("running_var", x.var(axis=0))):
            assert differs(value[f"bn_param[{key!r}]"],
                           momentum * bn_param[key] + (1 - momentum) * batch) is None, case_id
        for wrong in (frozen, swapped):
            answer = run(problem, SimpleNamespace(batchnorm_forward=wrong), args)
            assert differs(answer["out (train)"], value["out (train)"]) is None, case_id
            assert differs(answer, value) is not None, (case_id, wrong.__name__)


def test_batchnorm_backward_alt_gives_the_same_values(reference):
    for _, args in CASES["batchnorm_backward_alt"]:
        expected = run(BY_FUNCTION["batchnorm_backward"], reference["layers"], args)
        assert differs(run(BY_FUNCTION["batchnorm_backward_alt"], reference["layers"], args),
                       expected, 1e-12, 1e-14) is None


def test_support_im2col_reads_every_receptive_field_and_col2im_is_its_adjoint():
    im2col = _load("_cs231n_im2col", SUPPORT[0])
    rng = np.random.default_rng(0)
    for (N, C, H, W), field, padding, stride in [((2, 3, 5, 5), 3, 1, 1), ((1, 2, 6, 6), 2, 0, 2)]:
        x = rng.normal(size=(N, C, H, W))
        cols = im2col.im2col_indices(x, field, field, padding, stride)
        padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        out = (H + 2 * padding - field) // stride + 1
        naive = [padded[n, :, r * stride:r * stride + field, c * stride:c * stride + field].ravel()
                 for r in range(out) for c in range(out) for n in range(N)]
        assert np.array_equal(cols, np.array(naive).T)
        y = rng.normal(size=cols.shape)
        back = im2col.col2im_indices(y, x.shape, field, field, padding, stride)
        assert back.shape == x.shape and np.isclose(np.sum(cols * y), np.sum(x * back))
        k, i, j = im2col.get_im2col_indices(x.shape, field, field, padding, stride)
        assert k.shape == (C * field * field, 1) and i.shape == j.shape == cols[:, :out * out].shape


# --- (b) every driver runs on the reference ----------------------------------------------------

def _crosses_the_wire(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, np.bool_, np.number)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    if isinstance(value, (list, tuple)):
        return all(_crosses_the_wire(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _crosses_the_wire(v) for k, v in value.items())
    return False


@pytest.mark.parametrize("problem", PROBLEM_LIST, ids=lambda p: p["function"])
def test_every_driver_runs_on_the_reference(reference, problem):
    module = reference[problem["module"]]
    for case_id, args in CASES[problem["function"]]:
        before = copy.deepcopy(args)
        value = run(problem, module, args)
        assert isinstance(value, dict) and _crosses_the_wire(value), case_id
        assert differs(run(problem, module, args), value, 0, 0) is None, "not deterministic"
        assert differs(args, before, 0, 0) is None, "the case's arguments were changed"
        if problem.get("check") != "property":
            assert all(isinstance(v, np.ndarray) or np.isscalar(v) for v in value.values())


# --- (c) property checks and their predicate mistakes ------------------------------------------

PROPERTY_PROBLEMS = [p for p in PROBLEM_LIST if p.get("check") == "property"]


@pytest.mark.parametrize("problem", PROPERTY_PROBLEMS, ids=lambda p: p["function"])
def test_property_checks_accept_the_reference(reference, problem):
    module, check = reference[problem["module"]], getattr(CHECKS, problem["property"])
    for case_id, args in CASES[problem["function"]]:
        expected = run(problem, module, args)
        assert check(expected, expected, copy.deepcopy(args), differs) is None, case_id
        for mistake in problem.get("mistake", []):
            assert not getattr(CHECKS, mistake["check"])(expected, expected, args), case_id


PREDICATE_MISTAKES = [(p, m) for p in PROPERTY_PROBLEMS for m in p.get("mistake", [])]


@pytest.mark.parametrize("problem, mistake", PREDICATE_MISTAKES,
                         ids=[m["check"] for _, m in PREDICATE_MISTAKES])
def test_property_checks_reject_each_mistake_and_its_predicate_recognises_it(reference, problem,
                                                                            mistake):
    module = reference[problem["module"]]
    wrong = _with(module, *PREDICATE_EXAMPLES[mistake["check"]])
    check = getattr(CHECKS, problem["property"])
    predicate = getattr(CHECKS, mistake["check"])
    others = [getattr(CHECKS, m["check"]) for m in problem["mistake"] if m is not mistake]
    for case_id, args in CASES[problem["function"]]:
        expected, answer = run(problem, module, args), run(problem, wrong, args)
        assert check(answer, expected, copy.deepcopy(args), differs) is not None, case_id
        assert predicate(answer, expected, args), case_id
        assert not any(other(answer, expected, args) for other in others), case_id


def test_dropout_check_explains_an_unseeded_mask(reference):
    layers = reference["layers"]

    def unseeded(x, dropout_param):
        return layers.dropout_forward(x, {k: v for k, v in dropout_param.items() if k != "seed"})
    problem = BY_FUNCTION["dropout_forward"]
    for _, args in CASES["dropout_forward"]:
        expected = run(problem, layers, args)
        answer = run(problem, SimpleNamespace(dropout_forward=unseeded), args)
        message = CHECKS.dropout_forward(answer, expected, copy.deepcopy(args), differs)
        assert "same dropout_param['seed']" in message


@pytest.mark.parametrize("draws", ["one per feature", "one per example"])
def test_dropout_check_rejects_a_mask_shared_along_an_axis(reference, draws):
    """A mask of one draw per feature (shared by every example of the batch) or one per
    example keeps about p of the units, but is not dropout's: the check says so."""
    def shared(x, dropout_param):
        if dropout_param["mode"] == "test":
            return x, None
        np.random.seed(dropout_param["seed"])
        shape = (1, x.shape[1]) if draws == "one per feature" else (x.shape[0], 1)
        mask = (np.random.rand(*shape) < dropout_param["p"]) / dropout_param["p"]
        return x * mask, mask
    problem = BY_FUNCTION["dropout_forward"]
    for case_id, args in CASES["dropout_forward"]:
        expected = run(problem, reference["layers"], args)
        answer = run(problem, SimpleNamespace(dropout_forward=shared), args)
        message = CHECKS.dropout_forward(answer, expected, copy.deepcopy(args), differs)
        assert message is not None and "drawn independently for every unit" in message, case_id


def test_dropout_backward_is_not_judged_on_a_forward_that_drops_nothing(reference):
    """A forward that keeps every unit (scaled or not) leaves the backward no mask to apply:
    dout / p would pass for nothing done."""
    def keep_all(x, dropout_param):
        train = dropout_param["mode"] == "train"
        return (x / dropout_param["p"] if train else x), dropout_param

    def backward(dout, cache):
        return dout / cache["p"] if cache["mode"] == "train" else dout
    problem = BY_FUNCTION["dropout_backward"]
    student = SimpleNamespace(dropout_forward=keep_all, dropout_backward=backward)
    for _, args in CASES["dropout_backward"]:
        expected = run(problem, reference["layers"], args)
        message = CHECKS.dropout_backward(run(problem, student, args), expected,
                                          copy.deepcopy(args), differs)
        assert message is not None and "dropped no unit" in message


# --- (d) value mistakes differ from the reference ----------------------------------------------

VALUE_MISTAKES = [(p, m) for p in PROBLEM_LIST for m in p.get("mistake", []) if "function" in m]


@pytest.mark.parametrize("problem, mistake", VALUE_MISTAKES,
                         ids=[m["function"] for _, m in VALUE_MISTAKES])
def test_every_value_mistake_differs_from_the_reference_on_every_case(reference, problem,
                                                                     mistake):
    module = reference[problem["module"]]
    wrong = _with(module, mistake.get("replaces", problem["function"]), mistake["function"])
    for case_id, args in CASES[problem["function"]]:
        assert differs(run(problem, wrong, args), run(problem, module, args)) is not None, case_id


# --- (e) example students ----------------------------------------------------------------------

EXPECTED = _load("_cs231n_expected", EXPECTED_FILE).EXPECTED


def student_files(folder: Path) -> dict[str, Path]:
    """The student's Python files, from a `cs231n/` folder or from the top level."""
    source = folder / "cs231n" if (folder / "cs231n").is_dir() else folder
    return {path.name: path for path in sorted(source.glob("*.py"))}


@contextlib.contextmanager
def student_package(files: dict[str, Path], tmp: Path):
    """The student's files as package `cs231n` with the course's support modules; yields each
    graded module, or the exception its import raised. sys.path and sys.modules are restored."""
    package = tmp / "cs231n"
    package.mkdir(parents=True)
    for name, path in files.items():
        shutil.copy(path, package / name)
    for path in SUPPORT:
        shutil.copy(path, package / path.name)
    (package / "__init__.py").touch()
    saved = list(sys.path)
    sys.path.insert(0, str(tmp))
    _forget("cs231n")
    importlib.invalidate_caches()
    try:
        modules = {}
        for stem in (Path(f).stem for f in ASSIGNMENT["files"]):
            try:
                modules[stem] = importlib.import_module(f"cs231n.{stem}")
            except Exception as exc:  # a student's file that does not import fails its problems
                modules[stem] = exc
        yield modules
    finally:
        sys.path[:] = saved
        _forget("cs231n")


def passes(problem: dict, student, reference) -> bool:
    if isinstance(student, Exception):
        return False
    module = reference[problem["module"]]
    for _, args in CASES[problem["function"]]:
        expected = run(problem, module, args)
        try:
            answer = run(problem, student, args)
        except Exception:
            return False
        if problem.get("check") == "property":
            message = getattr(CHECKS, problem["property"])(answer, expected, copy.deepcopy(args),
                                                            differs)
        else:
            message = differs(answer, expected)
        if message is not None:
            return False
    return True


def test_every_example_student_has_an_expected_outcome():
    folders = sorted(p.name for p in STUDENTS.glob("cs231n_*") if p.is_dir())
    assert folders == sorted(EXPECTED)
    assert {p for outcome in EXPECTED.values() for p in outcome} <= {f"cs231n.{f}" for f in SPEC}


def test_example_students_use_both_layouts():
    assert (STUDENTS / "cs231n_folder" / "cs231n" / "__init__.py").is_file()
    assert (STUDENTS / "cs231n_flat" / "layers.py").is_file()
    for folder in (p for p in STUDENTS.glob("cs231n_*") if p.is_dir()):
        assert set(student_files(folder)) >= set(ASSIGNMENT["files"]), folder.name


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_example_student_fails_exactly_the_expected_problems(reference, tmp_path, student):
    with student_package(student_files(STUDENTS / student), tmp_path) as modules:
        failing = {f"cs231n.{p['function']}" for p in PROBLEM_LIST
                   if not passes(p, modules[p["module"]], reference)}
    assert failing == set(EXPECTED[student])


def matches_a_known_mistake(problem: dict, student, reference) -> bool:
    """On every case, the student's answer is a declared mistake's value or its predicate holds."""
    module = reference[problem["module"]]
    for _, args in CASES[problem["function"]]:
        expected, answer = run(problem, module, args), run(problem, student, args)
        found = False
        for mistake in problem.get("mistake", []):
            if "check" in mistake:
                found |= bool(getattr(CHECKS, mistake["check"])(answer, expected, args))
            else:
                wrong = _with(module, mistake.get("replaces", problem["function"]),
                              mistake["function"])
                found |= differs(answer, run(problem, wrong, args)) is None
        if not found:
            return False
    return True


@pytest.mark.parametrize("dx_too", [True, False])
def test_a_softmax_loss_not_averaged_over_the_batch_is_a_known_mistake(reference, dx_too):
    layers = reference["layers"]

    def summed(x, y):
        loss, dx = layers.softmax_loss(x, y)
        return loss * len(x) if dx_too else loss, dx * len(x)
    assert matches_a_known_mistake(BY_FUNCTION["softmax_loss"],
                                   SimpleNamespace(softmax_loss=summed), reference)


@pytest.mark.parametrize("student", sorted(s for s, outcome in EXPECTED.items()
                                           if any("Known mistake" in w for w in outcome.values())))
def test_example_students_known_mistakes_are_recognised(reference, tmp_path, student):
    with student_package(student_files(STUDENTS / student), tmp_path) as modules:
        for problem_id, words in EXPECTED[student].items():
            problem = BY_FUNCTION[problem_id.split(".", 1)[1]]
            if "Known mistake" in words:
                assert matches_a_known_mistake(problem, modules[problem["module"]], reference)
