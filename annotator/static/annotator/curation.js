// The curation page: candidates in the text, and drag handles and keys on the edges
// of a candidate being edited in its table row.
//
// "Candidates in the text" draws this page's candidates (and the spans of its relation
// candidates) into the passage with a TextView: each chip says the label, how many
// annotators marked it and, with ✓, that it is in the gold; its title names them.
// Relation candidates are arcs (arcs.js). The curator picks a candidate by mouse or
// with j / k, accepts (a) or rejects (x) it, and moves its edges by the keys or the
// handles as on the annotation page (handles.js), then accepts it edited. Every
// decision goes through the candidate's own form in the table (htmx), so the page
// works, and is tested, the same way with or without this script.

import { drawArcs } from "./arcs.js";
import { enableBoundaryEditors } from "./boundary.js";
import { BoundaryHandles } from "./handles.js";
import { moveBoundary, textUnits } from "./textunits.js";
import { TextView } from "./textview.js";

const QUOTE_CHARS = 60;
// An underline's thickness follows the votes: 2 px for one annotator, 6 px for all of them,
// evenly between (1 px: added by the curator, no annotator's). The lanes of the in-text view
// sit 8 px apart in annotate.css, so the thickest never covers the next.
const MARK_PX = { one: 2, all: 6 };

function markWidth(votes, voters) {
  if (votes <= 0) return 1;
  if (voters <= 1) return MARK_PX.all;
  const share = (Math.min(votes, voters) - 1) / (voters - 1);
  return Math.round(MARK_PX.one + share * (MARK_PX.all - MARK_PX.one));
}

function quote(text) {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > QUOTE_CHARS ? `${flat.slice(0, QUOTE_CHARS - 1)}…` : flat;
}

class CandidatesInText {
  constructor(section, data) {
    this.section = section;
    this.data = data;
    this.editable = section.dataset.editable === "true";
    this.root = section.querySelector("#candidate-text");
    this.wrap = section.querySelector("#in-text-wrap");
    this.svg = section.querySelector("#in-text-links");
    this.now = section.querySelector("#in-text-now");
    this.buttons = {
      accept: section.querySelector("#in-text-accept"),
      reject: section.querySelector("#in-text-reject"),
    };
    this.byId = new Map(data.spans.map((s) => [s.id, s]));
    this.order = [...data.spans].sort((a, b) => a.start - b.start || b.end - a.end);
    this.selected = null;
    this.edit = null; // {start, end} of the selected candidate, moved by keys or handles
    this.units = null;
    const voters = data.voters;
    this.view = new TextView(this.root, {
      labelName: (label) => data.labels[label] ?? "?",
      chipText: (span) => `${span.gold ? "✓ " : ""}${data.labels[span.label] ?? "?"} ${span.votes}/${voters}`,
      chipTitle: (span) =>
        `${span.who.length ? `Marked by ${span.who.join(", ")}` : "Added by the curator"}` +
        ` (${span.votes} of ${voters})${span.gold ? "; in the gold" : "; not in the gold"}`,
      markWidth: (span) => markWidth(span.votes, voters),
    });
    this.handles = this.editable
      ? new BoundaryHandles({
          view: this.view,
          wrap: this.wrap,
          layer: section.querySelector("#in-text-handles"),
          onMove: (which, to) => this.move(which, { to }),
        })
      : null;
    this.draw();
    this.root.addEventListener("click", (event) => {
      const ids = this.view.spansAt(event.target);
      if (ids.length) this.choose(ids[ids.length - 1]);
    });
    this.root.addEventListener("keydown", (event) => this.key(event));
    this.buttons.accept?.addEventListener("click", () => this.accept());
    this.buttons.reject?.addEventListener("click", () => this.reject());
    this.resize = () => this.drawArcs();
    window.addEventListener("resize", this.resize);
  }

  destroy() {
    window.removeEventListener("resize", this.resize);
  }

  /** The spans as drawn: the selected one with its edited edges. */
  draw() {
    const spans = new Map();
    for (const s of this.data.spans) {
      const moved = s.id === this.selected && this.edit ? { ...s, ...this.edit } : s;
      spans.set(s.id, { ...moved });
    }
    this.view.setSpans(spans);
    this.view.renderAll();
    for (const chip of this.root.querySelectorAll(".tag")) {
      const span = this.byId.get(Number(chip.dataset.span));
      chip.classList.toggle("in-gold", !!span?.gold);
      chip.classList.toggle("sel", span?.id === this.selected);
    }
    this.drawArcs();
    this.handles?.show(this.selected ? this.view.spans.get(this.selected) : null);
  }

  drawArcs() {
    drawArcs({
      svg: this.svg,
      wrap: this.wrap,
      textRoot: this.root,
      chipOf: (id) => this.view.chipOf(id),
      relations: this.data.relations,
    });
    this.handles?.place();
  }

  row(span) {
    return span && span.row !== null ? document.getElementById(`cand-row-${span.row}`) : null;
  }

  choose(id) {
    const previous = this.row(this.byId.get(this.selected));
    previous?.classList.remove("chosen");
    this.selected = id;
    this.edit = null;
    this.draw();
    const span = this.byId.get(id);
    this.row(span)?.classList.add("chosen");
    this.say(span);
  }

  say(span, note = "") {
    const range = this.edit || span;
    const label = this.data.labels[span.label];
    const state = span.gold ? "in the gold" : "not in the gold";
    const edited = this.edit ? ", edited" : "";
    this.now.textContent =
      `${label} “${quote(this.view.slice(range.start, range.end))}” ${range.start}–${range.end}` +
      ` (${span.votes} of ${this.data.voters}, ${state}${edited}).${note ? ` ${note}` : ""}`;
    if (this.buttons.accept) {
      this.buttons.accept.disabled = span.gold && !this.edit;
      this.buttons.reject.disabled = !span.gold;
    }
  }

  step(dir) {
    if (!this.order.length) return;
    let i = this.order.findIndex((s) => s.id === this.selected);
    i = i < 0 ? (dir > 0 ? 0 : this.order.length - 1) : (i + dir + this.order.length) % this.order.length;
    this.choose(this.order[i].id);
    this.view.chipOf(this.selected)?.scrollIntoView({ block: "nearest" });
  }

  key(event) {
    if (event.ctrlKey || event.metaKey) return;
    const span = this.byId.get(this.selected);
    const arrow = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (arrow && event.shiftKey && span && this.editable) {
      event.preventDefault();
      // In a right-to-left paragraph ← reads onwards.
      const dir = this.view.paragraphDirection(span.start) === "rtl" ? -arrow : arrow;
      return this.move(event.altKey ? "start" : "end", { dir });
    }
    if (event.altKey || event.shiftKey) return;
    const actions = {
      j: () => this.step(1),
      k: () => this.step(-1),
      a: () => this.accept(),
      x: () => this.reject(),
      Delete: () => this.reject(),
      Escape: () => span && this.choose(span.id),
    };
    if (!(event.key in actions)) return;
    event.preventDefault();
    this.refocus = true; // the body htmx brings back gets the keys again
    actions[event.key]();
  }

  move(which, { dir = 0, to = null }) {
    const span = this.byId.get(this.selected);
    if (!span) return;
    if (span.gold) {
      this.say(span, "It is in the gold as it is: reject it first, then accept it with other edges.");
      return;
    }
    const range = this.edit || { start: span.start, end: span.end };
    let next = { ...range };
    if (to !== null) {
      next[which] = to;
    } else {
      this.units ||= textUnits(this.view.text, "word");
      const v = this.view;
      const moved = moveBoundary(this.units, [v.toUnits(range.start), v.toUnits(range.end)], which, dir);
      if (!moved) return this.say(span, `The ${which} cannot move further that way.`);
      next = { start: v.toPoints(moved[0]), end: v.toPoints(moved[1]) };
    }
    if (next.end <= next.start) return;
    this.edit = next.start === span.start && next.end === span.end ? null : next;
    this.draw();
    this.say(span, this.edit ? "Press a to accept it so." : "");
  }

  accept() {
    const span = this.byId.get(this.selected);
    if (!span || !this.editable) return;
    const row = this.row(span);
    if (!row) return this.say(span, "Its row is on another page of candidates: accept it there.");
    if (this.edit) {
      const form = row.querySelector(".edit-candidate form");
      if (!form) return this.say(span, "This candidate cannot be edited here.");
      form.querySelector("[name=start]").value = String(this.edit.start);
      form.querySelector("[name=end]").value = String(this.edit.end);
      return form.requestSubmit();
    }
    const button = row.querySelector("button.accept");
    if (!button) return this.say(span, "It is in the gold already.");
    button.click();
  }

  reject() {
    const span = this.byId.get(this.selected);
    if (!span || !this.editable) return;
    const row = this.row(span);
    if (!row) return this.say(span, "Its row is on another page of candidates: reject it there.");
    const button = row.querySelector("button.reject");
    if (!button) return this.say(span, "It is not in the gold: there is nothing to reject.");
    button.click();
  }
}

let current = null;
// After a decision the body comes back: choose the candidate that was chosen, if it
// is still on the page (by its edges and label), so that a and x can go on.
function start() {
  const section = document.getElementById("in-text");
  const dataEl = document.getElementById("curation-data");
  const before = current ? current.byId.get(current.selected) : null;
  const focused = current?.refocus || (current && document.activeElement === current.root);
  current?.destroy();
  current = null;
  if (!section || !dataEl) return;
  const data = JSON.parse(dataEl.textContent);
  if (!data) return;
  current = new CandidatesInText(section, data);
  section.dataset.ready = "true";
  if (before) {
    const again =
      data.spans.find((s) => s.start === before.start && s.end === before.end && s.label === before.label);
    if (again) current.choose(again.id);
  }
  if (focused) current.root.focus();
}

// A decision's answer replaces the candidates: keys the curator presses between the
// request and the new body's settling would reach the old text or none, so they are
// held and replayed in order on the new one (as the annotation page queues its keys).
let busy = false;
let requests = 0;
const held = [];

function release() {
  busy = false;
  while (held.length && !busy && current) current.key({ ...held.shift(), preventDefault() {} });
  if (!current) held.length = 0;
}

document.addEventListener(
  "keydown",
  (event) => {
    if (!busy || event.ctrlKey || event.metaKey || event.key === "Tab") return;
    const inText = event.target.closest?.("#candidate-text");
    if (!inText && !(event.target === document.body && current?.refocus)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    const { key, altKey, shiftKey } = event;
    held.push({ key, altKey, shiftKey, ctrlKey: false, metaKey: false });
  },
  true,
);
document.body.addEventListener("htmx:beforeRequest", () => {
  busy = true;
  requests += 1;
});
document.body.addEventListener("htmx:afterRequest", (event) => {
  // A refused or failed request swaps nothing: let the held keys go at once. A
  // successful one lets them go once its answer has settled (below), or after 2 s if
  // it swaps nothing.
  if (!event.detail.successful) release();
  else {
    const request = requests;
    setTimeout(() => busy && request === requests && release(), 2000);
  }
});

enableBoundaryEditors(document);
start();
document.body.addEventListener("htmx:afterSettle", () => {
  enableBoundaryEditors(document);
  start();
  release();
});
