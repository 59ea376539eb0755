"""alpha_U against DKPro Statistics' published test values.

Source: github.com/dkpro/dkpro-statistics, module dkpro-statistics-agreement,
src/test/java/org/dkpro/statistics/agreement/unitizing/ — Krippendorff2004Test,
Krippendorff1995Test and UnitizingAgreementTest (Meyer et al. 2014). The
tolerances are the ones those tests use.
"""

import numpy as np
import pytest

from annotator.metrics.unitizing import (
    krippendorff_alpha_unitizing,
    section_sums,
    unitizing_disagreements,
)

# Krippendorff (2004, p. 254) as in Krippendorff2004Test.createExample():
# continuum 150..450, two raters. DKPro units are (offset, length, rater, cat).
K2004 = [(225, 70, 0, "c"), (370, 30, 0, "c"), (220, 80, 1, "c"), (355, 20, 1, "c"),
         (400, 20, 1, "c"), (180, 60, 0, "k"), (300, 50, 0, "k"), (180, 60, 1, "k"),
         (300, 50, 1, "k")]

# Krippendorff (1995, p. 57) as in Krippendorff1995Test.createExample(stretch).
K1995 = [
    (2, 8, 0, "A"), (14, 6, 0, "A"), (4, 4, 1, "A"), (15, 2, 1, "A"),
    (0, 18, 0, "B"), (0, 2, 1, "B"), (2, 1, 1, "B"), (3, 1, 1, "B"), (4, 1, 1, "B"),
    (5, 1, 1, "B"), (6, 3, 1, "B"), (9, 1, 1, "B"),
    (2, 6, 0, "C"), (10, 2, 0, "C"), (14, 4, 0, "C"), (20, 2, 0, "C"), (0, 2, 1, "C"),
    (4, 4, 1, "C"), (10, 4, 1, "C"), (16, 2, 1, "C"), (20, 2, 1, "C"),
    (0, 2, 0, "D"), (2, 8, 0, "D"), (10, 4, 0, "D"), (14, 6, 0, "D"), (20, 4, 0, "D"),
    (0, 4, 1, "D"), (4, 4, 1, "D"), (8, 7, 1, "D"), (15, 2, 1, "D"), (17, 7, 1, "D"),
]


def _units(dkpro_units, stretch=1.0, only=None):
    out = []
    for offset, length, rater, category in dkpro_units:
        if only is None or category == only:
            begin = int(offset * stretch)
            out.append((rater, begin, begin + int(length * stretch), category))
    return out


def _k1995(stretch, only=None):
    return krippendorff_alpha_unitizing(
        _units(K1995, stretch, only), n_raters=2, length=int(24 * stretch)
    )


def test_krippendorff_2004_example_matches_dkpro_category_values():
    result = krippendorff_alpha_unitizing(_units(K2004), n_raters=2, begin=150, length=300)
    assert result.observed["c"] == pytest.approx(0.0144, abs=1e-4)
    assert result.expected["c"] == pytest.approx(0.0532, abs=1e-4)
    assert result.per_category["c"] == pytest.approx(0.7286, abs=1e-4)
    assert result.observed["k"] == pytest.approx(0.0, abs=1e-4)
    assert result.expected["k"] == pytest.approx(0.0490, abs=1e-4)
    assert result.per_category["k"] == pytest.approx(1.0, abs=1e-4)


def test_krippendorff_2004_overall_is_one_minus_mean_observed_over_mean_expected():
    result = krippendorff_alpha_unitizing(_units(K2004), n_raters=2, begin=150, length=300)
    assert result.value == pytest.approx(0.8591, abs=5e-4)  # DKPro's tolerance
    mean_o = np.mean(list(result.observed.values()))
    mean_e = np.mean(list(result.expected.values()))
    assert result.value == pytest.approx(1 - mean_o / mean_e)
    assert result.value != pytest.approx(np.mean(list(result.per_category.values())), abs=1e-3)


def test_krippendorff_1995_observed_disagreement_matches_dkpro():
    result = _k1995(1)
    expected = {"A": 0.03125, "B": 2.26736, "C": 0.02777, "D": 0.38715}
    for category, value in expected.items():
        assert result.observed[category] == pytest.approx(value, abs=1e-5)


def test_krippendorff_1995_expected_disagreement_and_alpha_match_dkpro():
    result = _k1995(1200000 / 24)
    expected = {"A": 0.06990, "B": 1.17731, "C": 0.08642, "D": 0.41445}
    alpha = {"A": 0.553, "B": -0.926, "C": 0.679, "D": 0.066}
    for category in expected:
        assert result.expected[category] == pytest.approx(expected[category], abs=5e-3)
        assert result.per_category[category] == pytest.approx(alpha[category], abs=0.02)


@pytest.mark.parametrize(
    ("stretch", "d_e", "d_e_tolerance", "alpha"),
    [
        (12 / 24, 0.05494, 1e-5, 0.494),
        (120 / 24, 0.08234, 5e-3, 0.663),
        (1200 / 24, 0.08600, 5e-3, 0.677),
        (12000 / 24, 0.08638, 5e-3, 0.678),
        (120000 / 24, 0.08642, 5e-3, 0.679),
    ],
)
def test_krippendorff_1995_varying_lengths_match_dkpro(stretch, d_e, d_e_tolerance, alpha):
    result = _k1995(stretch, only="C")
    assert result.observed["C"] == pytest.approx(0.02777, abs=1e-5)
    assert result.expected["C"] == pytest.approx(d_e, abs=d_e_tolerance)
    assert result.per_category["C"] == pytest.approx(alpha, abs=0.02)


def test_dkpro_unitizing_agreement_test_example():
    # UnitizingAgreementTest.createExample(): r0: -11111111-, r1: --1-1-1---
    units = [(0, 1, 9, "A"), (1, 2, 3, "A"), (1, 4, 5, "A"), (1, 6, 7, "A")]
    result = krippendorff_alpha_unitizing(units, n_raters=2, length=10)
    assert result.observed["A"] == pytest.approx(0.9100, abs=1e-4)
    assert result.expected["A"] == pytest.approx(0.5351, abs=1e-4)
    assert result.per_category["A"] == pytest.approx(-0.7003, abs=1e-4)


def test_dkpro_single_annotation_unit_gives_zero():
    result = krippendorff_alpha_unitizing([(0, 0, 1, "X")], n_raters=3, length=20)
    assert result.value == 0.0


def test_empty_study_is_undefined_not_nan():
    # DKPro returns NaN (testEmptyAnnotationSet); the report uses None.
    result = krippendorff_alpha_unitizing([], n_raters=3, length=20, categories=["X"])
    assert result.value is None
    assert result.per_category == {"X": None}


def test_overlapping_units_of_one_rater_are_merged_adjacent_ones_are_not():
    merged = krippendorff_alpha_unitizing(
        [(0, 0, 5, "X"), (0, 3, 8, "X"), (1, 0, 8, "X")], n_raters=2, length=20
    )
    union = krippendorff_alpha_unitizing([(0, 0, 8, "X"), (1, 0, 8, "X")], n_raters=2, length=20)
    assert merged == union
    adjacent = krippendorff_alpha_unitizing(
        [(0, 0, 4, "X"), (0, 4, 8, "X"), (1, 0, 8, "X")], n_raters=2, length=20
    )
    assert adjacent.observed["X"] > 0


def test_pooled_sections_equal_one_continuum_when_units_touch_the_section_boundaries():
    # When every rater has a unit at both ends of every section, no gap crosses
    # a boundary, so pooling the sections equals one concatenated continuum.
    first = [(0, 0, 3), (0, 5, 10), (1, 0, 4), (1, 6, 10), (2, 0, 2), (2, 4, 10)]
    second = [(0, 0, 5), (0, 9, 12), (1, 0, 6), (1, 8, 12), (2, 0, 5), (2, 10, 12)]
    sec = [0] * len(first) + [1] * len(second)
    units = first + second
    sums = section_sums(
        np.array(sec), np.array([u[0] for u in units]), np.array([u[1] for u in units]),
        np.array([u[2] for u in units]),
        section_length=np.array([10, 12]), section_raters=np.array([3, 3]),
    )
    d_o, d_e = unitizing_disagreements(sums, np.array([0, 0]), 1)
    whole = krippendorff_alpha_unitizing(
        [(r, s, e, "X") for r, s, e in first] + [(r, s + 10, e + 10, "X") for r, s, e in second],
        n_raters=3, length=22,
    )
    assert d_o[0] == pytest.approx(whole.observed["X"])
    assert d_e[0] == pytest.approx(whole.expected["X"])


def test_units_outside_the_continuum_are_rejected():
    with pytest.raises(ValueError, match="outside the continuum"):
        krippendorff_alpha_unitizing([(0, 5, 30, "X")], n_raters=2, length=20)
    with pytest.raises(ValueError, match="rater"):
        krippendorff_alpha_unitizing([(2, 0, 3, "X")], n_raters=2, length=20)
