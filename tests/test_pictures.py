"""Pictures of where an answer differs: what they show (read back from the PNG, pixel by pixel,
at cells whose verdict is known), their size, their captions, and that nothing a student
returns can make drawing fail."""
import base64
import io
import time

import numpy as np
import pytest
from PIL import Image

from grader.compare.mismatch import Mismatch, compare
from grader.course.model import Tolerance
from grader.report import pictures
from grader.report.pictures import Picture, difference_picture

TOL = Tolerance(1e-6, 1e-9)
DIFFERENCE_COLOURS = {tuple(int(v) for v in c) for c in
                      pictures.PALETTE[pictures.VALUE_STEPS:
                                       pictures.VALUE_STEPS + pictures.DIFFERENCE_STEPS]}


def image(picture: Picture) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert picture.data_uri.startswith(prefix)
    decoded = Image.open(io.BytesIO(base64.b64decode(picture.data_uri[len(prefix):])))
    assert decoded.format == "PNG"
    assert decoded.size == (picture.width, picture.height)
    return decoded.convert("RGB")


def colour(img: Image.Image, picture: Picture, panel: str, row: int, column: int):
    found = next(p for p in picture.panels if p.title == panel)
    return img.getpixel(found.pixel(row, column))


def picture_of(yours, wanted, tolerance=TOL) -> Picture:
    mismatch = compare(yours, wanted, tolerance)
    assert mismatch is not None
    picture = difference_picture(mismatch)
    assert picture is not None
    assert 100 <= picture.width <= 700 and 60 <= picture.height <= 400
    return picture


def test_a_transposed_matrix_differs_off_the_diagonal_and_mirrors():
    expected = np.arange(25.0).reshape(5, 5) ** 1.5
    picture = picture_of(expected.T.copy(), expected)
    img = image(picture)
    assert [p.title for p in picture.panels] == ["yours", "expected", "difference"]
    assert picture.panels[0].y == picture.panels[2].y  # side by side
    for i in range(5):
        assert colour(img, picture, "difference", i, i) == pictures.NEUTRAL
        for j in range(5):
            if i != j:
                assert colour(img, picture, "difference", i, j) in DIFFERENCE_COLOURS
            assert colour(img, picture, "yours", i, j) == colour(img, picture, "expected", j, i)
    assert colour(img, picture, "yours", 0, 4) != colour(img, picture, "yours", 4, 0)
    assert picture.caption == (
        "20 of 25 elements differ by more than the tolerance (rtol=1e-06, atol=1e-09). Left "
        "to right: your answer, the expected answer (one colour scale), and how far each is "
        "outside the tolerance (grey: within).")


def test_differences_are_graded_from_the_tolerance_up():
    expected = np.ones((4, 4))
    yours = expected.copy()
    yours[0, 0] += 3e-6   # 1.5 times the tolerance's bound of 2e-6
    yours[3, 3] += 1.0    # 500000 times
    picture = picture_of(yours, expected)
    img = image(picture)
    mild, severe = (colour(img, picture, "difference", 0, 0),
                    colour(img, picture, "difference", 3, 3))
    assert mild in DIFFERENCE_COLOURS and severe in DIFFERENCE_COLOURS
    assert sum(mild) > sum(severe) + 200  # light yellow against dark red
    assert colour(img, picture, "difference", 1, 2) == pictures.NEUTRAL


def test_a_missing_time_step_is_a_stripe_in_the_first_differing_slice():
    states = np.random.default_rng(1).normal(size=(3, 10, 8)).cumsum(axis=1)  # (N, T, H)
    yours = states.copy()
    yours[1:, 6, :] = 0.0  # step 6 never written, from the second sequence on
    picture = picture_of(yours, states)
    img = image(picture)
    assert picture.slice_index == (1,)
    for t in range(10):
        for h in range(8):
            found = colour(img, picture, "difference", t, h)
            assert (found in DIFFERENCE_COLOURS) if t == 6 else (found == pictures.NEUTRAL)
    assert "Shown: [1, :, :] of the array of shape (3, 10, 8), the first 2-D slice with a " \
           "difference (2 of 3 slices have one)." in picture.caption


def test_a_vector_is_a_strip_and_the_panels_are_stacked():
    expected = np.sin(np.linspace(0, 6, 50))
    yours = expected.copy()
    yours[20:] = expected[19:-1]  # one step late from index 20 on
    picture = picture_of(yours, expected)
    img = image(picture)
    yours_panel, _, difference = picture.panels
    assert yours_panel.x == difference.x and yours_panel.y < difference.y
    assert yours_panel.rows == 1 and yours_panel.columns == 50
    assert all(colour(img, picture, "difference", 0, i) == pictures.NEUTRAL for i in range(20))
    assert all(colour(img, picture, "difference", 0, i) in DIFFERENCE_COLOURS
               for i in range(20, 50))
    assert picture.caption.split(". ")[1].startswith("Top to bottom: your answer")
    assert picture.height < 150


@pytest.mark.parametrize("shape", [(2000, 3000), (1_000_000,), (40, 50, 60), (3, 200_000)])
def test_large_arrays_are_shown_in_blocks_and_no_difference_is_lost(shape):
    expected = np.random.default_rng(2).normal(size=shape)
    yours = expected.copy()
    spot = tuple(n * 2 // 3 for n in shape)
    yours[spot] += 1.0
    start = time.perf_counter()
    picture = picture_of(yours, expected)
    elapsed = time.perf_counter() - start
    img = image(picture)
    row, column = (0, spot[0]) if len(shape) == 1 else spot[-2:]
    assert colour(img, picture, "difference", row, column) in DIFFERENCE_COLOURS
    assert max(picture.width, picture.height) <= 700
    if len(shape) == 3:
        assert picture.slice_index == (spot[0],)
    else:
        assert picture.panels[0].block != (1, 1)
        assert "Each cell stands for up to" in picture.caption
    assert elapsed < 10  # a few hundred milliseconds here; generous for a loaded machine


def test_nan_and_inf_have_colours_of_their_own():
    expected = np.ones((5, 5))
    yours = expected.copy()
    yours[1, 3], yours[4, 0] = np.nan, -np.inf
    picture = picture_of(yours, expected)
    img = image(picture)
    assert colour(img, picture, "yours", 1, 3) == pictures.NAN
    assert colour(img, picture, "yours", 4, 0) == pictures.INF
    assert colour(img, picture, "expected", 1, 3) not in (pictures.NAN, pictures.INF)
    assert colour(img, picture, "difference", 1, 3) == pictures.NAN
    assert colour(img, picture, "difference", 4, 0) == pictures.NAN
    assert colour(img, picture, "difference", 2, 2) == pictures.NEUTRAL
    assert picture.caption.startswith("2 of 25 elements are NaN or inf in one answer only.")


def test_a_single_nan_in_a_large_array_is_still_visible():
    expected = np.zeros((1000, 1000))
    yours = expected.copy()
    yours[500, 500] = np.nan
    picture = picture_of(yours, expected)
    img = image(picture)
    assert colour(img, picture, "yours", 500, 500) == pictures.NAN
    panel = picture.panels[2]
    x, y = panel.pixel(500, 500)
    marked = [img.getpixel((x + dx, y + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert marked.count(pictures.NAN) == 9  # drawn larger than its one-pixel cell


def test_all_nan_and_constant_answers():
    picture = picture_of(np.full((4, 4), np.nan), np.ones((4, 4)))
    img = image(picture)
    assert colour(img, picture, "yours", 2, 2) == pictures.NAN
    picture = picture_of(np.full((3, 3), 2.0), np.full((3, 3), 1.0))
    img = image(picture)
    assert colour(img, picture, "yours", 0, 0) != colour(img, picture, "expected", 0, 0)
    assert colour(img, picture, "difference", 1, 1) in DIFFERENCE_COLOURS


def test_zero_tolerance():
    expected = np.linspace(0, 1, 12).reshape(3, 4)
    yours = expected.copy()
    yours[1, 2] += 1e-15
    picture = picture_of(yours, expected, Tolerance(0.0, 0.0))
    img = image(picture)
    assert colour(img, picture, "difference", 1, 2) in DIFFERENCE_COLOURS
    assert colour(img, picture, "difference", 0, 0) == pictures.NEUTRAL


def test_bools():
    picture = picture_of(np.eye(3, dtype=bool), np.eye(3, dtype=bool)[::-1])
    img = image(picture)
    assert colour(img, picture, "difference", 1, 1) == pictures.NEUTRAL
    assert colour(img, picture, "difference", 0, 0) in DIFFERENCE_COLOURS
    assert picture.caption.startswith("4 of 9 bools differ.")


def test_the_caption_says_where_and_is_bounded():
    expected = {"U" * 300: np.zeros(3)}
    picture = difference_picture(compare({"U" * 300: np.ones(3)}, expected, TOL))
    assert picture.caption.startswith("In output['" + "U" * 36 + "...]: 3 of 3 elements")
    label = "config['m'] (step 2)"
    mismatch = compare(np.ones(3), np.zeros(3), TOL, path=(label,))
    assert difference_picture(mismatch).caption.startswith(
        "In config['m'] (step 2): 3 of 3 elements")
    assert len(difference_picture(mismatch).caption) <= pictures.CAPTION


@pytest.mark.parametrize("dtype", ["i1", "u8", "f2", "f4", "f8"])
def test_any_numeric_dtype(dtype):
    wanted = np.arange(12).reshape(3, 4).astype(dtype)
    yours = wanted[::-1].copy()
    picture = difference_picture(Mismatch("values", count=8, total=12, tolerance=TOL,
                                          yours=yours, wanted=wanted))
    image(picture)


@pytest.mark.parametrize("shape", [(2,), (3, 1), (1, 2), (1, 1, 2), (500, 1), (1, 500),
                                   (2,) * 12, (7, 1, 1, 3)])
def test_odd_shapes(shape):
    wanted = np.zeros(shape)
    yours = np.ones(shape)
    image(picture_of(yours, wanted))


@pytest.mark.parametrize("yours, wanted", [
    (None, np.zeros(3)), ("text", np.zeros(3)), (np.zeros(3, complex), np.zeros(3)),
    (np.array([object(), 1], dtype=object), np.zeros(2)), (np.zeros(3), np.zeros(4)),
    ([[1, 2], [3]], np.zeros(2)), (np.zeros(()), np.zeros(())), (np.zeros(1), np.ones(1)),
    (np.zeros((0, 3)), np.zeros((0, 3))), (np.array(["a", "b"]), np.array(["a", "c"])),
])
def test_what_cannot_be_drawn_gives_no_picture(yours, wanted):
    assert difference_picture(Mismatch("values", tolerance=TOL, yours=yours,
                                       wanted=wanted)) is None


def test_other_stages_and_numbers_give_no_picture():
    assert difference_picture(None) is None
    assert difference_picture(compare(np.zeros(3), np.zeros(4), TOL)) is None  # shape
    assert difference_picture(compare("a", 1.0, TOL)) is None                  # type
    assert difference_picture(compare(1.5, 2.0, TOL)) is None                  # a number
    assert difference_picture(Mismatch("values", yours=np.zeros(3),
                                       wanted=np.ones(3))) is None  # no tolerance


def test_a_shared_wrong_answer_is_drawn_once():
    wanted = np.arange(12.0).reshape(3, 4)
    shared = picture_of(wanted.T.copy().reshape(3, 4), wanted)
    again = picture_of(wanted.T.copy().reshape(3, 4), wanted)  # another student, same answer
    assert again is shared
    other = wanted.T.copy().reshape(3, 4)
    other[0, 1] += 1.0
    different = picture_of(other, wanted)
    assert different is not shared and different.data_uri != shared.data_uri
    looser = picture_of(wanted.T.copy().reshape(3, 4), wanted, Tolerance(1e-3, 1e-3))
    assert looser is not shared  # the tolerance is part of what a picture shows
