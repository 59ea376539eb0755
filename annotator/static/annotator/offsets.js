// Offsets at the browser boundary (DESIGN.md, "Offsets").
//
// The server counts Unicode code points; a browser's strings, Selection and
// Range count UTF-16 code units, in which a character outside the Basic
// Multilingual Plane (emoji, "𝔘") takes two units, a surrogate pair. These
// two functions are the only place where the two counts meet in the browser;
// annotator/text/utf16.py is their server-side twin.

function isHigh(unit) { return unit >= 0xd800 && unit <= 0xdbff; }
function isLow(unit) { return unit >= 0xdc00 && unit <= 0xdfff; }

function check(text, offset, length) {
  if (typeof text !== "string") throw new TypeError("text must be a string");
  if (!Number.isInteger(offset) || offset < 0 || offset > length) {
    throw new RangeError(`offset ${offset} is outside the text (0..${length})`);
  }
}

/**
 * The code point offset of UTF-16 offset `offset` in `text`.
 * An offset that falls between the two halves of a surrogate pair (no
 * browser selection does this) counts as the position before the pair.
 */
export function utf16ToCodePoints(text, offset) {
  check(text, offset, text.length);
  let points = 0;
  for (let i = 0; i < offset; i++) {
    if (isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
      if (i + 1 === offset) return points;
      i++;
    }
    points++;
  }
  return points;
}

/** The UTF-16 offset of code point offset `points` in `text`. */
export function codePointsToUtf16(text, points) {
  let units = 0;
  let seen = 0;
  while (seen < points) {
    if (units >= text.length) throw new RangeError(`offset ${points} is outside the text`);
    const pair = isHigh(text.charCodeAt(units)) && isLow(text.charCodeAt(units + 1));
    units += pair ? 2 : 1;
    seen++;
  }
  return units;
}

/**
 * Both counts for one whole text, fast: the positions of its non-BMP characters
 * are found once, and each conversion is a binary search among them (a text
 * with none converts by identity).
 */
export class TextIndex {
  constructor(text) {
    this.text = text;
    this.units = []; // UTF-16 offset of each surrogate pair
    for (let i = 0; i < text.length; i++) {
      if (isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
        this.units.push(i);
        i++;
      }
    }
    this.points = this.units.map((u, k) => u - k); // the same characters' code point offsets
    this.length = text.length - this.units.length; // in code points
  }

  /** The UTF-16 offset of code point offset `points`. */
  toUtf16(points) {
    if (!Number.isInteger(points) || points < 0 || points > this.length) {
      throw new RangeError(`offset ${points} is outside the text (0..${this.length})`);
    }
    return points + countBelow(this.points, points);
  }

  /** The code point offset of UTF-16 offset `units` (inside a pair: before it). */
  toCodePoints(units) {
    if (!Number.isInteger(units) || units < 0 || units > this.text.length) {
      throw new RangeError(`offset ${units} is outside the text (0..${this.text.length})`);
    }
    const k = countBelow(this.units, units);
    if (k > 0 && this.units[k - 1] + 1 === units) return units - 1 - (k - 1);
    return units - k;
  }
}

// How many entries of the sorted array `sorted` are below `value`.
function countBelow(sorted, value) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
