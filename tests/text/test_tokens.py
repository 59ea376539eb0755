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
