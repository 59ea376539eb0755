// A span's edges moved in a passage of text, outside the annotation page (curation).
//
// A .boundary-edit element (templatetags/warrant_text.py) holds the passage as a
// text block; its form holds the span's label and its start and end as number
// fields, which stay the values the form sends. This draws the span in the
// passage, puts drag handles on its ends (handles.js) and moves an end by a word
// with Shift+←/→ (the end) and Alt+Shift+←/→ (the start), as the annotation page
// does, writing the new offsets into the fields.

import { BoundaryHandles } from "./handles.js";
import { moveBoundary, textUnits } from "./textunits.js";
import { TextView } from "./textview.js";

const QUOTE_CHARS = 80;

export class BoundaryEditor {
  constructor(el) {
    this.el = el;
    const form = el.closest("form");
    this.inputs = { start: form.querySelector("[name=start]"), end: form.querySelector("[name=end]") };
    this.view = new TextView(el.querySelector(".boundary-text"), { chips: false });
    this.span = { id: 1, label: Number(el.dataset.label), start: 0, end: 0 };
    this.view.setSpans(new Map([[1, this.span]]));
    this.units = null;
    this.handles = new BoundaryHandles({
      view: this.view,
      wrap: el.querySelector(".boundary-wrap"),
      layer: el.querySelector(".handles"),
      onMove: (which, to) => this.set(which, to),
    });
    for (const input of Object.values(this.inputs)) {
      input.addEventListener("change", () => this.read());
    }
    el.addEventListener("click", (event) => {
      const button = event.target.closest("[data-move]");
      if (!button) return;
      // The buttons' arrows point on the screen: in a right-to-left passage ← is onwards.
      const rtl = this.view.paragraphDirection(this.span.start) === "rtl";
      this.step(button.dataset.move, Number(button.dataset.dir) * (rtl ? -1 : 1));
    });
    el.addEventListener("keydown", (event) => {
      const key = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!key || !event.shiftKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      // In a right-to-left passage ← moves onwards, as it reads.
      const dir = this.view.paragraphDirection(this.span.start) === "rtl" ? -key : key;
      this.step(event.altKey ? "start" : "end", dir);
    });
    this.read();
  }

  /** Take the span from the number fields (kept inside the passage). */
  read() {
    const lo = this.view.base;
    const hi = this.view.length;
    const start = Math.min(Math.max(Number(this.inputs.start.value) || lo, lo), hi - 1);
    const end = Math.min(Math.max(Number(this.inputs.end.value) || hi, start + 1), hi);
    Object.assign(this.span, { start, end });
    this.draw();
  }

  step(which, dir) {
    this.units ||= textUnits(this.view.text, "word");
    const v = this.view;
    const moved = moveBoundary(this.units, [v.toUnits(this.span.start), v.toUnits(this.span.end)], which, dir);
    if (moved) this.set(which, v.toPoints(moved[which === "start" ? 0 : 1]));
  }

  set(which, value) {
    if (which === "start" && value >= this.span.end) return;
    if (which === "end" && value <= this.span.start) return;
    this.span[which] = value;
    this.inputs[which].value = String(value);
    this.draw();
    const text = this.view.slice(this.span.start, this.span.end).replace(/\s+/g, " ");
    const shown = text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS - 1)}…` : text;
    this.el.querySelector(".boundary-now").textContent =
      `${this.span.start}–${this.span.end}: “${shown}”`;
  }

  draw() {
    this.view.renderAll();
    this.handles.show(this.el.offsetParent ? this.span : null);
  }
}

/** Make every .boundary-edit under `root` an editor, once, when it is first shown. */
export function enableBoundaryEditors(root) {
  for (const el of root.querySelectorAll(".boundary-edit:not([data-ready])")) {
    el.dataset.ready = "true";
    const details = el.closest("details");
    let editor = null;
    const start = () => {
      editor ||= new BoundaryEditor(el);
      editor.draw();
    };
    if (!details) start();
    else details.addEventListener("toggle", () => details.open && start());
  }
}
