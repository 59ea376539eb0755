import random

import pytest

from annotator.text.tokens import snap_to_words, token_offsets, trim_whitespace


def test_tokens_are_maximal_runs_of_non_whitespace():
    text = "  Sanctions\twork,\n\nslowly.\u00a0Yes "
    assert [text[s:e] for s, e in token_offsets(text)] == [
        "Sanctions",
        "work,",
        "slowly.",
        "Yes",
    ]


def test_tokens_count_code_points_with_emoji():
    text = "👩‍💻 codes \U0001d518"
    assert token_offsets(text) == [(0, 3), (4, 9), (10, 11)]


def test_empty_text_has_no_tokens():
    assert token_offsets("") == []
    assert token_offsets(" \n\t") == []


def test_snap_expands_a_cut_word_at_both_ends():
    text = "We must cut imports now."
    start, end = snap_to_words(text, 4, 14)  # "st cut imp"
    assert text[start:end] == "must cut imports"


def test_snap_trims_whitespace_caught_at_the_ends():
    text = "We must  act.  Now"
    start, end = snap_to_words(text, 2, 15)  # " must  act.  "
    assert text[start:end] == "must  act."


def test_snap_keeps_an_exact_selection():
    text = "one two three"
    assert snap_to_words(text, 4, 7) == (4, 7)


def test_snap_at_text_edges():
    text = "edge"
    assert snap_to_words(text, 1, 3) == (0, 4)


def test_snap_refuses_whitespace_only_selection():
    with pytest.raises(ValueError, match="only whitespace"):
        snap_to_words("one   two", 3, 6)


def test_trim_whitespace_does_not_expand():
    text = "  half-word  "
    assert trim_whitespace(text, 0, 7) == (2, 7)


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (3, 2), (0, 99)])
def test_trim_refuses_ranges_outside_the_text(start, end):
    with pytest.raises(ValueError):
        trim_whitespace("short", start, end)


# Issue 13, point 4: snapping completes words but never adds or drops punctuation.
BRIEF = (
    "Pakistan and Russia are building a new strategic partnership. It costs "
    "96 million euros a year, officials say; don't expect a well-known rock'n'roll "
    "COVID-19 fix (Reuters). 𝔘nicode 👍 works."
)


def _snap(phrase: str, cut_left: int = 0, cut_right: int = 0) -> str:
    start = BRIEF.index(phrase) + cut_left
    end = BRIEF.index(phrase) + len(phrase) - cut_right
    s, e = snap_to_words(BRIEF, start, end)
    return BRIEF[s:e]


@pytest.mark.parametrize(
    "phrase",
    [
        "Pakistan and Russia are building a new strategic partnership",
        "96 million euros a year",
        "partnership.",
        "a year, officials say;",
        "(Reuters)",
        "Reuters",
        "fix (Reuters).",
    ],
)
def test_an_exact_selection_is_kept_with_exactly_its_punctuation(phrase):
    assert _snap(phrase) == phrase


@pytest.mark.parametrize(
    ("phrase", "left", "right", "expected"),
    [
        ("Russia are building", 2, 3, "Russia are building"),
        ("strategic partnership", 3, 4, "strategic partnership"),  # no full stop added
        ("don't expect", 0, 0, "don't expect"),
        ("don't", 4, 0, "don't"),  # "t": the apostrophe joins it to "don"
        ("don't", 0, 2, "don't"),  # "don": completed over the apostrophe
        ("well-known", 6, 0, "well-known"),
        ("rock'n'roll", 5, 3, "rock'n'roll"),
        ("COVID-19", 7, 0, "COVID-19"),
        ("𝔘nicode", 1, 2, "𝔘nicode"),  # a letter outside the BMP is a word character
        ("(Reuters)", 2, 2, "Reuters"),  # cut inside: the brackets were not selected
        ("96 million", 1, 0, "96 million"),
    ],
)
def test_a_cut_word_is_completed_and_nothing_else(phrase, left, right, expected):
    assert _snap(phrase, left, right) == expected


def test_a_hyphen_or_apostrophe_outside_a_word_is_punctuation():
    text = "a - b 'quoted' c-"
    assert text[slice(*snap_to_words(text, 0, 1))] == "a"
    assert text[slice(*snap_to_words(text, 7, 12))] == "quoted"  # quotes not added
    assert text[slice(*snap_to_words(text, 15, 16))] == "c"  # trailing hyphen not added


def test_snapping_keeps_every_selected_character_and_adds_only_word_characters():
    """Checked on random selections against the rule, not against the function's cases."""
    rng = random.Random(13)
    joiners = set("'\u2019\u02bc-\u2010\u2011\u200c\u200d")
    for _ in range(2000):
        a = rng.randrange(len(BRIEF))
        b = rng.randrange(a, len(BRIEF)) + 1
        if not BRIEF[a:b].strip():
            continue
        s, e = snap_to_words(BRIEF, a, b)
        trimmed = BRIEF[a:b].strip()
        t0 = a + BRIEF[a:b].index(trimmed[0])
        t1 = t0 + len(trimmed)
        assert s <= t0 and e >= t1, (a, b)  # nothing selected is dropped (but whitespace)
        for added in BRIEF[s:t0] + BRIEF[t1:e]:  # what grew is letters, digits, joiners
            assert added.isalnum() or added in joiners, (a, b, added)
        assert snap_to_words(BRIEF, s, e) == (s, e)  # a snapped span stays as it is


def test_the_demo_spans_stay_as_they_are_under_snapping():
    """Selecting a demo span's text exactly stores exactly that span."""
    from annotator.services.demo import _alice, _bob, demo_brief_text

    text = demo_brief_text()
    for record in (_alice(text), _bob(text)):
        for span in record.spans:
            assert snap_to_words(text, span.start, span.end) == (span.start, span.end), span


def test_urdu_words_snap_whole_and_a_non_joiner_stays_inside_its_word():
    """Urdu letters are letters; a word written in two pieces with U+200C (taxpayers) is
    one word; the Urdu full stop U+06D4 is punctuation."""
    text = "بڑی کمپنیوں پر ٹیکس بڑھایا جائے تاکہ ٹیکس\u200cدہندگان کا بوجھ کم ہو۔"
    word = "ٹیکس\u200cدہندگان"
    at = text.index(word)
    # A selection inside the second piece grows over the non-joiner to the whole word.
    assert snap_to_words(text, at + 7, at + 9) == (at, at + len(word))
    # Cutting "کمپنیوں" after two letters completes it.
    k = text.index("کمپنیوں")
    assert snap_to_words(text, k + 2, k + 5) == (k, k + len("کمپنیوں"))
    # The full stop is kept when selected, never added.
    end = len(text)
    assert snap_to_words(text, end - 4, end) == (end - 3, end)  # " ہو۔" -> "ہو۔"
    assert snap_to_words(text, end - 3, end - 2) == (end - 3, end - 1)  # "ہ" -> "ہو"
    # A non-joiner outside a word (after a space) joins nothing.
    assert snap_to_words("ab \u200ccd", 4, 6) == (4, 6)
