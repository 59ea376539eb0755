// Drag handles on both ends of the selected span, to move its boundaries with the mouse.
//
// The handles sit over the text (absolutely placed in `wrap`), at the leading
// edge of the span's first character and the trailing edge of its last (left
// and right in English, right and left in Urdu: TextView.edges). Dragging one
// previews the new range (a CSS highlight) and, on release, calls
// `onMove("start" | "end", offset)` with the code point offset under the
// pointer. The keyboard does the same with Shift+arrows (see annotate.js).

const PREVIEW = "boundary-preview";

function caretAt(x, y) {
  if (document.caretPositionFromPoint) {
    const p = document.caretPositionFromPoint(x, y);
    return p ? [p.offsetNode, p.offset] : null;
  }
  const r = document.caretRangeFromPoint?.(x, y);
  return r ? [r.startContainer, r.startOffset] : null;
}

export class BoundaryHandles {
  constructor({ view, wrap, layer, onMove }) {
    this.view = view;
    this.wrap = wrap;
    this.layer = layer;
    this.onMove = onMove;
    this.span = null;
    this.drag = null;
    this.handles = {};
    for (const which of ["start", "end"]) {
      const el = document.createElement("span");
      el.className = `handle handle-${which}`;
      el.dataset.which = which;
      el.title = which === "start" ? "Drag to move the span's start" : "Drag to move the span's end";
      el.hidden = true;
      el.addEventListener("pointerdown", (event) => this.press(event, which));
      el.addEventListener("pointermove", (event) => this.move(event));
      el.addEventListener("pointerup", (event) => this.release(event));
      el.addEventListener("pointercancel", () => this.stop());
      layer.append(el);
      this.handles[which] = el;
    }
  }

  /** Show the handles on `span` ({id, start, end} in code points), or hide them (null). */
  show(span) {
    this.span = span;
    this.place();
  }

  /** Put the handles where the span is now (after the text or the arcs moved). */
  place() {
    const span = this.drag ? { ...this.span, ...this.drag.range } : this.span;
    for (const el of Object.values(this.handles)) el.hidden = !span;
    if (!span) return;
    const edges = this.view.edges(span.start, span.end);
    const base = this.wrap.getBoundingClientRect();
    for (const which of ["start", "end"]) {
      const edge = edges[which];
      if (edge) this.put(this.handles[which], edge.x - base.left, edge.top - base.top, edge.height);
    }
  }

  put(el, x, y, h) {
    el.style.left = `${x}px`;
    el.style.top = `${y}px`;
    el.style.height = `${h}px`;
  }

  press(event, which) {
    if (!this.span || event.button !== 0) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    this.drag = { which, range: { start: this.span.start, end: this.span.end } };
    this.layer.classList.add("dragging");
  }

  move(event) {
    if (!this.drag) return;
    const point = caretAt(event.clientX, event.clientY);
    const offset = point ? this.view.offsetOf(...point) : null;
    if (offset == null) return;
    const range = { ...this.drag.range };
    if (this.drag.which === "start") range.start = Math.min(offset, this.span.end - 1);
    else range.end = Math.max(offset, this.span.start + 1);
    this.drag.range = range;
    this.preview(range);
    this.place();
  }

  release() {
    if (!this.drag) return;
    const { which, range } = this.drag;
    this.stop();
    const value = range[which];
    if (value !== this.span[which]) this.onMove(which, value);
  }

  stop() {
    this.drag = null;
    this.layer.classList.remove("dragging");
    this.preview(null);
    this.place();
  }

  preview(range) {
    if (!window.CSS?.highlights) return;
    if (!range) CSS.highlights.delete(PREVIEW);
    else CSS.highlights.set(PREVIEW, new Highlight(this.view.range(range.start, range.end)));
  }
}
