// The annotation page: text selection → spans, hotkeys, relations, arcs, search.
//
// The server sends the brief as plain blocks and the set as compact data; this
// module keeps that data, draws it (textview.js: segments and chips; arcs.js:
// relations), turns selections into code point offsets, and posts every edit
// to the page's htmx endpoints. One save is one request: its answer carries
// what changed, from which the text, the arcs and the panels (panels.js) are
// drawn at once. Every write sends the version of the set this page last saw; a
// refusal is shown in the alert region, never swallowed. Writes go out one at a
// time, so that fast typing cannot race its own versions, and keys pressed while
// one is on its way wait for it, then run in order.
//
// The pieces other pages reuse live in their own modules: textview.js (drawing
// and offsets), arcs.js, textunits.js (words, sentences, paragraphs),
// linkdrag.js, handles.js and find.js.

import { drawArcs } from "./arcs.js";
import { FindBar } from "./find.js";
import { BoundaryHandles } from "./handles.js";
import { enableLinkDrag } from "./linkdrag.js";
import { renderPanels } from "./panels.js";
import {
  extendSelection,
  moveBoundary,
  paragraphDirection,
  textUnits,
  unitAt,
  unitBefore,
  unitFrom,
  unitUntil,
} from "./textunits.js";
import { TextView } from "./textview.js";

const EDITOR_DELAY_MS = 120;
// How long keys wait for a span editor that an attribute key asked for.
const EDITOR_WAIT_MS = 5000;
// Keys that wait for a write on its way (the rest, Tab or Space, keep the browser's meaning).
const HELD_KEYS = new Set([
  "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "Enter", "Escape",
  "Delete", "Backspace",
]);
const QUOTE_CHARS = 80;

const root = document.getElementById("annotate-root");
if (root) start(root);

function start(root) {
  const $ = (selector) => document.querySelector(selector);
  const docText = $("#doc-text");
  const wrap = $("#text-wrap");
  const schema = JSON.parse($("#schema-data").textContent);
  const urls = schema.urls;
  const labels = new Map(schema.labels.map((l) => [l.id, l]));
  const labelByKey = new Map(schema.labels.filter((l) => l.hotkey).map((l) => [l.hotkey, l]));
  const typeByKey = new Map(schema.types.map((t) => [t.key, t]));
  const types = new Map(schema.types.map((t) => [t.id, t]));
  const alerts = $("#alerts");
  const statusLine = $("#status-line");
  const menu = $("#relation-menu");
  const dropMenu = $("#drop-menu");
  const snapToggle = $("#snap-toggle");
  const arcsToggle = $("#arcs-all");
  const view = new TextView(docText, { labelName: (id) => labels.get(id)?.name ?? "?" });

  const state = {
    version: Number(root.dataset.version),
    editable: root.dataset.editable === "true",
    setParam: root.dataset.own === "true" ? "" : `?set=${root.dataset.set}`,
    spans: new Map(),
    relations: new Map(),
    order: [],
    selected: null,
    link: null, // keyboard linking: {source, target, step: "target" | "type"}
    drop: null, // a relation dragged with the mouse: {source, target}
    moving: null, // boundary moves on their way: {id, range: [start, end], pending}
    lastRange: null, // the last text selection in the brief, in code points
    kbd: null, // keyboard selection {anchor, focus} in UTF-16 units of view.text
    units: {},
    queue: Promise.resolve(),
    holds: 0, // writes (and editor loads a key waits for) on their way
    heldKeys: [], // keys pressed meanwhile, run in order once they are all back
    editorTimer: 0,
    raf: 0,
  };

  // ------------------------------------------------------------------ data

  function setData(data) {
    state.spans = new Map(data.spans.map(([id, label, s, e]) => [id, { id, label, start: s, end: e }]));
    state.relations = new Map(
      data.relations.map(([id, source, target, type]) => [id, { id, source, target, type }]),
    );
    view.setSpans(state.spans);
    sortSpans();
  }

  function sortSpans() {
    state.order = [...state.spans.values()]
      .sort((a, b) => a.start - b.start || b.end - a.end || a.id - b.id)
      .map((s) => s.id);
  }

  /** Apply a save's change to the data; redraw the blocks it touched. */
  function applyChange(change) {
    const ranges = [];
    const dropSpan = (id) => {
      const old = state.spans.get(id);
      if (!old) return;
      ranges.push([old.start, old.end]);
      state.spans.delete(id);
      for (const [rid, r] of state.relations) if (r.source === id || r.target === id) state.relations.delete(rid);
    };
    for (const id of change.removed_spans) dropSpan(id);
    for (const [id, label, s, e] of change.spans) {
      const old = state.spans.get(id);
      if (old) ranges.push([old.start, old.end]);
      state.spans.set(id, { id, label, start: s, end: e });
      ranges.push([s, e]);
    }
    for (const id of change.removed_relations) state.relations.delete(id);
    for (const [id, source, target, type] of change.relations) state.relations.set(id, { id, source, target, type });
    sortSpans();
    view.renderRanges(ranges);
  }

  const spanOf = (id) => state.spans.get(id);
  const labelName = (id) => labels.get(spanOf(id)?.label)?.name ?? "span";
  // Long quotes keep both ends: where a selection stops matters as much as where it starts.
  const quote = (text) => {
    const flat = text.replace(/\s+/g, " ").trim();
    if (flat.length <= QUOTE_CHARS) return flat;
    const half = Math.floor((QUOTE_CHARS - 3) / 2);
    return `${flat.slice(0, half)} … ${flat.slice(-half)}`;
  };
  const spanText = (id) => {
    const span = spanOf(id);
    return span ? quote(view.slice(span.start, span.end)) : "";
  };
  const fill = (pattern, id, name) => pattern.replace(`/${name}/0/`, `/${name}/${id}/`);

  // ------------------------------------------------------------------ messages

  function announce(message) {
    statusLine.textContent = message || "";
  }

  // Errors stay until dismissed (or, unless they ask for a reload, until the next save).
  // The alert region sits in the sticky bar, so it is on screen however far the brief is
  // scrolled; a modal dialog (Submit…) would hide it behind its backdrop and leave the page
  // inert, so an error closes any open dialog and takes the keyboard to the alert.
  function showError(message, { reload = false } = {}) {
    const dialogs = [...document.querySelectorAll("dialog[open]")];
    for (const dialog of dialogs) dialog.close();
    alerts.replaceChildren();
    const p = document.createElement("p");
    p.textContent = message;
    alerts.append(p);
    if (reload) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Reload the page";
      button.addEventListener("click", () => window.location.reload());
      alerts.append(button);
    }
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "secondary";
    dismiss.textContent = "Dismiss";
    dismiss.addEventListener("click", () => {
      alerts.replaceChildren();
      docText.focus({ preventScroll: true });
    });
    alerts.append(dismiss);
    alerts.dataset.sticky = reload ? "true" : "";
    if (dialogs.length) alerts.querySelector("button").focus({ preventScroll: true });
  }

  function clearError() {
    if (alerts.dataset.sticky !== "true") alerts.replaceChildren();
  }

  function readOnly() {
    showError("This annotation set is read-only here: nothing was changed.");
  }

  // ------------------------------------------------------------------ saving and loading

  // Reads go out from elements of their own (htmx keeps one request per
  // element), one at a time per kind; a read asked for while one is running
  // runs again after it, so the newest state always arrives last.
  const loaders = {};
  const loading = {};
  function load(kind, url, target) {
    if (!loaders[kind]) {
      loaders[kind] = document.createElement("span");
      loaders[kind].hidden = true;
      root.append(loaders[kind]);
    }
    const job = (loading[kind] ||= { busy: false, again: null });
    if (job.busy) {
      job.again = [url, target];
      return;
    }
    job.busy = true;
    htmx
      .ajax("GET", url, { source: loaders[kind], target, swap: "outerHTML" })
      .catch(() => {})
      .finally(() => {
        job.busy = false;
        if (job.again) {
          const [nextUrl, nextTarget] = job.again;
          job.again = null;
          load(kind, nextUrl, nextTarget);
        }
      });
  }

  function post(url, values) {
    if (!state.editable) {
      readOnly();
      return state.queue;
    }
    hold();
    state.queue = state.queue
      .then(() => htmx.ajax("POST", url, { source: root, values, swap: "none" }))
      .catch(() => {})
      .finally(release);
    return state.queue;
  }

  // A key pressed while a write is on its way waits for the write's answer (swapped in,
  // its event applied), then runs; several run in the order they were pressed, each on
  // the state the one before left (a label key, then an attribute key for the new span).
  function hold() {
    state.holds += 1;
  }

  function release() {
    state.holds = Math.max(0, state.holds - 1);
    while (!state.holds && state.heldKeys.length) {
      // A key that fails must not stop the ones after it, nor the queue of writes.
      try {
        onKey(state.heldKeys.shift());
      } catch (error) {
        console.error(error);
      }
    }
  }

  // The panels from the page's data; should that ever fail, the server's, with the data.
  function drawPanels() {
    const panels = document.getElementById("panels");
    if (!panels?.querySelector("#warnings-panel")) return;
    try {
      renderPanels(panels, {
        spans: state.order.map((id) => state.spans.get(id)),
        relations: [...state.relations.values()].sort((a, b) => a.id - b.id),
        slice: (start, end) => view.slice(start, end),
        schema,
        editable: state.editable,
      });
    } catch (error) {
      console.error(error);
      reloadPanels();
    }
  }

  function reloadPanels() {
    const panels = document.getElementById("panels");
    const sep = panels.dataset.url.includes("?") ? "&" : "?";
    load("panels", `${panels.dataset.url}${sep}data=1`, "#panels");
  }

  document.body.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.verb === "post") {
      const params = event.detail.parameters;
      params.expected_version = String(state.version);
    }
  });

  // A swap that takes the focused element away (the span editor drawn anew by its own
  // "Save changes", or reloaded under the keyboard) must not drop focus to <body>: it goes
  // to the same control in the new content, else back to the text, where the edited span
  // is still selected.
  let focusBeforeSwap = null;
  document.body.addEventListener("htmx:beforeSwap", () => {
    focusBeforeSwap = document.activeElement;
  });

  function keepFocus() {
    const lost = focusBeforeSwap;
    focusBeforeSwap = null;
    if (!lost || lost === document.body || lost.isConnected) return;
    const now = document.activeElement;
    if (now && now !== document.body) return;
    const same = lost.id ? document.getElementById(lost.id) : null;
    (same || docText).focus({ preventScroll: true });
  }

  document.body.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    const version = xhr && event.detail.successful && xhr.getResponseHeader("X-Warrant-Version");
    if (version) state.version = Number(version);
  });

  document.body.addEventListener("htmx:responseError", (event) => {
    state.moving = null;
    const xhr = event.detail.xhr;
    const plain = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
    const said = plain ? xhr.responseText : `the server answered ${xhr.status} ${xhr.statusText}`;
    if (xhr.status === 409) {
      showError(`Not saved: ${said}`, { reload: true });
    } else if (xhr.status === 403) {
      showError(`Not allowed: ${said}. Nothing was changed.`);
    } else if (event.detail.requestConfig?.verb === "get") {
      showError(`Could not load: ${said}.`);
    } else {
      showError(`Not saved: ${said}.`);
    }
  });

  document.body.addEventListener("htmx:sendError", () => {
    state.moving = null;
    showError(
      "Could not reach Warrant: your last action was NOT saved. Check the connection and try again.",
    );
  });

  document.body.addEventListener("warrant:saved", (event) => {
    const detail = event.detail || {};
    // A write moves the set on by one version from the one this page sent: more means
    // the page missed an edit (it cannot happen by its own edits), so it reads the set again.
    const missed = typeof detail.version === "number" && detail.version > state.version + 1;
    if (typeof detail.version === "number") state.version = detail.version;
    clearError();
    announce(detail.message);
    if (detail.change) applyChange(detail.change);
    settleMove(detail.change);
    if (missed) {
      reloadPanels();
    } else if (detail.change) {
      drawPanels();
    }
    state.kbd = null;
    if (detail.select) {
      // Keep a text selection the user made while the save was on its way.
      selectSpan(detail.select, { announceIt: false, keepText: true });
    } else if (state.selected != null && !state.spans.has(state.selected)) {
      deselect();
    } else {
      paint();
    }
    find.refresh();
    redraw();
    keepFocus();
  });

  document.body.addEventListener("warrant:data", (event) => {
    setData(event.detail);
    view.renderAll();
    paint();
    redraw();
  });

  document.body.addEventListener("htmx:afterSettle", () => {
    keepFocus();
    markCurrent();
  });

  document.addEventListener("selectionchange", () => {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0) return;
    if (!docText.contains(selection.anchorNode)) return;
    state.lastRange = selection.isCollapsed ? null : view.selection();
  });

  // ------------------------------------------------------------------ keyboard selection

  function units(kind) {
    return (state.units[kind] ||= textUnits(view.text, kind));
  }

  const toUnits = (points) => view.toUnits(points);
  const toPoints = (u16) => view.toPoints(u16);

  function showKeyboardSelection() {
    const { anchor, focus } = state.kbd;
    const lo = Math.min(anchor, focus);
    const hi = Math.max(anchor, focus);
    const kbd = state.kbd;
    if (hi > lo) view.select(toPoints(lo), toPoints(hi));
    else window.getSelection().removeAllRanges();
    state.kbd = kbd; // selectionchange must not reset the keyboard selection
    state.lastRange = hi > lo ? { start: toPoints(lo), end: toPoints(hi) } : null;
    const [node] = view.pointAt(toPoints(state.kbd.focus === hi ? Math.max(hi - 1, 0) : lo));
    node?.parentElement?.scrollIntoView({ block: "nearest" });
    announce(
      hi > lo
        ? `Selected “${quote(view.text.slice(lo, hi))}”. Press a label's key.`
        : "Nothing selected.",
    );
  }

  // Where a keyboard selection starts: after the selected span, or at the start.
  function caret(dir) {
    if (state.kbd) return dir > 0 ? Math.max(state.kbd.anchor, state.kbd.focus) : Math.min(state.kbd.anchor, state.kbd.focus);
    const span = spanOf(state.selected);
    if (span) return toUnits(dir > 0 ? span.end : span.start);
    const range = view.selection();
    if (range) return toUnits(dir > 0 ? range.end : range.start);
    return dir > 0 ? 0 : view.text.length;
  }

  /** The direction of the paragraph the keys act in: the keyboard selection's, the
   *  selected span's, or the text selection's (the first paragraph's without any). */
  function caretDirection() {
    const span = spanOf(state.selected);
    const range = view.selection();
    let at = 0;
    if (state.kbd) at = state.kbd.focus;
    else if (span) at = toUnits(span.start);
    else if (range) at = toUnits(range.start);
    return paragraphDirection(view.text, Math.min(at, view.text.length));
  }

  /** Select the next (dir 1) or previous (-1) unit of a kind. */
  function selectUnit(kind, dir) {
    const list = units(kind);
    if (!list.length) return;
    const at = caret(dir);
    const first = !state.kbd && state.selected == null && !view.selection();
    // The next unit starts where the selection ends (or later); the previous one ends
    // where it starts (or earlier).
    const unit = dir > 0 ? (first ? list[0] : unitFrom(list, at)) : unitUntil(list, at);
    const chosen = unit || (dir > 0 ? list[list.length - 1] : list[0]);
    takeKeyboardSelection({ anchor: chosen[0], focus: chosen[1] });
  }

  /** Extend (or shrink) the keyboard selection by a unit of a kind. */
  function extendBy(kind, dir) {
    if (!state.kbd) {
      const range = view.selection() || state.lastRange;
      if (range) state.kbd = { anchor: toUnits(range.start), focus: toUnits(range.end) };
    }
    if (!state.kbd) return selectUnit(kind, dir);
    takeKeyboardSelection(extendSelection(units(kind), state.kbd, dir));
  }

  /** Home / End: the first or last unit of the paragraph (or, whole, of the brief). */
  function toEdge(dir, { whole = false, extend = false } = {}) {
    const text = view.text;
    let edge;
    if (whole) {
      edge = dir < 0 ? 0 : text.length;
    } else {
      const paragraphs = units("paragraph");
      const para = unitAt(paragraphs, caret(-1)) || paragraphs[paragraphs.length - 1];
      if (!para) return;
      edge = dir < 0 ? para[0] : para[1];
    }
    if (extend) {
      if (!state.kbd) {
        const at = caret(-dir);
        state.kbd = { anchor: at, focus: at };
      }
      return takeKeyboardSelection({ anchor: state.kbd.anchor, focus: edge });
    }
    const words = units("word");
    const unit = dir < 0 ? unitAt(words, edge) : unitBefore(words, edge);
    if (unit) takeKeyboardSelection({ anchor: unit[0], focus: unit[1] });
  }

  function takeKeyboardSelection(kbd) {
    if (state.selected != null) deselect();
    state.kbd = kbd;
    showKeyboardSelection();
  }

  // ------------------------------------------------------------------ picking spans

  function paint() {
    for (const el of docText.querySelectorAll(".sel, .src")) el.classList.remove("sel", "src");
    const source = state.link?.source ?? state.drop?.source;
    if (source != null) {
      for (const el of view.segmentsOf(source)) el.classList.add("src");
      view.chipOf(source)?.classList.add("src");
    }
    if (state.selected != null) {
      for (const el of view.segmentsOf(state.selected)) el.classList.add("sel");
      view.chipOf(state.selected)?.classList.add("sel");
    }
    handles.show(state.editable && state.selected != null ? spanOf(state.selected) : null);
  }

  function markCurrent() {
    for (const el of root.querySelectorAll(".jump.current")) el.classList.remove("current");
    if (state.selected == null) return;
    for (const el of root.querySelectorAll(`.jump[data-span="${state.selected}"]`)) {
      el.classList.add("current");
    }
  }

  // Drops the text selection in the brief, so that a label key relabels the selected span
  // instead of making a new one from text chosen before.
  function dropTextSelection() {
    const selection = window.getSelection();
    if (selection?.rangeCount && selection.getRangeAt(0).intersectsNode(docText)) {
      selection.removeAllRanges();
    }
    state.lastRange = null;
    state.kbd = null;
  }

  function selectSpan(id, { announceIt = true, scroll = true, keepText = false } = {}) {
    if (!state.spans.has(id)) return;
    if (!keepText) dropTextSelection();
    const before = state.selected;
    state.selected = id;
    paint();
    markCurrent();
    const first = view.chipOf(id) || view.segmentsOf(id)[0];
    if (scroll && first) first.scrollIntoView({ block: "nearest" });
    if (announceIt) {
      const at = state.order.indexOf(id) + 1;
      const where = at ? ` (${at} of ${state.order.length})` : "";
      const hint = state.link?.step === "target" ? " Press Enter to link to it." : "";
      announce(`${labelName(id)}${where}: “${spanText(id)}”.${hint}`);
    }
    if (!arcsAll() && before !== id) redraw();
    window.clearTimeout(state.editorTimer);
    state.editorTimer = window.setTimeout(() => loadEditor(id), EDITOR_DELAY_MS);
  }

  function deselect() {
    const had = state.selected != null;
    state.selected = null;
    paint();
    markCurrent();
    if (had && !arcsAll()) redraw();
  }

  // The editor of a span, unless the one shown is it, drawn at this version (a span's
  // save brings its editor along: loading it again would undo what is being typed).
  function loadEditor(id) {
    if (state.selected !== id) return;
    const shown = document.getElementById("span-editor")?.dataset;
    if (shown?.span === String(id) && shown.version === String(state.version)) return;
    load("editor", fill(urls.span, id, "spans") + state.setParam, "#span-editor");
  }

  function cycle(step) {
    const order = state.order;
    if (!order.length) {
      announce("There are no spans yet.");
      return;
    }
    let i = order.indexOf(state.selected);
    i = i < 0 ? (step > 0 ? 0 : order.length - 1) : (i + step + order.length) % order.length;
    selectSpan(order[i]);
  }

  docText.addEventListener("mousedown", () => {
    state.kbd = null;
  });

  docText.addEventListener("click", (event) => {
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed && docText.contains(selection.anchorNode)) return;
    const ids = view.spansAt(event.target);
    if (!ids.length) {
      if (!state.link) deselect();
      return;
    }
    if (state.link?.step === "target") {
      const others = ids.filter((id) => id !== state.link.source);
      if (others.length) chooseTarget(others[others.length - 1]);
      return;
    }
    // Innermost first; clicking again on the same place picks the next span out.
    const at = ids.indexOf(state.selected);
    selectSpan(at >= 0 ? ids[(at - 1 + ids.length) % ids.length] : ids[ids.length - 1]);
  });

  // ------------------------------------------------------------------ edits

  const snap = () => (snapToggle?.checked === false ? "0" : "1");

  function labelKey(label) {
    if (!state.editable) return readOnly();
    const range = view.selection() || state.lastRange;
    if (range) {
      post(urls.span_create, { label: label.id, start: range.start, end: range.end, snap: snap() });
      window.getSelection().removeAllRanges();
      state.lastRange = null;
      state.kbd = null;
    } else if (state.selected != null) {
      post(fill(urls.span, state.selected, "spans"), { label: label.id });
    } else {
      showError("Select some text first (mouse, or arrow keys in the text), then press a label's key.");
    }
  }

  function deleteSelected() {
    if (!state.editable) return readOnly();
    if (state.selected == null) return announce("Select a span to delete first.");
    post(fill(urls.span_delete, state.selected, "spans"), {});
  }

  function undo() {
    if (!state.editable) return readOnly();
    post(urls.undo, {});
  }

  function redo() {
    if (!state.editable) return readOnly();
    post(urls.redo, {});
  }

  /** Move the selected span's start or end by a word (keys) or to an offset (handles).
   *  Quick presses build on each other: a move still on its way is the base of the next. */
  function moveSpan(which, { dir = 0, to = null } = {}) {
    if (!state.editable) return readOnly();
    const span = spanOf(state.selected);
    if (!span) return announce("Select a span first (click it, or j / k).");
    const moving = state.moving?.id === span.id ? state.moving : null;
    const [start, end] = moving ? moving.range : [span.start, span.end];
    let range = [start, end];
    let snapIt = snap();
    if (to == null) {
      const moved = moveBoundary(units("word"), [toUnits(start), toUnits(end)], which, dir);
      if (!moved) return announce(`The ${which} cannot move further that way.`);
      range = moved.map(toPoints);
      snapIt = "0"; // a word step lands on a word boundary already
    } else if (which === "start") {
      range = [to, end];
    } else {
      range = [start, to];
    }
    const values = { snap: snapIt };
    values[which] = range[which === "start" ? 0 : 1];
    state.moving = { id: span.id, range, pending: (moving?.pending ?? 0) + 1 };
    post(fill(urls.span, span.id, "spans"), values);
  }

  // A move's answer: the base of the next move is the span as saved, once none is on its way.
  function settleMove(change) {
    if (!state.moving || !change) return;
    if (change.spans.some(([id]) => id === state.moving.id)) state.moving.pending -= 1;
    if (state.moving.pending <= 0) state.moving = null;
  }

  // ------------------------------------------------------------------ attributes

  /**
   * An attribute's hotkey, with a span of a label that declares it selected: a choice
   * or yes/no steps to its next value (and back to unset) and saves; a short text
   * opens its field in the editor. False when the key is no attribute's here.
   */
  function attributeKey(key) {
    const span = spanOf(state.selected);
    const attribute = span && labels.get(span.label)?.attributes.find((a) => a.hotkey === key);
    if (!attribute) return false;
    if (!state.editable) {
      readOnly();
      return true;
    }
    withEditor(span.id, (editor) => {
      const field = editor.querySelector(`[data-attribute="${attribute.name}"]`);
      if (!field) return;
      if (attribute.type === "text") {
        field.focus();
        return;
      }
      field.selectedIndex = (field.selectedIndex + 1) % field.options.length;
      announce(`${attribute.name}: ${field.value || "not set"}. Saving…`);
      // Through the page's one queue of writes, with the editor's fields as they are now.
      post(field.form.getAttribute("action"), Object.fromEntries(new FormData(field.form)));
    });
    return true;
  }

  // Run `act` on the span editor once it shows span `id` (loading it now if need be);
  // keys pressed meanwhile wait for it (EDITOR_WAIT_MS at most, should the read fail).
  function withEditor(id, act) {
    const editor = document.getElementById("span-editor");
    if (editor?.dataset.span === String(id) && editor.querySelector("form")) return act(editor);
    hold();
    let timer = 0;
    const done = () => {
      document.body.removeEventListener("htmx:afterSettle", settled);
      window.clearTimeout(timer);
      release();
    };
    const settled = () => {
      const now = document.getElementById("span-editor");
      if (now?.dataset.span !== String(id)) return;
      if (now.querySelector("form")) act(now);
      done();
    };
    timer = window.setTimeout(done, EDITOR_WAIT_MS);
    document.body.addEventListener("htmx:afterSettle", settled);
    window.clearTimeout(state.editorTimer);
    loadEditor(id);
  }

  // ------------------------------------------------------------------ relations (keyboard)

  function beginLink() {
    if (!state.editable) return readOnly();
    if (state.selected == null) {
      showError("Select the source span first (click it, or j / k), then press t.");
      return;
    }
    state.link = { source: state.selected, step: "target" };
    paint();
    announce(
      `Linking from ${labelName(state.selected)} “${spanText(state.selected)}”. ` +
        "Pick the target (j / k or click), then press Enter. Esc cancels.",
    );
  }

  function chooseTarget(id) {
    if (id === state.link.source) {
      announce("That is the source: pick another span as the target.");
      return;
    }
    state.link.target = id;
    state.link.step = "type";
    state.selected = id;
    paint();
    markCurrent();
    openMenu();
  }

  function pairAllowed(allowed, src, tgt) {
    return allowed.some(([a, b]) => (a === "*" || a === src) && (b === "*" || b === tgt));
  }

  function typeAllowed(type, src, tgt) {
    return pairAllowed(type.allowed, src, tgt) || (!type.directed && pairAllowed(type.allowed, tgt, src));
  }

  function openMenu() {
    const { source, target } = state.link;
    const src = labelName(source);
    const tgt = labelName(target);
    $("#relation-menu-pair").textContent = `${src} “${spanText(source)}” → ${tgt} “${spanText(target)}”`;
    for (const button of menu.querySelectorAll(".type-button")) {
      const ok = typeAllowed(types.get(Number(button.dataset.type)), src, tgt);
      button.classList.toggle("refused", !ok);
      button.querySelector(".why").textContent = ok ? "" : `(not allowed from ${src} to ${tgt})`;
    }
    menu.hidden = false;
    menu.querySelector(".type-button")?.focus();
    announce(`Choose the relation type from ${src} to ${tgt}: ${schema.types.map((t) => `${t.key} ${t.name}`).join(", ")}.`);
  }

  function chooseType(typeId) {
    const { source, target } = state.link || state.drop;
    post(urls.relation_create, { source, target, type: typeId });
    cancelLink({ quiet: true });
  }

  function cancelLink({ quiet = false } = {}) {
    state.link = null;
    state.drop = null;
    menu.hidden = true;
    dropMenu.hidden = true;
    paint();
    docText.focus({ preventScroll: true });
    if (!quiet) announce("Linking cancelled.");
  }

  // ------------------------------------------------------------------ relations (mouse)

  function openDropMenu(source, target, x, y) {
    const src = labelName(source);
    const tgt = labelName(target);
    state.link = null;
    menu.hidden = true;
    state.drop = { source, target };
    const allowed = schema.types.filter((t) => typeAllowed(t, src, tgt));
    $("#drop-menu-title").textContent = allowed.length
      ? `${src} → ${tgt}: choose a type`
      : `The schema allows no relation from ${src} to ${tgt}.`;
    const list = dropMenu.querySelector(".drop-types");
    list.replaceChildren(
      ...allowed.map((t) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "drop-type";
        button.dataset.type = t.id;
        button.dataset.key = t.key;
        button.innerHTML = `<kbd></kbd> `;
        button.firstChild.textContent = t.key;
        button.append(t.name);
        return button;
      }),
    );
    const base = wrap.getBoundingClientRect();
    dropMenu.style.left = `${Math.max(0, x - base.left)}px`;
    dropMenu.style.top = `${y - base.top + 8}px`;
    dropMenu.hidden = false;
    paint();
    (dropMenu.querySelector(".drop-type") || dropMenu.querySelector("button")).focus({ preventScroll: true });
    announce(
      allowed.length
        ? `Link ${src} “${spanText(source)}” to ${tgt} “${spanText(target)}”: ${allowed.map((t) => `${t.key} ${t.name}`).join(", ")}.`
        : `The schema allows no relation from ${src} to ${tgt}.`,
    );
  }

  // ------------------------------------------------------------------ arcs

  function arcsAll() {
    return arcsToggle ? arcsToggle.checked : true;
  }

  // The relations to draw: all, or those at the selected span and at its neighbours.
  function shownRelations() {
    const all = [...state.relations.values()];
    if (arcsAll()) return all;
    if (state.selected == null) return [];
    const near = new Set([state.selected]);
    for (const r of all) {
      if (r.source === state.selected) near.add(r.target);
      if (r.target === state.selected) near.add(r.source);
    }
    return all.filter((r) => near.has(r.source) || near.has(r.target));
  }

  function redraw() {
    window.cancelAnimationFrame(state.raf);
    state.raf = window.requestAnimationFrame(() => {
      drawArcs({
        svg: $("#links"),
        wrap,
        textRoot: docText,
        chipOf: (id) => view.chipOf(id),
        relations: shownRelations().map((r) => {
          const type = types.get(r.type);
          return { ...r, name: type?.name ?? "?", attack: Boolean(type?.attack) };
        }),
      });
      handles.place();
      root.dataset.arcs = String(state.raf);
      root.dispatchEvent(new CustomEvent("warrant:redrawn"));
    });
  }

  // ------------------------------------------------------------------ dialogs and the rest

  function openDialog(id) {
    const dialog = document.getElementById(id);
    if (!dialog) return;
    if (id === "submit-dialog") {
      const warnings = [...root.querySelectorAll("#warnings li")].map((li) => li.firstChild.textContent.trim());
      const count = Number(root.querySelector("#warnings-title .count")?.textContent || warnings.length);
      $("#submit-warnings").textContent = count
        ? `${count} warning${count > 1 ? "s" : ""}: ${warnings.join(" ")}`
        : "No warnings.";
    }
    dialog.showModal();
    (dialog.querySelector("#submit-confirm") || dialog.querySelector("button"))?.focus();
  }

  function next() {
    const link = document.getElementById("next-doc");
    if (link) window.location.assign(link.href);
    else announce("No other brief waits in your queue.");
  }

  // ------------------------------------------------------------------ clicks

  root.addEventListener("mousedown", (event) => {
    // Keep the text selection when a palette button is pressed.
    if (event.target.closest(".label-button")) event.preventDefault();
  });

  // A relation's type menu in the relation list: another type is one undoable edit.
  root.addEventListener("change", (event) => {
    const menu = event.target.closest("[data-relation-retype]");
    if (!menu) return;
    post(fill(urls.relation_update, menu.dataset.relationRetype, "relations"), { type: menu.value });
  });

  root.addEventListener("click", (event) => {
    const target = event.target;
    const labelButton = target.closest(".label-button");
    if (labelButton) return labelKey(labels.get(Number(labelButton.dataset.label)));
    const deleteButton = target.closest("[data-relation-delete]");
    if (deleteButton) {
      event.preventDefault();
      return post(deleteButton.getAttribute("formaction"), {});
    }
    const typeButton = target.closest(".type-button, .drop-type");
    if (typeButton && (state.link || state.drop)) return chooseType(Number(typeButton.dataset.type));
    const jump = target.closest(".jump[data-span]");
    if (jump) {
      const id = Number(jump.dataset.span);
      if (state.link?.step === "target") return chooseTarget(id);
      return selectSpan(id);
    }
    const action = target.closest("[data-action]")?.dataset.action;
    if (action === "submit") openDialog("submit-dialog");
    else if (action === "help") openDialog("help-dialog");
    else if (action === "link") beginLink();
    else if (action === "undo") undo();
    else if (action === "redo") redo();
    else if (action === "cancel-link" || action === "cancel-drop") cancelLink();
    else if (action === "close-dialog") target.closest("dialog")?.close();
    else if (action === "find") find.open();
    else if (action === "find-next") find.step(1);
    else if (action === "find-prev") find.step(-1);
    else if (action === "find-close") find.close({ select: true });
    else if (action === "find-mark") markAll();
  });

  // ------------------------------------------------------------------ keys

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const target = event.target;
    if (target.closest?.("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape" && !target.closest("#find-bar")) target.blur();
      return;
    }
    if (document.querySelector("dialog[open]")) return;
    if (state.holds && holdable(event)) {
      event.preventDefault();
      const { key, shiftKey, ctrlKey, metaKey, altKey } = event;
      state.heldKeys.push({ key, shiftKey, ctrlKey, metaKey, altKey, target, preventDefault() {} });
      return;
    }
    onKey(event);
  });

  function holdable(event) {
    const { key } = event;
    const ctrl = event.ctrlKey || event.metaKey;
    if (event.altKey && !event.shiftKey) return false; // Alt+← is the browser's Back
    if (ctrl) return ["z", "Z", "y", "Y", "ArrowUp", "ArrowDown", "Home", "End"].includes(key);
    if (key === "Enter" && event.target.closest?.("button, a, summary")) return false;
    return (key.length === 1 && key !== " ") || HELD_KEYS.has(key);
  }

  function onKey(event) {
    if (document.querySelector("dialog[open]")) return; // a held key, after "s" opened one
    const target = event.target;
    const key = event.key;
    const handled = () => event.preventDefault();
    const ctrl = event.ctrlKey || event.metaKey;
    const inText = target === docText || target === document.body || docText.contains(target);

    if (ctrl && !event.altKey) {
      const letter = key.toLowerCase();
      if (letter === "z" || letter === "y") {
        handled();
        return letter === "y" || event.shiftKey ? redo() : undo();
      }
    }
    if (state.drop) {
      const type = typeByKey.get(key);
      if (type && dropMenu.querySelector(`.drop-type[data-type="${type.id}"]`)) {
        handled();
        return chooseType(type.id);
      }
      if (key === "Escape") {
        handled();
        return cancelLink();
      }
      return;
    }
    if (state.link?.step === "type") {
      if (typeByKey.has(key) && !ctrl && !event.altKey) {
        handled();
        chooseType(typeByKey.get(key).id);
      } else if (key === "Escape") {
        handled();
        cancelLink();
      }
      return;
    }
    // Arrows, Home and End select text in the brief, or move a selected span's boundaries.
    const arrows = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 1, ArrowUp: -1 };
    if (key in arrows && inText) {
      const horizontal = key === "ArrowRight" || key === "ArrowLeft";
      // ← and → go the way the paragraph reads: in Urdu ← is onwards.
      const dir = horizontal && caretDirection() === "rtl" ? -arrows[key] : arrows[key];
      if (horizontal && event.shiftKey && !ctrl && state.selected != null && !state.kbd) {
        handled(); // Shift+←/→ the end, Alt+Shift+←/→ the start of the selected span
        return moveSpan(event.altKey ? "start" : "end", { dir });
      }
      if (event.altKey) return;
      const kind = horizontal ? "word" : ctrl ? "paragraph" : "sentence";
      if (horizontal && ctrl) return; // Ctrl+←/→ stays the browser's
      handled();
      return event.shiftKey ? extendBy(kind, dir) : selectUnit(kind, dir);
    }
    if ((key === "Home" || key === "End") && inText && !event.altKey) {
      handled();
      return toEdge(key === "Home" ? -1 : 1, { whole: ctrl, extend: event.shiftKey });
    }
    if (ctrl || event.altKey) return;
    const onControl = target.closest?.("button, a, summary");
    if (key === "Enter") {
      if (onControl) return;
      handled();
      if (state.link?.step === "target") {
        if (state.selected != null) chooseTarget(state.selected);
      } else if (state.selected != null) {
        document.getElementById("span-label")?.focus();
      }
      return;
    }
    if (key === "Escape") {
      handled();
      if (state.link) return cancelLink();
      window.getSelection().removeAllRanges();
      dropTextSelection();
      return deselect();
    }
    const lower = key.length === 1 ? key.toLowerCase() : key;
    switch (lower) {
      case "?":
        handled();
        return openDialog("help-dialog");
      case "/":
        handled();
        return find.open();
      case "j":
      case "]":
        handled();
        return cycle(1);
      case "k":
      case "[":
        handled();
        return cycle(-1);
      case "x":
      case "Delete":
      case "Backspace":
        handled();
        return deleteSelected();
      case "u":
        handled();
        return event.shiftKey ? redo() : undo();
      case "t":
        handled();
        if (state.link?.step === "target") {
          return state.selected != null && chooseTarget(state.selected);
        }
        return beginLink();
      case "s":
        if (!state.editable) return;
        handled();
        return openDialog("submit-dialog");
      case "n":
        handled();
        return next();
      default:
        if (labelByKey.has(lower)) {
          handled();
          labelKey(labelByKey.get(lower));
        } else if (attributeKey(lower)) {
          handled();
        }
    }
  }

  // ------------------------------------------------------------------ find

  const find = new FindBar({
    form: $("#find-bar"),
    input: $("#find-input"),
    count: $("#find-count"),
    view,
    onClose(match) {
      docText.focus({ preventScroll: true });
      if (match) {
        if (state.selected != null) deselect();
        view.select(match[0], match[1]);
        state.lastRange = { start: match[0], end: match[1] };
        state.kbd = { anchor: toUnits(match[0]), focus: toUnits(match[1]) };
        announce(`Selected “${quote(view.slice(match[0], match[1]))}”. Press a label's key.`);
      }
    },
  });

  function markAll() {
    if (!state.editable) return readOnly();
    const label = labels.get(Number($("#find-label").value));
    if (!find.matches.length || !label) {
      announce("Nothing to mark: type what to find first.");
      return;
    }
    post(urls.spans_bulk, {
      label: label.id,
      ranges: JSON.stringify(find.matches),
      snap: snap(),
    });
  }

  // ------------------------------------------------------------------ start

  const handles = new BoundaryHandles({
    view,
    wrap,
    layer: $("#handles"),
    onMove: (which, to) => moveSpan(which, { to }),
  });

  enableLinkDrag({
    view,
    wrap,
    canStart: () => state.editable,
    onDrop: openDropMenu,
    onCancel: announce,
  });

  if (snapToggle) {
    snapToggle.checked = window.localStorage.getItem("warrant:snap") !== "0";
    snapToggle.addEventListener("change", () => {
      window.localStorage.setItem("warrant:snap", snapToggle.checked ? "1" : "0");
    });
  }

  setData(JSON.parse($("#set-data").textContent));
  if (arcsToggle) {
    const saved = window.localStorage.getItem("warrant:arcs");
    arcsToggle.checked = saved ? saved === "all" : state.relations.size <= schema.arcs_all_limit;
    arcsToggle.addEventListener("change", () => {
      window.localStorage.setItem("warrant:arcs", arcsToggle.checked ? "all" : "selected");
      announce(arcsToggle.checked ? "Showing every arc." : "Showing the arcs of the selected span and its neighbours.");
      redraw();
    });
  }
  view.renderAll();
  paint();
  redraw();
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(redraw, 100);
  });
  document.fonts?.ready.then(redraw);
  // What suggestions.js (loaded after this module) draws and writes through.
  root.annotate = {
    view,
    post,
    announce,
    spans: () => state.spans,
    relations: () => state.relations,
  };
  root.dataset.ready = "true";
}
