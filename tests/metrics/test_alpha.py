import krippendorff
import numpy as np
import pytest

from annotator.metrics.alpha import (
    alpha_from_coincidences,
    binary_coincidences,
    coincidence_matrix,
    krippendorff_alpha_nominal,
)

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# four observers, twelve units, missing values; nominal alpha = 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


def test_krippendorff_2011_four_coder_nominal_example_is_0_743():
    assert krippendorff_alpha_nominal(KRIPPENDORFF_2011) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_2011_coincidence_matrix_of_the_four_coder_example():
    # Krippendorff (2011), section C: value totals n_c = 9, 13, 10, 5, 3 and
    # n = 40 pairable values (unit 12 has a single value).
    data = np.asarray(KRIPPENDORFF_2011)
    counts = np.stack([(data == v).sum(axis=0) for v in range(1, 6)], axis=1)
    o = coincidence_matrix(counts)
    assert np.round(o.sum(axis=1), 9).tolist() == [9.0, 13.0, 10.0, 5.0, 3.0]
    assert o.sum() == pytest.approx(40.0)


@pytest.mark.parametrize("seed", range(8))
def test_nominal_alpha_equals_the_krippendorff_package_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n_coders, n_units = int(rng.integers(2, 6)), int(rng.integers(5, 200))
    data = rng.integers(0, int(rng.integers(2, 6)), size=(n_coders, n_units)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(data) == pytest.approx(expected, abs=1e-12)


def test_binary_coincidences_give_the_alpha_of_the_binary_reliability_data():
    rng = np.random.default_rng(1)
    data = (rng.random((3, 50)) < 0.4).astype(float)
    o = binary_coincidences(data.sum(axis=0), np.full(50, 3))
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert alpha_from_coincidences(o) == pytest.approx(expected, abs=1e-12)


def test_alpha_is_undefined_for_a_single_category():
    assert krippendorff_alpha_nominal([[1, 1, 1], [1, 1, 1]]) is None


def test_alpha_is_undefined_without_pairable_values():
    assert krippendorff_alpha_nominal([[1, NAN], [NAN, 2]]) is None


def test_alpha_is_one_for_perfect_agreement_and_negative_for_systematic_disagreement():
    assert krippendorff_alpha_nominal([[1, 2, 1, 2], [1, 2, 1, 2]]) == 1.0
    assert krippendorff_alpha_nominal([[1, 2, 1, 2], [2, 1, 2, 1]]) < 0


@pytest.mark.parametrize(
    ("function", "argument", "message"),
    [
        (coincidence_matrix, [1, 2], "2-D"),
        (coincidence_matrix, [[1, -1]], "non-negative"),
        (alpha_from_coincidences, [[1, 2, 3]], "square"),
        (krippendorff_alpha_nominal, [1, 2, 3], "2-D"),
    ],
)
def test_invalid_input_raises_a_precise_value_error(function, argument, message):
    with pytest.raises(ValueError, match=message):
        function(argument)
