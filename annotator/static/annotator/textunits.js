// Words, sentences and paragraphs of a text, for moving a selection or a span's
// boundary by the keyboard (UTF-16 offsets, as the browser counts).
//
// A word is what snapping completes (annotator/text/tokens.py): letters,
// digits and marks, with apostrophes or hyphens between them ("don't",
// "COVID-19"). A run of other non-space characters (", (" or ").") is a unit
// of its own, so that a keyboard user decides whether punctuation goes into a
// span, one key press at a time, as a mouse user does.

//
// A zero-width non-joiner or joiner (U+200C, U+200D) between two letters is
// inside the word too: Urdu and Persian write one word in two joined pieces
// with it ("ٹیکس‌دہندگان"), as tokens.py's WORD_JOINERS says.
const UNIT =
  /[\p{L}\p{N}\p{M}]+(?:['\u2019\u02bc\-\u2010\u2011\u200c\u200d][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]+/gu;
// A sentence ends after . ! ? or … (Urdu's full stop ۔ and the Arabic question
// mark ؟ too; and closing quotes or brackets) before a space, or at a line end.
const SENTENCE_END = /[.!?\u2026\u06d4\u061f]+['"\u2019\u201d)\]]*(?=\s|$)|(?=\n)/gu;

// Letters of the scripts written right to left (UAX #9 bidi classes R and AL):
// Hebrew, Arabic (Urdu's and Persian's letters are in it), Syriac, Thaana, N'Ko,
// Samaritan, Mandaic, Adlam.
const RTL_LETTER =
  /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}]/u;
const LETTER = /\p{L}/u;

/**
 * The direction of the paragraph holding UTF-16 offset `pos`: that of its first
 * letter, as `dir="auto"` and `unicode-bidi: plaintext` find it (UAX #9, rules
 * P2 and P3, https://www.unicode.org/reports/tr9/#P2): "rtl" or "ltr" (no letter).
 */
export function paragraphDirection(text, pos) {
  const start = pos > 0 ? text.lastIndexOf("\n", pos - 1) + 1 : 0;
  for (let i = start; i < text.length && text[i] !== "\n"; i++) {
    const ch = text[i];
    if (LETTER.test(ch)) return RTL_LETTER.test(ch) ? "rtl" : "ltr";
  }
  return "ltr";
}

/** The direction the character at UTF-16 offset `pos` runs in: its own if it is a
 * letter, else its paragraph's. */
export function charDirection(text, pos) {
  const ch = text[pos] ?? "";
  if (RTL_LETTER.test(ch)) return "rtl";
  if (LETTER.test(ch)) return "ltr";
  return paragraphDirection(text, pos);
}

function runs(text, pattern) {
  return [...text.matchAll(pattern)].map((m) => [m.index, m.index + m[0].length]);
}

// Cut text at the given end positions; each piece trimmed of whitespace, empty ones dropped.
function pieces(text, ends) {
  const out = [];
  let from = 0;
  for (const end of [...ends, text.length]) {
    let a = from;
    let b = end;
    while (a < b && /\s/u.test(text[a])) a++;
    while (b > a && /\s/u.test(text[b - 1])) b--;
    if (b > a) out.push([a, b]);
    from = Math.max(from, end);
  }
  return out;
}

/** The units of `text` of one kind ("word", "sentence" or "paragraph"), as [start, end) pairs. */
export function textUnits(text, kind) {
  if (kind === "word") return runs(text, UNIT);
  if (kind === "sentence") return pieces(text, runs(text, SENTENCE_END).map(([, e]) => e));
  if (kind === "paragraph") return pieces(text, runs(text, /\n/g).map(([s]) => s));
  throw new Error(`unknown unit ${kind}`);
}

// Units never overlap and come in order, so their starts and their ends both grow:
// each of these is a binary search. They return a position, or null when there is none.
function search(units, side, test) {
  // the first index whose units[i][side] passes `test` (test is monotone: false… true…)
  let lo = 0;
  let hi = units.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (test(units[mid][side])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function firstStartAbove(units, pos) {
  const i = search(units, 0, (v) => v > pos);
  return i < units.length ? units[i][0] : null;
}

export function firstEndAbove(units, pos) {
  const i = search(units, 1, (v) => v > pos);
  return i < units.length ? units[i][1] : null;
}

export function lastStartBelow(units, pos) {
  const i = search(units, 0, (v) => v >= pos) - 1;
  return i >= 0 ? units[i][0] : null;
}

export function lastEndBelow(units, pos) {
  const i = search(units, 1, (v) => v >= pos) - 1;
  return i >= 0 ? units[i][1] : null;
}

/** The first unit that starts at or after `pos` (null if none). */
export function unitFrom(units, pos) {
  const i = search(units, 0, (v) => v >= pos);
  return i < units.length ? units[i] : null;
}

/** The last unit that ends at or before `pos` (null if none). */
export function unitUntil(units, pos) {
  const i = search(units, 1, (v) => v > pos) - 1;
  return i >= 0 ? units[i] : null;
}

/** The unit that contains `pos`, or the next one after it (null at the end). */
export function unitAt(units, pos) {
  const i = search(units, 1, (v) => v > pos);
  return i < units.length ? units[i] : null;
}

/** The last unit that starts before `pos` (null if none). */
export function unitBefore(units, pos) {
  const i = search(units, 0, (v) => v >= pos) - 1;
  return i >= 0 ? units[i] : null;
}

/**
 * Move the focus of a selection {anchor, focus} one unit in `dir` (+1 / -1), as a text
 * editor's word selection does: right to the next unit end, left to the previous unit
 * start, across the anchor if need be; the anchor stays.
 */
export function extendSelection(units, { anchor, focus }, dir) {
  const next = dir > 0 ? firstEndAbove(units, focus) : lastStartBelow(units, focus);
  return { anchor, focus: next ?? focus };
}

/**
 * Move one boundary of a span [start, end) by a unit: `which` is "start" or "end",
 * `dir` +1 or -1. The span never becomes empty; null when the boundary cannot move.
 */
export function moveBoundary(units, [start, end], which, dir) {
  if (which === "end") {
    const e = dir > 0 ? firstEndAbove(units, end) : lastEndBelow(units, end);
    return e === null || e <= start ? null : [start, e];
  }
  const s = dir > 0 ? firstStartAbove(units, start) : lastStartBelow(units, start);
  return s === null || s >= end ? null : [s, end];
}
