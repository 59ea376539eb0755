"""Quoting a span's text in a list line (annotator.text.quote)."""

from __future__ import annotations

from annotator.text.quote import quote


def test_short_text_is_kept_whole_with_whitespace_folded():
    assert quote("Sanctions\n  work.", 0, None) == "Sanctions work."
    assert quote("abc Sanctions work def", 4, 18) == "Sanctions work"


def test_long_text_is_cut_after_a_whole_word():
    text = "Sanctions cut revenue from exports by a third in two years"
    cut = quote(text, limit=30)
    assert cut == "Sanctions cut revenue from…" and len(cut) <= 30
    assert text.startswith(cut[:-1])


def test_a_word_longer_than_the_limit_is_cut_inside_it():
    assert quote("Donaudampfschifffahrtsgesellschaft", limit=10) == "Donaudamp…"


def test_urdu_is_cut_at_a_word_and_keeps_its_letters():
    urdu = "پاکستان کو چاہیے کہ وہ پابندیاں برقرار رکھے کیونکہ ان سے برآمدات کم ہوئیں"
    cut = quote(urdu, limit=30)
    assert cut.endswith("…") and len(cut) <= 30
    assert (cut[:-1] + " ") in urdu + " "  # ends after a whole word
