"""The comparison and its messages, pinned in full."""
import math

import numpy as np

from grader.compare.message import explain as compare
from grader.compare.mismatch import matches
from grader.course.model import Tolerance

TOL = Tolerance(1e-6, 1e-9)


def test_equal_within_tolerance_is_none():
    assert compare(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-7]), TOL) is None


def test_value_mismatch_message():
    actual = np.array([[1.0, 2.5], [3.0, 4.0]])
    expected = np.array([[1.0, 2.0], [3.0, 5.0]])
    assert compare(actual, expected, TOL) == (
        "not equal to tolerance rtol=1e-06, atol=1e-09.\n"
        "Mismatched elements: 2 / 4 (50%)\n"
        "Max absolute difference among violations: 1\n"
        "Max relative difference among violations: 0.25\n"
        "First differences (index: yours | expected):\n"
        "  [0, 1]: 2.5 | 2\n"
        "  [1, 1]: 4 | 5")


def test_an_integer_too_large_for_a_float_is_a_wrong_type():
    huge = 10 ** 400
    message = compare(huge, np.float64(1.5), TOL)
    assert message == "expected a number, got an integer of 401 digits, beyond the largest " \
        "float." and not matches(huge, np.float64(1.5), TOL)
    assert compare(huge, np.array([1.5, 2.5]), TOL) == "expected a NumPy array of shape (2,), " \
        "got an integer of 401 digits, beyond the largest float."


EXACT = Tolerance(0.0, 0.0)


def test_integers_past_two_to_the_53_are_compared_exactly():
    """float64 takes 2**53 and 2**53 + 1 for one number: integers that large are compared as
    integers, whatever their type (Python int, NumPy scalar or array, list)."""
    assert compare(2 ** 53, np.int64(2 ** 53 + 1), EXACT) == (
        "not equal to tolerance rtol=0, atol=0.\n"
        "  yours:    9007199254740992\n"
        "  expected: 9007199254740993\n"
        "Max absolute difference among violations: 1\n"
        "Max relative difference among violations: 1.110223025e-16")
    assert compare(np.array([2 ** 60, 7]), np.array([2 ** 60 + 1, 7]), EXACT) == (
        "not equal to tolerance rtol=0, atol=0.\n"
        "Mismatched elements: 1 / 2 (50%)\n"
        "Max absolute difference among violations: 1\n"
        "Max relative difference among violations: 8.67361738e-19\n"
        "First differences (index: yours | expected):\n"
        "  [0]: 1152921504606846976 | 1152921504606846977")
    top = np.uint64(2 ** 64 - 1)
    assert compare(top, top - np.uint64(1), EXACT).startswith(
        "not equal to tolerance rtol=0, atol=0.\n  yours:    18446744073709551615\n")
    assert not matches([2 ** 62, -2 ** 63], np.array([2 ** 62 + 1, -2 ** 63]), EXACT)
    assert compare([2 ** 62, -2 ** 63], np.array([2 ** 62, -2 ** 63]), EXACT) is None
    assert compare(np.array([[2 ** 62], [3]]), np.array([[2 ** 62 + 1], [3]]),
                   Tolerance(0.0, 1.0)) is None  # within atol, counted exactly


def test_an_array_of_integers_is_judged_exactly_where_floats_are_not_exact():
    """Elements within 2**53 of zero go through the tolerance as floats do, the others exactly;
    a tolerance that is NaN passes nothing, as for floats."""
    expected = np.array([10, 1000, 2 ** 60, 2 ** 60 + 3])
    tol = Tolerance(0.0, 2.0)
    assert compare(expected + np.array([2, -2, 2, -2]), expected, tol) is None
    assert compare(expected + np.array([0, 3, 0, -3]), expected, tol) == (
        "not equal to tolerance rtol=0, atol=2.\n"
        "Mismatched elements: 2 / 4 (50%)\n"
        "Max absolute difference among violations: 3\n"
        "Max relative difference among violations: 0.003\n"
        "First differences (index: yours | expected):\n"
        "  [1]: 1003 | 1000\n"
        "  [3]: 1152921504606846976 | 1152921504606846979")
    assert not matches(expected, expected, Tolerance(math.nan, 0.0))


def test_an_integer_too_long_to_read_shows_its_ends_and_its_length():
    assert compare(10 ** 100, 10 ** 100 + 7, EXACT) == (
        "not equal to tolerance rtol=0, atol=0.\n"
        "  yours:    100000000000000...000000000000000 (101 digits)\n"
        "  expected: 100000000000000...000000000000007 (101 digits)\n"
        "Max absolute difference among violations: 7\n"
        "Max relative difference among violations: 7e-100")


def test_integers_beyond_64_bits_are_numbers_compared_exactly():
    big = 2 ** 70
    assert compare(big, big, EXACT) is None and matches([big, 3], [big, 3], EXACT)
    assert compare(big, big + 1, EXACT) == (
        "not equal to tolerance rtol=0, atol=0.\n"
        "  yours:    1180591620717411303424\n"
        "  expected: 1180591620717411303425\n"
        "Max absolute difference among violations: 1\n"
        "Max relative difference among violations: 8.470329473e-22")
    assert compare(big, big + 1, Tolerance(1e-9, 0.0)) is None
    assert compare(big, big + 10 ** 15, Tolerance(math.inf, 0.0)) is None
    assert compare(big, 1.2e21, Tolerance(1e-9, 0.0)).startswith(  # a float expected: as a float
        "not equal to tolerance rtol=1e-09, atol=0.\n  yours:    1.180591621e+21\n")
    assert compare(big, float(big), Tolerance(1e-12, 0.0)) is None
    assert compare([big, big], np.array([1, 2, 3]), EXACT) == \
        "shape mismatch: expected (3,), got (2,) (a list)."
    assert compare(True, big, EXACT) == \
        "expected a number, got the bool True."  # a bool is not an integer answer


def test_scalar_mismatch_message():
    assert compare(1.5, 2.0, TOL) == (
        "not equal to tolerance rtol=1e-06, atol=1e-09.\n"
        "  yours:    1.5\n"
        "  expected: 2\n"
        "Max absolute difference among violations: 0.5\n"
        "Max relative difference among violations: 0.25")


def test_shapes_are_strict():
    assert compare(np.zeros((5, 1)), np.zeros(5), TOL) == \
        "shape mismatch: expected (5,), got (5, 1)."


def test_lists_are_accepted_when_values_and_shape_match():
    assert compare([[1.0, 2.0]], np.array([[1.0, 2.0]]), TOL) is None
    assert compare([1.0, 2.0], np.array([[1.0, 2.0]]), TOL) == \
        "shape mismatch: expected (1, 2), got (2,) (a list)."


def test_nan_positions_are_checked():
    message = compare(np.array([1.0, np.nan]), np.array([1.0, 2.0]), TOL)
    assert message.startswith("NaN/inf positions differ: 1 / 2 elements.")
    assert "[1]: nan | 2" in message
    assert compare(np.array([np.nan, np.inf]), np.array([np.nan, np.inf]), TOL) is None
    assert "positions differ" in compare(np.array([-np.inf]), np.array([np.inf]), TOL)


def test_bools_and_strings_compare_exactly():
    assert compare(True, False, TOL) == "expected False, got True."
    assert compare(1, True, TOL) == "expected a bool (True or False), got the number 1."
    assert compare(True, 1.0, TOL) == "expected a number, got the bool True."
    assert compare("relu", "linear", TOL) == "expected 'linear', got 'relu'."


def test_nested_paths_and_per_output_tolerance():
    expected = {"U": np.array([1.0]), "W": np.array([1.0])}
    actual = {"U": np.array([1.001]), "W": np.array([1.001])}
    loose = {"U": Tolerance(1e-2, 0.0)}
    message = compare(actual, expected, lambda key: loose.get(key, TOL))
    assert message.startswith("In output['W']: not equal to tolerance")
    assert compare((1.0, [2.0]), (1.0, np.array([3.0])), TOL).startswith("In output[1]: ")


def test_dict_keys_and_tuple_lengths():
    assert compare({"U": 1.0}, {"U": 1.0, "W": 2.0}, TOL) == "the dict has missing keys ['W']."
    assert compare((1.0,), (1.0, 2.0), TOL) == "expected 2 values, got a tuple of length 1."
    assert compare("ab", (1.0, 2.0), TOL) == "expected a tuple of 2 values, got the string 'ab'."


def test_an_array_stands_for_a_tuple_as_a_list_does():
    """`mean, var = f(x)` unpacks an array of two rows as it does a tuple or a list."""
    expected = (np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert compare(np.array([[1.0, 2.0], [3.0, 4.0]]), expected, TOL) is None
    assert compare([np.array([1.0, 2.0]), np.array([3.0, 4.0])], expected, TOL) is None
    assert compare(np.array([0.5, 0.25]), (0.5, 0.25), TOL) is None
    assert compare(np.array([[1.0, 2.0], [3.0, 5.0]]), expected, TOL).startswith(
        "In output[1]: not equal to tolerance")
    assert compare(np.zeros((3, 2)), expected, TOL) == (
        "expected 2 values, got a NumPy array of shape (3, 2) and dtype float64.")


def test_long_listings_are_cut():
    message = compare(np.zeros(100), np.ones(100), TOL)
    assert "Mismatched elements: 100 / 100 (100%)" in message
    assert message.endswith("  ... and 95 more")


def test_unreadable_student_values_never_crash_the_message():
    class Odd:
        def __repr__(self):
            raise RuntimeError("no repr")
    assert compare(Odd(), np.zeros(2), TOL) == \
        "expected a NumPy array of shape (2,), got a Odd."
    assert compare(["a", "b"], np.zeros(2), TOL) == \
        "expected a NumPy array of shape (2,), got a list of length 2."


def test_infinite_tolerance_checks_structure_only():
    assert compare(np.ones(3), np.zeros(3), Tolerance(math.inf, math.inf)) is None
    assert compare(np.ones(2), np.zeros(3), Tolerance(math.inf, math.inf)) is not None


def test_matches_decides_as_compare_does():
    tol = Tolerance(rtol=1e-6, atol=1e-9)
    pairs = [(np.array([1.0, np.nan]), np.array([1.0, np.nan])),
             (np.array([1.0, np.nan]), np.array([1.0, 2.0])),
             (np.array([np.inf, 1.0]), np.array([np.inf, 1.0])),
             (np.array([-np.inf]), np.array([np.inf])),
             (np.array([1.0, 2.0]), np.array([1.0, 2.1])),
             ((1.0, [2.0]), (1.0, [2.0 + 1e-12])), ({"a": 1.0}, {"a": 1.5}),
             (np.array([1, 2]), np.array([1.0, 2.0])), (1.0, np.float64(1.0)),
             (float("nan"), np.float64(1.0)), ([1.0, 2.0], np.array([1.0, 2.0])),
             (np.zeros((2, 2)), np.zeros(4)), (np.float32(0.1), np.float64(0.1))]
    for actual, expected in pairs:
        assert matches(actual, expected, tol) == (compare(actual, expected, tol) is None)
    assert [i for i, (a, e) in enumerate(pairs) if matches(a, e, tol)] == [0, 2, 5, 7, 8, 10, 12]


def test_an_answer_transposed_negated_or_of_low_precision_is_said_so():
    square = np.array([[1.0, 2.0], [3.0, 4.0]])
    wide = np.arange(6.0).reshape(2, 3)
    said = {
        "transposed": [compare(square.T, square, TOL), compare(wide.T, wide, TOL)],
        "sign flipped": [compare(-square, square, TOL)],
        "is float32, and the expected value at that precision": [
            compare((square * (1 + 3e-6)).astype(np.float32), square, TOL)],
        "is float16, and the expected value at that precision": [
            compare(np.random.default_rng(1).normal(size=(4, 5)).astype(np.float16),
                    np.random.default_rng(1).normal(size=(4, 5)), TOL),
            compare(np.float16(np.pi), np.pi, TOL)],
    }
    for words, messages in said.items():
        for message in messages:
            assert message.splitlines()[-1].startswith("Your answer is ") and words in message
    assert compare(wide.T, wide, TOL).startswith("shape mismatch: expected (2, 3), got (3, 2).")
    for unlike in (square + 1, square.T + 1, (square * 1.01).astype(np.float32),
                   square * (1 + 3e-6)):  # the last: float64, off by more than its tolerance
        assert "Your answer is" not in compare(unlike, square, TOL)


def test_an_answer_rounded_to_a_few_decimals_is_said_so():
    exact = np.array([[26.876403541, -0.0049], [168.0112738, 3.0]])
    for decimals in (1, 2, 3):  # more places than 3: within this tolerance of the exact
        for rounded in (np.round(exact, decimals),
                        [[round(float(v), decimals) for v in row] for row in exact]):
            last = compare(rounded, exact, TOL).splitlines()[-1]
            places = "place" if decimals == 1 else "places"
            assert last == (f"Your answer is the expected one rounded to {decimals} decimal "
                            f"{places}: return it at full precision (round only what you print).")
    assert "rounded to 2" in compare(round(26.876403541, 2), np.float64(26.876403541), TOL)
    for unlike in (np.round(exact, 2) + 0.01, np.floor(exact * 100) / 100,  # truncated
                   np.round(exact, 0)):  # whole numbers: too likely by chance to be named
        assert "rounded" not in compare(unlike, exact, TOL)


def test_nan_positions_that_differ_do_not_hide_the_other_wrong_elements():
    expected = np.array([1.0, 2.0, 3.0, 4.0])
    message = compare(np.array([np.inf, 2.0, 3.5, 4.5]), expected, TOL)
    assert message.splitlines()[0] == (
        "NaN/inf positions differ: 1 / 4 elements. Besides, 2 of the other elements are not "
        "equal to tolerance rtol=1e-06, atol=1e-09.")
    assert "Besides" not in compare(np.array([np.inf, 2.0, 3.0, 4.0]), expected, TOL)


def test_an_answer_of_none_asks_whether_a_return_is_missing():
    whole = compare(None, np.float64(1.5), TOL)
    assert whole == ("expected a number, got None.\nYour function returned None: is a `return` "
                     "missing, or is it still the starter code?")
    part = compare({"dx": None, "db": np.zeros(2)}, {"dx": np.ones(2), "db": np.zeros(2)}, TOL)
    assert part.splitlines()[-1] == ("That part of your answer is None: is it still the starter "
                                     "code's placeholder?")
    assert "starter code" not in compare(2.5, np.float64(1.5), TOL)


def test_every_output_that_differs_is_named_not_only_the_first():
    expected = {"dx": np.zeros(2), "dh0": np.zeros(2), "db": np.zeros(2), "dW": np.zeros(2)}
    answer = {"dx": np.ones(2), "dh0": np.ones(2), "db": np.zeros(2), "dW": np.ones(2)}
    message = compare(answer, expected, TOL)
    assert message.startswith("In output['dx']: not equal to tolerance")
    assert message.splitlines()[-1] == "Also not as expected: output['dh0'], output['dW']."
    assert compare((1.0, 2.0, 3.0), (1.5, 2.0, 3.5), TOL).splitlines()[-1] == \
        "Also not as expected: output[2]."
    assert "Also" not in compare({"a": {"b": 1.0, "c": 2.0}}, {"a": {"b": 0.0, "c": 0.0}}, TOL)
    labels = {"next_w (step 1)": np.ones(2), "config['m'] (step 2)": np.ones(2)}
    assert compare(labels, {k: np.zeros(2) for k in labels}, TOL).splitlines()[-1] == \
        "Also not as expected: config['m'] (step 2)."
