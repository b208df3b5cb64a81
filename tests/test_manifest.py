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
