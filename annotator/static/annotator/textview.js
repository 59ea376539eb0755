// The brief's text drawn from compact span data, and the map between the DOM and offsets.
//
// The server sends the text as plain blocks, <span class="blk" data-s=START>,
// START a code point offset (annotator/web/text_render.py). A TextView draws
// each block as segments, <span class="g" data-s=START data-k="IDS">, one per
// run of text covered by the same spans, with the underline rows and tint the
// server-side renderer gives them (the same markup as the curation and feedback
// pages), and puts a label chip, <span class="tag" data-span=ID>, before the
// first character of each span: the handle for dragging a relation and the
// anchor of its arcs. Chips hold no text of the brief: every offset is
// computed from segments, never from textContent.
//
// Offsets are code points (DESIGN.md, "Offsets"); a TextIndex converts them to
// the UTF-16 units the DOM counts, once per text.

import { TextIndex, codePointsToUtf16, utf16ToCodePoints } from "./offsets.js";
import { charDirection, paragraphDirection } from "./textunits.js";

// Underline rows a segment shows; deeper nesting shares the last row (as on the server).
const MAX_LANES = 4;
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
const escapeHtml = (value) => String(value).replace(/[&<>"]/g, (c) => ESCAPES[c]);

export class TextView {
  /**
   * @param {HTMLElement} root  the element holding the .blk blocks
   * @param {object} options  {labelName(labelId) -> string, chips: true,
   *   chipText(span) -> string, chipTitle(span) -> string, markWidth(span) -> px}
   */
  constructor(root, { labelName, chips = true, chipText = null, chipTitle = null, markWidth = null } = {}) {
    this.root = root;
    this.labelName = labelName || (() => "");
    // What a chip says (its label's name unless told) and its tooltip (none unless told).
    this.chipText = chipText || ((span) => this.labelName(span.label));
    this.chipTitle = chipTitle;
    // An underline's thickness in px (the stylesheet's unless told).
    this.markWidth = markWidth;
    this.chips = chips;
    this.blocks = [...root.querySelectorAll(".blk")].map((el) => ({ el, s: Number(el.dataset.s) }));
    // The text is what the blocks hold before anything is drawn into them: the whole
    // brief, or a passage of it starting at offset `base` (the first block's).
    this.text = this.blocks.map((b) => b.el.textContent).join("");
    this.index = new TextIndex(this.text);
    this.base = this.blocks.length ? this.blocks[0].s : 0;
    this.blocks.forEach((b, i) => {
      b.e = i + 1 < this.blocks.length ? this.blocks[i + 1].s : this.base + this.index.length;
    });
    this.spans = new Map(); // id -> {id, label, start, end} in code points
    this.paragraphs = null; // where each paragraph starts (UTF-16), and their directions
  }

  /** The offset just past the text (the brief's length when it is all here). */
  get length() {
    return this.base + this.index.length;
  }

  /** The UTF-16 offset in `text` of a code point offset of the brief. */
  toUnits(points) {
    return this.index.toUtf16(points - this.base);
  }

  /** The code point offset in the brief of a UTF-16 offset in `text`. */
  toPoints(units) {
    return this.base + this.index.toCodePoints(units);
  }

  /** The text between two code point offsets. */
  slice(start, end) {
    return this.text.slice(this.toUnits(start), this.toUnits(end));
  }

  setSpans(spans) {
    this.spans = spans;
  }

  // ------------------------------------------------------------------ drawing

  /** Draw every block. */
  renderAll() {
    const sorted = [...this.spans.values()].sort((a, b) => a.start - b.start);
    const per = this.blocks.map(() => []);
    let first = 0;
    for (const span of sorted) {
      while (first < this.blocks.length && this.blocks[first].e <= span.start) first++;
      for (let i = first; i < this.blocks.length && this.blocks[i].s < span.end; i++) {
        per[i].push(span);
      }
    }
    this.blocks.forEach((b, i) => this.renderBlock(b, per[i]));
  }

  /** Draw again the blocks that share a character with any of the [start, end) ranges. */
  renderRanges(ranges) {
    const touched = this.blocks.filter((b) => ranges.some(([s, e]) => b.s < Math.max(e, s + 1) && s < b.e));
    if (!touched.length) return;
    const spans = [...this.spans.values()];
    for (const b of touched) this.renderBlock(b, spans.filter((s) => s.start < b.e && s.end > b.s));
  }

  renderBlock(block, spans) {
    const { s: b0, e: b1 } = block;
    const inside = spans
      .filter((s) => s.start < b1 && s.end > b0)
      .sort((a, b) => a.start - b.start || b.end - a.end || a.id - b.id);
    // Lanes: greedy interval colouring, as selectors.annotations.segments does.
    const laneOf = new Map();
    const laneEnds = [];
    for (const span of inside) {
      const start = Math.max(span.start, b0);
      let lane = laneEnds.findIndex((end) => end <= start);
      if (lane < 0) {
        lane = laneEnds.length;
        laneEnds.push(span.end);
      } else {
        laneEnds[lane] = span.end;
      }
      laneOf.set(span.id, lane);
    }
    const cuts = new Set([b0, b1]);
    for (const span of inside) {
      cuts.add(Math.max(span.start, b0));
      cuts.add(Math.min(span.end, b1));
    }
    const points = [...cuts].sort((a, b) => a - b);
    const startsAt = new Map();
    for (const span of inside) {
      if (span.start >= b0) {
        if (!startsAt.has(span.start)) startsAt.set(span.start, []);
        startsAt.get(span.start).push(span);
      }
    }
    const out = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i];
      const b = points[i + 1];
      if (this.chips) {
        for (const span of startsAt.get(a) || []) {
          // A chip in a right-to-left paragraph says so: its arcs leave it leftwards.
          const rtl = this.paragraphDirection(span.start) === "rtl" ? ' data-dir="rtl"' : "";
          const title = this.chipTitle ? ` title="${escapeHtml(this.chipTitle(span))}"` : "";
          out.push(
            `<span class="tag c${span.label}" data-span="${span.id}"${rtl}${title}><i class="strut"></i>` +
              `${escapeHtml(this.chipText(span))}</span>`,
          );
        }
      }
      const chunk = escapeHtml(this.slice(a, b));
      const active = inside.filter((s) => s.start <= a && s.end >= b);
      if (!active.length) {
        out.push(`<span class="g" data-s="${a}">${chunk}</span>`);
        continue;
      }
      active.sort((x, y) => laneOf.get(x.id) - laneOf.get(y.id));
      const ids = active.map((s) => s.id).join(" ");
      const inner = active[active.length - 1];
      const style = active
        .map((s) => {
          const lane = Math.min(laneOf.get(s.id), MAX_LANES - 1);
          const width = this.markWidth ? `;--w${lane}:${this.markWidth(s)}px` : "";
          return `--u${lane}:var(--L${s.label})${width}`;
        })
        .join(";");
      const depth = Math.min(laneOf.get(inner.id) + 1, MAX_LANES);
      out.push(
        `<span class="g n${depth}" data-s="${a}" data-k="${ids}" ` +
          `style="${style};--t:var(--L${inner.label})">${chunk}</span>`,
      );
    }
    block.el.innerHTML = out.join("");
  }

  // ------------------------------------------------------------------ direction

  /** "rtl" or "ltr": the direction of the paragraph at a code point offset. Each
   *  paragraph's is found once (a brief of one long paragraph and 1,000 chips must not
   *  scan back to its start 1,000 times). */
  paragraphDirection(points) {
    if (!this.paragraphs) {
      this.paragraphs = { starts: [0], dirs: new Map() };
      for (let i = this.text.indexOf("\n"); i >= 0; i = this.text.indexOf("\n", i + 1)) {
        this.paragraphs.starts.push(i + 1);
      }
    }
    const { starts, dirs } = this.paragraphs;
    const units = this.toUnits(points);
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= units) lo = mid;
      else hi = mid - 1;
    }
    if (!dirs.has(lo)) dirs.set(lo, paragraphDirection(this.text, starts[lo]));
    return dirs.get(lo);
  }

  /** "rtl" or "ltr": the direction the character at a code point offset runs in. */
  charDirection(points) {
    return charDirection(this.text, this.toUnits(points));
  }

  /**
   * Where a span's edges are on screen: {start: {x, top, height}, end: {...}} in
   * viewport coordinates. The start is the leading edge of its first character (the
   * right edge in a right-to-left run), the end the trailing edge of its last.
   */
  edges(start, end) {
    const at = (points, side) => {
      const from = side === "start" ? points : this.previous(points);
      const rects = [...this.range(from, side === "start" ? this.next(points) : points).getClientRects()]
        .filter((r) => r.width > 0 || r.height > 0);
      if (!rects.length) return null;
      const r = rects[side === "start" ? 0 : rects.length - 1];
      const rtl = this.charDirection(from) === "rtl";
      const x = (side === "start") === rtl ? r.right : r.left;
      return { x, top: r.top, height: r.height };
    };
    return { start: at(start, "start"), end: at(end, "end") };
  }

  /** The code point offset one character after (before) `points`, within the text. */
  next(points) {
    return Math.min(points + 1, this.length);
  }

  previous(points) {
    return Math.max(points - 1, this.base);
  }

  // ------------------------------------------------------------------ DOM <-> offsets

  blockAt(points) {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blocks[mid].s <= points) lo = mid;
      else hi = mid - 1;
    }
    return this.blocks[lo];
  }

  /** The code point offset of a DOM boundary point inside the text (null outside it). */
  offsetOf(node, offset) {
    if (!node || !this.root.contains(node)) return null;
    if (node.nodeType === Node.TEXT_NODE) {
      const el = node.parentElement;
      const chip = el.closest(".tag");
      if (chip) return this.chipStart(chip);
      if (el.matches(".g, .blk")) return Number(el.dataset.s) + utf16ToCodePoints(node.data, offset);
      return this.offsetOf(el, 0);
    }
    const child = node.childNodes[offset];
    if (!child) return this.endOf(node);
    if (child.nodeType === Node.TEXT_NODE) return this.offsetOf(child, 0);
    if (child.matches(".g, .blk")) return Number(child.dataset.s);
    if (child.matches(".tag")) return this.chipStart(child);
    const inner = child.querySelector(".g, .blk");
    return inner ? Number(inner.dataset.s) : this.endOf(child);
  }

  chipStart(chip) {
    return this.spans.get(Number(chip.dataset.span))?.start ?? 0;
  }

  // The offset just after an element's text.
  endOf(el) {
    if (el === this.root || el.contains(this.root)) return this.length;
    const block = el.closest(".blk");
    if (!block) return this.length;
    if (el.matches(".g")) return Number(el.dataset.s) + utf16ToCodePoints(el.textContent, el.textContent.length);
    const b = this.blocks.find((x) => x.el === block);
    return b ? b.e : this.length;
  }

  /** The DOM point [text node, UTF-16 offset] at a code point offset. */
  pointAt(points) {
    const block = this.blockAt(points);
    const segs = block.el.querySelectorAll(".g");
    if (!segs.length) {
      const node = block.el.firstChild;
      return [node, this.toUnits(points) - this.toUnits(block.s)];
    }
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (Number(segs[mid].dataset.s) <= points) lo = mid;
      else hi = mid - 1;
    }
    const seg = segs[lo];
    const node = seg.firstChild;
    return [node, codePointsToUtf16(node.data, points - Number(seg.dataset.s))];
  }

  /** A DOM Range over [start, end) code points. */
  range(start, end) {
    const range = document.createRange();
    range.setStart(...this.pointAt(start));
    range.setEnd(...this.pointAt(end));
    return range;
  }

  /** The current text selection inside the text, in code points, or null. */
  selection() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!range.intersectsNode(this.root)) return null;
    const inside = (node) => this.root.contains(node);
    const start = inside(range.startContainer) ? this.offsetOf(range.startContainer, range.startOffset) : 0;
    const end = inside(range.endContainer) ? this.offsetOf(range.endContainer, range.endOffset) : this.length;
    return start !== null && end !== null && end > start ? { start, end } : null;
  }

  /** Show [start, end) as the browser's text selection. */
  select(start, end) {
    const [a, ao] = this.pointAt(start);
    const [b, bo] = this.pointAt(end);
    window.getSelection().setBaseAndExtent(a, ao, b, bo);
  }

  // ------------------------------------------------------------------ spans in the DOM

  segmentsOf(id) {
    return this.root.querySelectorAll(`.g[data-k~="${id}"]`);
  }

  chipOf(id) {
    return this.root.querySelector(`.tag[data-span="${id}"]`);
  }

  /** The ids of the spans at a DOM element (a segment or a chip), innermost last. */
  spansAt(el) {
    const chip = el?.closest?.(".tag");
    if (chip && this.root.contains(chip)) return [Number(chip.dataset.span)];
    const seg = el?.closest?.(".g");
    if (!seg || !this.root.contains(seg) || !seg.dataset.k) return [];
    return seg.dataset.k.split(" ").map(Number);
  }
}
