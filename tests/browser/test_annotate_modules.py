"""The annotation page's small modules, run in Chromium and checked against Python
(issue 13): TextIndex against str indices, word units against snapping, arc levels."""

from __future__ import annotations

import random

import pytest

from annotator.text.tokens import snap_to_words
from tests.factories import AnnotationSetFactory, DocumentFactory

from .helpers import open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = ("Sanctions don't work 👩‍💻 well-known 𝔘nicode, (Reuters) 40% e\u0301t\u00e9.\n\n"
          "Second paragraph? Yes! It ends…\nA new line")


@pytest.fixture
def page(page_for, members, project):
    document = DocumentFactory(project=project, text="A short brief.")
    AnnotationSetFactory(document=document, annotator=members["annotator"])
    page = page_for(members["annotator"])
    open_page(page, document)
    return page


def test_text_index_converts_like_python_str_indices(page):
    result = page.evaluate(
        """async (text) => {
          const { TextIndex } = await import('/static/annotator/offsets.js');
          const index = new TextIndex(text);
          const points = [];
          for (let u = 0; u <= text.length; u++) points.push(index.toCodePoints(u));
          const units = [];
          for (let p = 0; p <= index.length; p++) units.push(index.toUtf16(p));
          return { points, units, length: index.length };
        }""",
        SAMPLE,
    )
    assert result["length"] == len(SAMPLE)
    # UTF-16 offset of each code point offset, computed here from the characters' widths.
    expected_units = [0]
    for char in SAMPLE:
        expected_units.append(expected_units[-1] + (2 if ord(char) > 0xFFFF else 1))
    assert result["units"] == expected_units
    for points, units in enumerate(expected_units):
        assert result["points"][units] == points
        if points < len(SAMPLE) and ord(SAMPLE[points]) > 0xFFFF:
            assert result["points"][units + 1] == points  # inside a pair: before it


def test_word_units_are_what_snapping_keeps(page):
    units = page.evaluate(
        """async (text) => {
          const { textUnits } = await import('/static/annotator/textunits.js');
          return textUnits(text, 'word');
        }""",
        SAMPLE,
    )
    text16 = SAMPLE.encode("utf-16-le")

    def points(u):  # a UTF-16 offset as a code point offset
        return len(text16[: 2 * u].decode("utf-16-le"))

    words = [SAMPLE[points(a) : points(b)] for a, b in units]
    assert words[:6] == ["Sanctions", "don't", "work", "👩\u200d💻", "well-known", "𝔘nicode"]
    assert "," in words and "(" in words and ")" in words
    assert "e\u0301t\u00e9" in words and "40" in words and "%" in words
    for a, b in units:
        s, e = points(a), points(b)
        # A unit of letters and digits is a whole word: snapping keeps it as it is.
        assert snap_to_words(SAMPLE, s, e) == (s, e), SAMPLE[s:e]
    # Together the units cover every character that is not whitespace, once.
    covered = "".join(words)
    assert covered == "".join(SAMPLE.split())


def test_sentences_and_paragraphs(page):
    result = page.evaluate(
        """async (text) => {
          const { textUnits } = await import('/static/annotator/textunits.js');
          const cut = (kind) => textUnits(text, kind).map(([a, b]) => text.slice(a, b));
          return { sentences: cut('sentence'), paragraphs: cut('paragraph') };
        }""",
        "One is here. Two (with a quote).\" Three!\n\nNew one? Yes\nlast line…",
    )
    assert result["sentences"] == [
        "One is here.", 'Two (with a quote)."', "Three!", "New one?", "Yes", "last line…"]
    assert result["paragraphs"] == [
        'One is here. Two (with a quote)." Three!', "New one? Yes", "last line…"]


def test_urdu_units_and_paragraph_directions(page):
    """Words and sentences of Urdu text (a word in two pieces with U+200C is one word; the
    Urdu full stop U+06D4 ends a sentence) and each paragraph's direction from its first
    letter (issue 14)."""
    text = "ٹیکس بڑھایا جائے تاکہ ٹیکس\u200cدہندگان کا بوجھ کم ہو۔ نقد امداد دی جائے۔\n" \
        "The subsidy: اس پر اربوں خرچ ہوتے ہیں۔\n«۔» 42 غریب\n\n"
    result = page.evaluate(
        """async (text) => {
          const { textUnits, paragraphDirection, charDirection } =
            await import('/static/annotator/textunits.js');
          const cut = (kind) => textUnits(text, kind).map(([a, b]) => text.slice(a, b));
          const dirs = [0, 10, text.indexOf('The'), text.indexOf('اس'), text.indexOf('«'),
                        text.length].map((i) => paragraphDirection(text, i));
          const chars = [text.indexOf('The'), text.indexOf('اس'), text.indexOf(':')]
            .map((i) => charDirection(text, i));
          return { words: cut('word'), sentences: cut('sentence'), dirs, chars };
        }""",
        text,
    )
    assert result["words"][:6] == ["ٹیکس", "بڑھایا", "جائے", "تاکہ", "ٹیکس\u200cدہندگان", "کا"]
    assert "۔" in result["words"] and "ہو" in result["words"]
    assert result["sentences"][:2] == ["ٹیکس بڑھایا جائے تاکہ ٹیکس\u200cدہندگان کا بوجھ کم ہو۔",
                                       "نقد امداد دی جائے۔"]
    # Urdu, English first (then Urdu inside it), neutrals before the first letter, empty.
    assert result["dirs"] == ["rtl", "rtl", "ltr", "ltr", "rtl", "ltr"]
    assert result["chars"] == ["ltr", "rtl", "ltr"]


def test_arc_levels_never_put_two_overlapping_extents_on_one_level(page):
    rng = random.Random(7)
    extents = []
    for _ in range(300):
        lo = rng.uniform(0, 800)
        extents.append({"lo": lo, "hi": lo + rng.uniform(10, 400)})
    levels = page.evaluate(
        """async (extents) => {
          const { layoutLevels } = await import('/static/annotator/arcs.js');
          return layoutLevels(extents);
        }""",
        extents,
    )
    assert len(levels) == len(extents)
    for i, a in enumerate(extents):
        for j in range(i + 1, len(extents)):
            b = extents[j]
            if levels[i] == levels[j]:
                assert a["hi"] <= b["lo"] or b["hi"] <= a["lo"], (a, b)
    # Each arc is as low as it can be: every level below it holds an arc it overlaps.
    for i, a in enumerate(extents):
        for level in range(levels[i]):
            assert any(levels[j] == level and extents[j]["lo"] < a["hi"]
                       and a["lo"] < extents[j]["hi"] for j in range(len(extents))), (i, level)
