import pytest

from annotator.text.utf16 import codepoints_to_utf16, utf16_length, utf16_to_codepoints

SAMPLES = [
    "plain ASCII",
    "café naïve",
    "\U0001d518 mathematical fraktur",
    "👩‍💻 codes: 👍🏽 and 🇪🇺",
    "mixed \U0001d518a👍b\n😀",
    "",
]


def _js_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize("text", SAMPLES)
def test_round_trip_at_every_code_point_boundary(text):
    for offset in range(len(text) + 1):
        units = codepoints_to_utf16(text, offset)
        assert units == _js_length(text[:offset])
        assert utf16_to_codepoints(text, units) == offset


def test_non_bmp_character_counts_two_units():
    text = "a\U0001d518b"
    assert utf16_length(text) == 4
    assert codepoints_to_utf16(text, 2) == 3
    assert utf16_to_codepoints(text, 3) == 2


def test_zwj_emoji_sequence_counts_each_code_point():
    text = "👩‍💻!"  # woman, zero-width joiner, laptop
    assert len(text) == 4
    assert utf16_length(text) == 6
    assert utf16_to_codepoints(text, 5) == 3


def test_offset_inside_surrogate_pair_is_refused():
    with pytest.raises(ValueError, match="surrogate pair"):
        utf16_to_codepoints("a👍b", 2)


@pytest.mark.parametrize("offset", [-1, 5])
def test_utf16_offset_out_of_range_is_refused(offset):
    with pytest.raises(ValueError, match="outside"):
        utf16_to_codepoints("a👍b", offset)


@pytest.mark.parametrize("offset", [-1, 4])
def test_codepoint_offset_out_of_range_is_refused(offset):
    with pytest.raises(ValueError, match="outside"):
        codepoints_to_utf16("a👍b", offset)


def test_non_integer_offset_is_refused():
    with pytest.raises(ValueError):
        utf16_to_codepoints("abc", 1.0)
