"""Offsets moved between two versions of a text only through unchanged stretches."""

import random

from annotator.text.remap import MIN_ANCHOR_CHARS, OffsetMover


def _lines(rng: random.Random, count: int) -> list[str]:
    words = ["charge", "traffic", "buses", "Northport", "revenue", "cordon", "fell", "the"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + f" {i}."
            for i in range(count)]


def test_spans_inside_kept_lines_move_exactly_when_lines_are_removed_or_put_back():
    rng = random.Random(17)
    for _ in range(50):
        lines = _lines(rng, 30)
        kept = [line for line in lines if rng.random() > 0.3]
        full, cleaned = "\n".join(lines), "\n".join(kept)
        forward, back = OffsetMover(cleaned, full), OffsetMover(full, cleaned)
        position = 0
        for line in kept:
            start = cleaned.index(line, position)
            position = start + len(line)
            a = start + rng.randint(0, len(line) // 2)
            b = rng.randint(a + 1, start + len(line))
            moved = forward.move(a, b)
            assert moved is not None and full[moved[0]:moved[1]] == cleaned[a:b]
            assert back.move(*moved) == (a, b)


def test_a_span_over_a_change_does_not_move():
    end = "It ends here, on the next page, after the footer."
    old = f"The first paragraph goes on and on about the charge. {end}"
    new = f"The first paragraph goes on and on about the\n\nPage 3\n\ncharge. {end}"
    mover = OffsetMover(old, new)
    across = (old.index("about"), old.index("charge") + 6)
    assert mover.move(*across) is None
    # The unchanged part before the break is long enough to anchor a span in it.
    assert old.index("about") >= MIN_ANCHOR_CHARS
    assert mover.move(0, 9) == (0, 9)
    tail = (old.index("It ends"), len(old))
    moved = mover.move(*tail)
    assert moved is not None and new[moved[0]:moved[1]] == end


def test_short_chance_matches_inside_a_changed_line_anchor_nothing():
    mover = OffsetMover("Tariffs rose.", "Quotas rose too.")
    assert mover.move(7, 12) is None  # " rose" is equal, but five characters prove nothing
