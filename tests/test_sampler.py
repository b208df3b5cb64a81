"""The sampler kind's statistical check (`grader.kinds.stats.check_sample`): correct samples of
any size pass, and a wrong law fails even when it shares the declared one's moments."""
import numpy as np
import pytest

from grader.kinds.stats import check_sample

NORMAL = {"family": "normal", "mean": 0.5, "std": 0.1}
UNIFORM = {"family": "uniform", "low": -0.2, "high": 0.2}


def judged(sample, distribution):
    return check_sample(sample, sample.copy(), sample + 1.0, distribution)


def three_point(distribution, size, rng):
    """-a, 0, a around the mean with the declared law's mean, variance and kurtosis: kurtosis
    1/p for mass p/2 at each of -a and a, variance p a^2."""
    if distribution["family"] == "normal":
        mean, std, kurtosis = distribution["mean"], distribution["std"], 3.0
    else:
        low, high = distribution["low"], distribution["high"]
        mean, std, kurtosis = (low + high) / 2, (high - low) / np.sqrt(12), 1.8
    p = 1 / kurtosis
    a = std / np.sqrt(p)
    return mean + rng.choice([-a, 0.0, a], size=size, p=[p / 2, 1 - p, p / 2])


@pytest.mark.parametrize("distribution", [NORMAL, UNIFORM], ids=["normal", "uniform"])
def test_a_law_with_the_declared_moments_but_another_shape_fails(distribution):
    sample = three_point(distribution, 6000, np.random.default_rng(0))
    message = judged(sample, distribution)
    assert message is not None and "distribution: " in message
    assert "mean:" not in message and "variance:" not in message and "kurtosis" not in message


def drawn(distribution, shape, seed: int) -> np.ndarray:
    """A correct sample of `distribution`."""
    rng = np.random.default_rng(seed)
    if distribution["family"] == "normal":
        return rng.normal(distribution["mean"], distribution["std"], shape)
    return rng.uniform(distribution["low"], distribution["high"], shape)


@pytest.mark.parametrize("distribution", [NORMAL, UNIFORM], ids=["normal", "uniform"])
def test_correct_samples_of_any_size_pass(distribution):
    for size in (5, 60, 6000):
        for seed in range(200):
            assert judged(drawn(distribution, size, seed), distribution) is None, (size, seed)


def test_a_shifted_sample_is_told_where_its_shares_differ():
    sample = np.random.default_rng(1).uniform(-0.1, 0.3, 6000)  # mean 0.1, not 0
    message = judged(sample, UNIFORM)
    assert "distribution: " in message and "expected" in message and "for 6000 values" in message


def test_odd_samples_are_judged_without_error():
    assert "variance: " in judged(np.full(100, 0.5), NORMAL)
    for sample, wrong in ((np.array([np.nan, 0.4, 0.6] * 20), 20),
                          (np.array([np.inf, -np.inf, 0.5] * 20), 40)):
        assert f"values: {wrong} of the 60 values are NaN or infinite" in judged(sample, NORMAL)
    assert judged(np.full(10, 0.5), {"family": "normal", "mean": 0.5, "std": 0.0}) is None


@pytest.mark.parametrize("seed, size", [(902, 200), (1312, 60)])
def test_correct_normal_samples_whose_kurtosis_strays_past_its_standard_error_pass(seed, size):
    """The sample kurtosis is skewed at small sizes: these reach 5.4 at 200 values, 5.5
    standard errors, which a normal sample does about once in two thousand."""
    assert judged(np.random.default_rng(seed).normal(0.5, 0.1, size), NORMAL) is None


def test_a_float32_uniform_sample_rounded_onto_a_bound_passes():
    bound = float(np.sqrt(6 / 95))  # relu, fan_in 95: float32(bound) > bound
    sample = np.random.default_rng(479).uniform(-bound, bound, (63, 95)).astype(np.float32)
    assert np.abs(sample.astype(float)).max() > bound  # the premise: a value rounded past it
    assert judged(sample, {"family": "uniform", "low": -bound, "high": bound}) is None


def test_a_normal_narrow_against_its_mean_is_judged_within_float_resolution():
    distribution = {"family": "normal", "mean": 1e6, "std": 1e-9}
    for seed in range(20):
        sample = np.random.default_rng(seed).normal(1e6, 1e-9, 6000)
        assert judged(sample, distribution) is None, seed


def test_a_sample_returned_as_lists_is_judged_as_an_array():
    sample = np.random.default_rng(4).normal(0.5, 0.1, (60, 100))
    assert check_sample(sample.tolist(), sample.tolist(), (sample + 1).tolist(), NORMAL) is None
    assert "mean: " in check_sample((sample + 0.1).tolist(), (sample + 0.1).tolist(),
                                    sample.tolist(), NORMAL)
    assert check_sample(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3)), NORMAL) is None


@pytest.mark.parametrize("distribution", [NORMAL, UNIFORM], ids=["normal", "uniform"])
def test_a_scale_off_by_a_tenth_fails_at_the_example_s_size(distribution):
    rng = np.random.default_rng(5)
    if distribution["family"] == "normal":
        sample = rng.normal(distribution["mean"], 1.1 * distribution["std"], 6000)
    else:
        sample = rng.uniform(0.9 * distribution["low"], 0.9 * distribution["high"], 6000)
    assert "variance: " in judged(sample, distribution)


def test_a_normal_truncated_at_two_std_and_rescaled_fails():
    rng = np.random.default_rng(6)
    draws = rng.normal(size=20_000)
    kept = draws[np.abs(draws) <= 2][:6000]
    sample = NORMAL["mean"] + NORMAL["std"] * kept / kept.std()
    assert "kurtosis" in judged(sample, NORMAL)


def test_a_float16_sample_is_allowed_its_rounding():
    """float16 rounds values near 1 to steps of 0.001, a tenth of this std: that alone moves
    the shares by about 2%, twice what chance allows 100,000 values."""
    distribution = {"family": "normal", "mean": 1.0, "std": 0.01}
    for seed in range(10):
        sample = np.random.default_rng(seed).normal(1.0, 0.01, 100_000).astype(np.float16)
        assert judged(sample, distribution) is None, seed


def test_values_rounded_or_drawn_from_a_few_fail_on_their_repeats():
    """Shares and moments cannot see values rounded to two decimals (a step of a tenth of the
    std) or drawn from a pool of 500: repeats can, where a float64 law repeats none."""
    rng = np.random.default_rng(7)
    sample = rng.normal(NORMAL["mean"], NORMAL["std"], 6000)
    rounded = judged(np.round(sample, 2), NORMAL)
    assert rounded is not None and "ties: " in rounded
    assert not any(word in rounded for word in ("mean:", "variance:", "distribution:", "shape:"))
    assert "ties: " in judged(rng.choice(sample[:500], 6000), NORMAL)


def test_float32_samples_repeating_as_their_precision_allows_pass():
    """normal(1000, 1) in float32 has steps of 6e-5: among 512 values about three repeats are
    to be expected, and are allowed."""
    distribution = {"family": "normal", "mean": 1000.0, "std": 1.0}
    for seed in range(200):
        sample = np.random.default_rng(seed).normal(1000, 1, 6000).astype(np.float32)
        assert judged(sample, distribution) is None, seed


def test_values_in_order_fail_however_well_they_fit_the_law():
    """A sorted sample, or a grid of the law's quantiles (shifted by the seed so that seeds
    differ), fits every share and moment; its neighbours rise far more often than they fall."""
    from statistics import NormalDist
    rng = np.random.default_rng(3)
    law = NormalDist(NORMAL["mean"], NORMAL["std"])
    grid = np.array([law.inv_cdf((k + 0.5) / 6000) for k in range(6000)])
    first, other = (np.roll(grid, seed).reshape(60, 100) for seed in (0, 1))
    assert "order: along axis 0" in check_sample(first, first.copy(), other, NORMAL)
    sample = rng.normal(NORMAL["mean"], NORMAL["std"], (60, 100))
    for ordered, axis in ((np.sort(sample, axis=None).reshape(60, 100), 0),
                          (np.sort(sample, axis=1), 1), (np.sort(sample, axis=0), 0)):
        message = judged(ordered, NORMAL)
        assert message is not None and f"order: along axis {axis}" in message, message


@pytest.mark.parametrize("distribution", [NORMAL, UNIFORM], ids=["normal", "uniform"])
def test_correct_samples_of_any_shape_pass_the_order_test(distribution):
    for shape in ((2, 3), (60, 100), (375, 16), (4, 5, 6)):
        for seed in range(200):
            assert judged(drawn(distribution, shape, seed), distribution) is None, (shape, seed)


def test_a_wrong_variance_says_how_many_times_the_expected_one_it_is():
    rng = np.random.default_rng(3)
    half = rng.uniform(-0.2 / np.sqrt(2), 0.2 / np.sqrt(2), size=6000)  # a gain of 1, not 2
    message = judged(half, UNIFORM)
    line = next(line for line in message.splitlines() if "variance:" in line)
    ratio = float(line.rsplit(", ", 1)[1].removesuffix(" times the expected one"))
    assert abs(ratio - 0.5) < 0.05, line
