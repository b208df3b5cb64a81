"""Manifest validation: every error names the file, the problem and the key."""
import re

import pytest

from grader.course.manifest import ManifestError, load_course


def break_manifest(course_copy, old, new, name="optim.toml"):
    path = course_copy / "problems" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def load(course_copy):
    return load_course(course_copy / "problems", course_copy / "reference")


@pytest.mark.parametrize("old, new, problem, key, words", [
    ("rtol = 1e-6\natol", "rtl = 1e-6\natol", None, "rtl", "did you mean 'rtol'"),
    ('function = "gd_quadratic"', 'function = "gd_quadratik"', "gd_quadratik", "function",
     "the reference has no function 'gd_quadratik'"),
    ("points = 2", "points = -2", "gd_quadratic", "points", "must be a finite number >= 0"),
    ('generator = "descent"', 'generator = "descend"', "gd_quadratic", "generator",
     "the generators file has no function 'descend'"),
    ('function = "classical_momentum_quadratic"', 'function = "nope"', "nesterov_quadratic",
     "mistake", "no mistake function 'nope'"),
    ("points = 2", 'points = "two"', "gd_quadratic", "points", "must be int or float, got str"),
    ("steps = 3 }", "step = 3 }", "gd_quadratic", "args", "does not fit gd_quadratic"),
    ("public = 1\nhidden = 3", "public = 1_000_000\nhidden = 3", "gd_quadratic", "public",
     "must be at most 10,000, got 1,000,000"),
])
def test_errors_name_file_problem_and_key(course_copy, old, new, problem, key, words):
    path = break_manifest(course_copy, old, new)
    with pytest.raises(ManifestError) as caught:
        load(course_copy)
    error = caught.value
    assert error.path == str(path) and error.key == key and error.problem == problem
    assert str(error).startswith(str(path)) and words in str(error)


def test_bad_tolerance_in_output_override(course_copy):
    break_manifest(course_copy, "points = 2\ngenerator = \"descent\"",
                   "points = 2\ngenerator = \"descent\"\noutputs = { \"0\" = { rtol = -1 } }")
    with pytest.raises(ManifestError, match=r"problem 'gd_quadratic': key 'rtol': must be a finite"):
        load(course_copy)


def test_invalid_toml_names_the_file(course_copy):
    path = break_manifest(course_copy, "[assignment]", "[assignment")
    with pytest.raises(ManifestError, match=re.escape(str(path)) + ": is not valid TOML"):
        load(course_copy)


def test_missing_directories_are_reported(tmp_path):
    with pytest.raises(ManifestError, match="is not a directory of problem manifests"):
        load_course(tmp_path / "nothing", tmp_path)


def test_the_shipped_course_has_the_44_problems(course):
    assert len(course.problems) == 44
    assert len([p for p in course.problems if p.assignment == "cs231n"]) == 21
    problem = course.problem("optim.nesterov_quadratic")
    assert problem.literal_cases[0].known[1].value.tolist() == [2.05281375, -0.4612075]


@pytest.mark.parametrize("old, new, problem, key, words", [
    ('module = "layers"\npoints = 1\ngenerator = "affine"', 'points = 1\ngenerator = "affine"',
     "affine_forward", "module", "problems of package 'cs231n' name the module"),
    ('function = "affine_forward"\nmodule = "layers"', 'function = "affine_forward"\n'
     'module = "convnet"', "affine_forward", "module", "'convnet.py' is not one of the package"),
    ('driver = "affine_forward"', 'driver = "affine_forwrd"', "affine_forward", "driver",
     "the drivers file has no function 'affine_forwrd'"),
    ('property = "dropout_forward"\n', '', "dropout_forward", "property",
     "a property problem names the check"),
    ('check = "dropout_drop_probability"', 'check = "nope"', "dropout_forward", "mistake",
     "the checks file has no function 'nope'"),
])
def test_package_driver_and_property_keys_are_checked(course_copy, old, new, problem, key, words):
    path = break_manifest(course_copy, old, new, name="cs231n.toml")
    with pytest.raises(ManifestError) as caught:
        load(course_copy)
    assert caught.value.key == key and caught.value.problem == problem
    assert str(caught.value).startswith(str(path)) and words in str(caught.value)


@pytest.mark.parametrize("support, words", [("support/cs231n/im2col2.py", "does not exist"),
                                            ("support/cs231n", "is not a Python file")])
def test_a_support_module_missing_or_not_python_is_said_so(course_copy, support, words):
    path = break_manifest(course_copy, 'support = ["support/cs231n/im2col.py"]',
                          f'support = ["{support}"]', name="cs231n.toml")
    with pytest.raises(ManifestError) as caught:
        load(course_copy)
    assert caught.value.key == "support" and str(caught.value).startswith(str(path))
    assert f"{support} {words}" in str(caught.value)


def test_typed_literals_and_notebook_file_names(course_copy):
    break_manifest(course_copy, 'file = "rnn.py"', 'file = "rnn.ipynb"', name="rnn.toml")
    break_manifest(course_copy, 'args = { y = [0, 1, 0], p = [0.2, 0.7, 0.1] }',
                   'args = { y = { value = [0, 1, 0], dtype = "int64" }, p = [0.2, 0.7, 0.1] }',
                   name="rnn.toml")
    course = load(course_copy)
    assignment = course.assignments["rnn"]
    assert assignment.file == "rnn.ipynb" and assignment.module == "rnn"
    case = course.problem("rnn.cross_entropy").literal_cases[0]
    assert case.args["y"].dtype == "int64" and case.args["p"].dtype == "float64"
    break_manifest(course_copy, '"int64"', '"int63"', name="rnn.toml")
    with pytest.raises(ManifestError, match="dtype must be one of"):
        load(course_copy)
