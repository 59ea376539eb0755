import re

import numpy as np
import pytest

from annotator.metrics.types import Span
from annotator.metrics.units import label_masks, unit_bounds, unit_categories
from tests.metrics.generators import naive_categories, random_documents


@pytest.mark.parametrize(
    "text",
    ["", "   ", "one", " lead and trail ", "tabs\tand\nnew\r\nlines",
     "nbsp\u00a0thin\u2009ideo\u3000space", "emoji 😀🇪🇺 here", "\x1c\x1d\x1e\x1f sep", "\x85next"],
)
def test_token_bounds_equal_python_regex_non_whitespace_runs(text):
    starts, ends = unit_bounds(text, "token")
    expected = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == expected


def test_token_bounds_equal_regex_on_random_unicode_text():
    rng = np.random.default_rng(3)
    alphabet = [chr(c) for c in range(0x3100) if chr(c).isprintable() or chr(c).isspace()]
    text = "".join(rng.choice(alphabet, size=5000))
    starts, ends = unit_bounds(text, "token")
    expected = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == expected


def test_char_units_are_every_character_including_whitespace():
    starts, ends = unit_bounds("a b\n", "char")
    assert starts.tolist() == [0, 1, 2, 3]
    assert ends.tolist() == [1, 2, 3, 4]


def test_unknown_unit_is_rejected():
    with pytest.raises(ValueError, match="unit must be one of"):
        unit_bounds("text", "sentence")


def test_token_is_covered_by_a_span_sharing_one_character():
    text = "alpha beta gamma"
    starts, ends = unit_bounds(text)
    # [4, 7) shares "a" with alpha and "be" with beta; [10, 11) is only the space.
    masks = label_masks(starts, ends, np.array([4, 10]), np.array([7, 11]), np.array([0, 1]))
    assert masks.tolist() == [1, 1, 0]


def test_categories_join_sorted_labels_with_plus_and_use_O_for_none():
    spans = [Span("T1", 0, 5, "Evidence"), Span("T2", 4, 10, "Claim")]
    codes, names = unit_categories("we act now", [spans], unit="token")
    assert [names[c] for c in codes[0]] == ["Evidence", "Claim+Evidence", "Claim"]
    codes, names = unit_categories("we act now", [[]], unit="token")
    assert [names[c] for c in codes[0]] == ["O", "O", "O"]


@pytest.mark.parametrize("unit", ["token", "char"])
@pytest.mark.parametrize("seed", range(5))
def test_categories_equal_a_naive_unit_by_unit_implementation(seed, unit):
    for doc in random_documents(seed):
        annotators = list(doc.work)
        codes, names = unit_categories(doc.text, [doc.work[a].spans for a in annotators], unit=unit)
        for row, a in enumerate(annotators):
            expected = naive_categories(doc.text, doc.work[a].spans, unit)
            assert [names[c] for c in codes[row]] == expected


def test_span_outside_the_text_is_rejected_with_its_id():
    with pytest.raises(ValueError, match="'T9'"):
        unit_categories("short", [[Span("T9", 2, 40, "Claim")]])


def test_a_snapped_span_that_stops_before_punctuation_covers_the_last_token():
    """Issue 13: snapping no longer adds a full stop, and agreement tokens stay \\S+ runs,
    so a span ending inside "partnership." still covers that token."""
    from annotator.metrics.types import Span
    from annotator.metrics.units import unit_categories
    from annotator.text.tokens import snap_to_words

    text = "Russia builds a new partnership. It costs 96 million euros a year, they say."
    cut = text.index("partnership") + 4  # the mouse stopped inside the word
    start, end = snap_to_words(text, text.index("a new"), cut)
    assert text[start:end] == "a new partnership"  # completed, the stop not added
    with_stop = [Span("T1", start, end + 1, "Claim")]
    without = [Span("T1", start, end, "Claim")]
    codes, names = unit_categories(text, [with_stop, without])
    assert codes[0].tolist() == codes[1].tolist()  # the same tokens, the same categories
    assert [names[c] for c in codes[0][:5]] == ["O", "O", "Claim", "Claim", "Claim"]
