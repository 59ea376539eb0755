import random

import pytest

from annotator.text.newlines import normalize_newlines


def test_crlf_and_lone_cr_become_lf_and_nothing_else_changes():
    text, _ = normalize_newlines("a\r\nb\rc\n\td  \u2028e")
    assert text == "a\nb\nc\n\td  \u2028e"


def test_text_without_cr_is_returned_as_is_with_identity_map():
    text, offsets = normalize_newlines("no carriage returns\n")
    assert text == "no carriage returns\n"
    assert offsets.is_identity
    assert [offsets.map(i) for i in (0, 5, 20)] == [0, 5, 20]


def test_offsets_after_crlf_move_back_by_one_per_crlf():
    original = "one\r\ntwo\r\nthree"
    text, offsets = normalize_newlines(original)
    start = original.index("three")
    assert text[offsets.map(start) : offsets.map(start + 5)] == "three"
    assert offsets.map(len(original)) == len(text)


def test_offset_between_cr_and_lf_maps_to_the_lf():
    original = "ab\r\ncd"
    text, offsets = normalize_newlines(original)
    assert offsets.map(3) == 2  # between \r and \n
    assert offsets.map(2) == 2  # at the \r
    assert text[2] == "\n"


def test_lone_cr_keeps_offsets():
    text, offsets = normalize_newlines("ab\rcd")
    assert text == "ab\ncd"
    assert [offsets.map(i) for i in range(6)] == [0, 1, 2, 3, 4, 5]


def test_every_span_keeps_its_text_after_normalisation():
    rng = random.Random(7)
    pieces = ["word", " ", "\r\n", "\r", "\n", "é", "👍"]
    original = "".join(rng.choice(pieces) for _ in range(400))
    text, offsets = normalize_newlines(original)
    for _ in range(300):
        start = rng.randrange(len(original))
        end = rng.randrange(start, len(original) + 1)
        expected = original[start:end].replace("\r\n", "\n").replace("\r", "\n")
        # A span cut inside a CRLF loses the half that is gone; skip those ends.
        if original[start - 1 : start + 1] == "\r\n" or original[end - 1 : end + 1] == "\r\n":
            continue
        assert text[offsets.map(start) : offsets.map(end)] == expected


@pytest.mark.parametrize("offset", [-1, 7, 1.5, True])
def test_offset_outside_or_not_integer_is_refused(offset):
    _, offsets = normalize_newlines("ab\r\ncd")
    with pytest.raises(ValueError):
        offsets.map(offset)
