"""`grader validate` on a broken course: every problem is a finding naming the file and the
problem, never a traceback."""
import pytest

COURSE_FILES = ["--problems", "problems", "--reference", "reference"]


def validate(cli, course_copy, expect=1):
    return cli("validate", "--problems", course_copy / "problems", "--reference",
               course_copy / "reference", "-q", expect=expect)


def replace(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("body, words", [
    ("return None", "layers.ridge_solution: case public-1: the reference returned None"),
    ("return np.full(X.shape[1], np.nan)",
     "layers.ridge_solution: case public-1: the reference returned NaN"),
    ("return {1, 2}", "the reference returned a set, which cannot be compared"),
    ("raise ValueError('singular')", "the reference raised ValueError: singular"),
])
def test_a_reference_answer_the_grader_cannot_use_is_a_finding(cli, course_copy, body, words):
    replace(course_copy / "reference" / "layers.py",
            "    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)",
            f"    {body}")
    result = validate(cli, course_copy)
    assert words in result.stderr
    assert "layers.toml" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_a_raising_mistake_is_a_finding(cli, course_copy):
    replace(course_copy / "reference" / "layers.py", "def batchnorm_stats_unbiased(x):\n",
            "def batchnorm_stats_unbiased(x):\n    raise RuntimeError('oops')\n")
    result = validate(cli, course_copy)
    assert "layers.batchnorm_stats: mistake batchnorm_stats_unbiased raised RuntimeError: oops" \
        in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failing_generator_is_a_finding(cli, course_copy):
    replace(course_copy / "problems" / "layers_cases.py", "def ridge(rng):\n",
            "def ridge(rng):\n    raise KeyError('lam')\n")
    result = validate(cli, course_copy)
    assert "layers.toml: layers.ridge_solution: the generator ridge failed: KeyError: 'lam' " \
           "(problems/layers_cases.py, line" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_sampler_without_seed_is_a_finding(cli, course_copy):
    replace(course_copy / "problems" / "layers.toml",
            'args = { fan_in = 100, fan_out = 60, activation = "relu", distribution = "uniform", '
            'seed = 0 }',
            'args = { fan_in = 100, fan_out = 60, activation = "relu", distribution = "uniform" }')
    replace(course_copy / "reference" / "layers.py",
            "def init_weights(fan_in, fan_out, activation, distribution, seed):",
            "def init_weights(fan_in, fan_out, activation, distribution, seed=0):")
    replace(course_copy / "reference" / "layers.py",
            "def init_weights_distribution(fan_in, fan_out, activation, distribution, seed):",
            "def init_weights_distribution(fan_in, fan_out, activation, distribution, seed=0):")
    result = validate(cli, course_copy)
    assert "layers.toml: layers.init_weights: a sampler's cases need a 'seed' argument; case " \
           "relu-uniform" \
        in result.stderr


def test_a_property_check_that_misses_a_declared_mistake_is_a_finding(cli, course_copy):
    replace(course_copy / "problems" / "cs231n_checks.py",
            "def dropout_drop_probability(answer, expected, args):\n",
            "def dropout_drop_probability(answer, expected, args):\n    return False\n")
    result = validate(cli, course_copy)
    assert "cs231n.dropout_forward: case public-1: the mistake dropout_forward_drop_probability " \
           "is not recognised by dropout_drop_probability" in result.stderr


def test_a_property_check_that_rejects_the_reference_is_a_finding(cli, course_copy):
    replace(course_copy / "problems" / "cs231n_checks.py",
            "def dropout_forward(answer, expected, args, compare):\n",
            "def dropout_forward(answer, expected, args, compare):\n    return 'no'\n")
    result = validate(cli, course_copy)
    assert "the check dropout_forward rejects the reference: no" in result.stderr


@pytest.mark.parametrize("declared, said", [
    ('"std": -scheme["sigma"]', "whose 'std' is not positive"),
    ('"std": float("nan")', "whose 'mean' or 'std' is not finite"),
    ('"sd": scheme["sigma"]', "without numbers 'mean' and 'std'"),
])
def test_a_sampler_whose_distribution_cannot_be_judged_against_is_a_finding(cli, course_copy,
                                                                             declared, said):
    replace(course_copy / "reference" / "layers.py", '"std": scheme["sigma"]', declared)
    result = validate(cli, course_copy)  # exits 1
    assert ("problems/layers.toml: layers.init_weights: case hidden-1: the distribution "
            f"init_weights_distribution gives a normal distribution {said}") in result.stderr


def test_a_tolerance_for_an_output_the_answer_does_not_have_is_a_finding(cli, course_copy):
    """A typo in `outputs`, or an index into a function returning one array, would leave the
    tolerance unused: said, with the outputs there are."""
    manifest = course_copy / "problems" / "optim.toml"
    replace(manifest, 'function = "gd_quadratic"\n',
            'function = "gd_quadratic"\noutputs = { "0" = { rtol = 0.5 } }\n')
    replace(manifest, 'function = "momentum_from_running_average"\n',
            'function = "momentum_from_running_average"\n'
            'outputs = { "1" = { rtol = 1e-5 }, "2" = { rtol = 1e-5 } }\n')
    result = validate(cli, course_copy)
    assert ("optim.toml: optim.gd_quadratic: outputs.0: the reference's answer has no output "
            "'0' (it returns a single value: set the problem's own rtol and atol instead)"
            in result.stderr)
    assert ("optim.toml: optim.momentum_from_running_average: outputs.2: the reference's answer "
            "has no output '2' (its outputs are '0', '1')" in result.stderr)
    assert "outputs.1:" not in result.stderr


def test_validate_away_from_the_course_is_a_usage_error_that_says_where_it_looked(
        cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no problems/ folder here
    result = cli("validate", expect=2)
    assert f"is not a directory of problem manifests (looked for {tmp_path / 'problems'}: run " \
           "grader in the course's folder, or name the folder with --problems)" in result.stderr
