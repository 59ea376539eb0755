import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotator.metrics.kappa import cohen_kappa, fleiss_kappa, fleiss_kappa_from_sums, fleiss_sums

# Fleiss (1971), Psychological Bulletin 76(5), Table 1: 30 patients, each
# diagnosed by 6 psychiatrists into 5 categories (depression, personality
# disorder, schizophrenia, neurosis, other); kappa = .430. Transcribed as in
# JonasMoss/quadagree, data_raw/fleiss1971.csv.
FLEISS_1971 = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
]


def _table(a, b, n):
    t = np.zeros((n, n))
    np.add.at(t, (a, b), 1)
    return t


def test_fleiss_1971_published_example_is_0_430():
    assert fleiss_kappa(FLEISS_1971) == pytest.approx(0.430, abs=5e-4)


@pytest.mark.parametrize("seed", range(8))
def test_fleiss_equals_statsmodels_with_a_constant_number_of_raters(seed):
    rng = np.random.default_rng(seed)
    n_raters, n_cat = int(rng.integers(2, 8)), int(rng.integers(2, 6))
    ratings = rng.integers(0, n_cat, size=(int(rng.integers(5, 100)), n_raters))
    table = np.stack([(ratings == c).sum(axis=1) for c in range(n_cat)], axis=1)
    assert fleiss_kappa(table) == pytest.approx(statsmodels_fleiss_kappa(table), abs=1e-12)


def test_fleiss_with_varying_raters_follows_gwet_2014():
    # Items rated by 2, 3 and 4 raters: P_i per item, p_j as the mean of the
    # per-item proportions (Gwet 2014, Fleiss' generalised kappa).
    table = np.array([[2, 0], [1, 2], [3, 1], [0, 2]], dtype=float)
    r = table.sum(axis=1)
    p_bar = np.mean((table * (table - 1)).sum(axis=1) / (r * (r - 1)))
    p = (table / r[:, None]).mean(axis=0)
    p_e = (p**2).sum()
    assert fleiss_kappa(table) == pytest.approx((p_bar - p_e) / (1 - p_e))


def test_fleiss_skips_items_with_fewer_than_two_ratings():
    base = np.array([[2, 0], [1, 1], [0, 2]])
    assert fleiss_kappa(np.vstack([base, [[1, 0]], [[0, 0]]])) == fleiss_kappa(base)


def test_fleiss_pooled_sums_equal_fleiss_of_the_stacked_table():
    a, b = np.array(FLEISS_1971[:10]), np.array(FLEISS_1971[10:])
    sa, sb = fleiss_sums(a), fleiss_sums(b)
    pooled = fleiss_kappa_from_sums(sa[0] + sb[0], sa[1] + sb[1], sa[2] + sb[2])
    assert pooled == pytest.approx(fleiss_kappa(FLEISS_1971))


def test_fleiss_is_undefined_for_one_category_or_no_item():
    assert fleiss_kappa([[3, 0], [3, 0]]) is None
    assert fleiss_kappa(np.zeros((0, 2))) is None


@pytest.mark.parametrize("seed", range(8))
def test_cohen_equals_sklearn_cohen_kappa_score(seed):
    rng = np.random.default_rng(seed)
    n_cat = int(rng.integers(2, 6))
    a = rng.integers(0, n_cat, size=int(rng.integers(5, 300)))
    b = np.where(rng.random(len(a)) < 0.6, a, rng.integers(0, n_cat, size=len(a)))
    assert cohen_kappa(_table(a, b, n_cat)) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_cohen_krippendorff_1995_digitised_example_a_is_0_385():
    # DKPro Statistics, Krippendorff1995Test.testDigitizedAgreement: Bertha vs
    # Bill, 24 positions; Cohen's kappa 0.385.
    bertha = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    bill = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert cohen_kappa(_table(bertha, bill, 2)) == pytest.approx(0.385, abs=5e-4)


def test_cohen_is_undefined_when_both_coders_use_one_same_category_or_nothing():
    assert cohen_kappa([[5, 0], [0, 0]]) is None
    assert cohen_kappa(np.zeros((2, 2))) is None


def test_cohen_rejects_a_non_square_table():
    with pytest.raises(ValueError, match="square"):
        cohen_kappa([[1, 2, 3]])
