// The annotation page: text selection → spans, hotkeys, relations, arrows.
//
// The server renders everything; this module turns a selection into code
// point offsets (offsets.js), posts to the page's htmx endpoints, and keeps
// the few bits of client state a keyboard user needs (the selected span, the
// relation being drawn, the word selection). Every write sends the version of
// the set this page last saw; a refusal is shown in the alert region, never
// swallowed. Writes go out one at a time, so that fast typing cannot race
// its own versions.

import { codePointsToUtf16, utf16ToCodePoints } from "./offsets.js";

const TYPE_COLOURS = { supports: "#047857", attacks: "#b91c1c", evidence_for: "#b45309" };
const EDITOR_DELAY_MS = 120;
// Relation type names are project data (an import may add them): escape them
// before they go into the arrows' SVG markup.
const XML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeXml = (value) => String(value).replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);

const root = document.getElementById("annotate-root");
if (root) start(root);

function start(root) {
  const $ = (selector) => document.querySelector(selector);
  const docText = $("#doc-text");
  const schema = JSON.parse($("#schema-data").textContent);
  const urls = schema.urls;
  const labels = new Map(schema.labels.map((l) => [l.id, l]));
  const labelByKey = new Map(schema.labels.filter((l) => l.hotkey).map((l) => [l.hotkey, l]));
  const typeByKey = new Map(schema.types.map((t) => [t.key, t]));
  const types = new Map(schema.types.map((t) => [t.id, t]));
  const alerts = $("#alerts");
  const statusLine = $("#status-line");
  const menu = $("#relation-menu");
  const snapToggle = $("#snap-toggle");

  const state = {
    version: Number(root.dataset.version),
    editable: root.dataset.editable === "true",
    setParam: root.dataset.own === "true" ? "" : `?set=${root.dataset.set}`,
    spans: new Map(),
    order: [],
    relations: [],
    selected: null,
    link: null, // {source, target, step: "target" | "type"}
    lastRange: null, // the last text selection in the brief, in code points
    words: null, // [[u16start, u16end], ...] of the brief's words, built on demand
    segs: null,
    kbd: null, // keyboard word selection: {anchor, focus} word indexes
    queue: Promise.resolve(),
    dataNode: null,
    editorTimer: 0,
    raf: 0,
  };

  // ------------------------------------------------------------------ data

  // Reads the span data the panels carry, when the panels are new (a save's
  // own answer updates state.spans at once; the panels follow a moment later).
  function loadData() {
    const node = document.getElementById("span-data");
    if (!node || node === state.dataNode) return;
    state.dataNode = node;
    const data = JSON.parse(node.textContent);
    state.spans = new Map(data.spans.map(([id, label, s, e]) => [id, { id, label, start: s, end: e }]));
    state.relations = data.relations;
    sortSpans();
  }

  function sortSpans() {
    state.order = [...state.spans.values()]
      .sort((a, b) => a.start - b.start || b.end - a.end || a.id - b.id)
      .map((s) => s.id);
  }

  const labelName = (id) => labels.get(state.spans.get(id)?.label)?.name ?? "span";
  const spanText = (id) => {
    const first = docText.querySelectorAll(`.g[data-k~="${id}"]`);
    const text = [...first].map((el) => el.textContent).join("").replace(/\s+/g, " ").trim();
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
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

  function refreshPanels() {
    const panels = document.getElementById("panels");
    if (panels) load("panels", panels.dataset.url, "#panels");
  }

  function post(url, values) {
    if (!state.editable) {
      readOnly();
      return state.queue;
    }
    state.queue = state.queue
      .then(() => htmx.ajax("POST", url, { source: root, values, swap: "none" }))
      .catch(() => {});
    return state.queue;
  }

  document.body.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.verb === "post") {
      event.detail.parameters.expected_version = String(state.version);
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
    showError(
      "Could not reach Warrant: your last action was NOT saved. Check the connection and try again.",
    );
  });

  document.body.addEventListener("warrant:saved", (event) => {
    const detail = event.detail || {};
    if (typeof detail.version === "number") state.version = detail.version;
    clearError();
    announce(detail.message);
    if (detail.span) {
      const [id, label, s, e] = detail.span;
      state.spans.set(id, { id, label, start: s, end: e });
    }
    if (detail.removed) state.spans.delete(detail.removed);
    sortSpans();
    refreshPanels();
    state.words = null;
    state.kbd = null;
    if (detail.select) {
      // Keep a text selection the user made while the save was on its way.
      selectSpan(detail.select, { announceIt: false, keepText: true });
    } else if (state.selected != null && !docText.querySelector(`.g[data-k~="${state.selected}"]`)) {
      deselect();
    } else {
      paint();
    }
    drawLinks();
    keepFocus();
  });

  document.body.addEventListener("htmx:afterSettle", () => {
    keepFocus();
    loadData();
    state.words = null;
    paint();
    markCurrent();
    drawLinks();
  });

  // ------------------------------------------------------------------ selection → offsets

  function pointToCodePoints(node, offset) {
    if (node.nodeType === Node.TEXT_NODE) {
      const seg = node.parentElement?.closest(".g");
      if (seg && docText.contains(seg)) {
        return Number(seg.dataset.s) + utf16ToCodePoints(node.data, offset);
      }
    }
    // A boundary between elements: count the text before it.
    const range = document.createRange();
    range.setStart(docText, 0);
    range.setEnd(node, offset);
    return utf16ToCodePoints(docText.textContent, range.toString().length);
  }

  function selectionRange() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!range.intersectsNode(docText)) return null;
    const inside = (node) => docText.contains(node);
    const start = inside(range.startContainer)
      ? pointToCodePoints(range.startContainer, range.startOffset)
      : 0;
    const end = inside(range.endContainer)
      ? pointToCodePoints(range.endContainer, range.endOffset)
      : utf16ToCodePoints(docText.textContent, docText.textContent.length);
    return end > start ? { start, end } : null;
  }

  document.addEventListener("selectionchange", () => {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0) return;
    if (!docText.contains(selection.anchorNode)) return;
    state.lastRange = selection.isCollapsed ? null : selectionRange();
  });

  // ------------------------------------------------------------------ keyboard word selection

  function wordIndex() {
    if (!state.words) {
      const text = docText.textContent;
      state.words = [...text.matchAll(/\S+/gu)].map((m) => [m.index, m.index + m[0].length]);
      const segs = [...docText.querySelectorAll(".g")];
      const starts = [];
      let units = 0;
      for (const seg of segs) {
        starts.push(units);
        units += seg.textContent.length;
      }
      state.segs = { segs, starts };
    }
    return state.words;
  }

  function domPoint(units) {
    const { segs, starts } = state.segs;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= units) lo = mid;
      else hi = mid - 1;
    }
    return [segs[lo].firstChild, units - starts[lo]];
  }

  // The word to start a keyboard selection from: next to the selected span, or at an end.
  function startWord(step) {
    const words = wordIndex();
    const span = state.spans.get(state.selected);
    if (!span) return step > 0 ? 0 : words.length - 1;
    const text = docText.textContent;
    if (step > 0) {
      const after = codePointsToUtf16(text, span.end);
      const i = words.findIndex(([s]) => s >= after);
      return i < 0 ? words.length - 1 : i;
    }
    const before = codePointsToUtf16(text, span.start);
    const i = words.findLastIndex(([, e]) => e <= before);
    return i < 0 ? 0 : i;
  }

  function moveWord(step, extend) {
    const words = wordIndex();
    if (!words.length) return;
    if (!state.kbd) {
      const i = startWord(step);
      state.kbd = { anchor: i, focus: i };
    } else if (extend) {
      state.kbd.focus = Math.min(Math.max(state.kbd.focus + step, 0), words.length - 1);
    } else {
      const i = Math.min(Math.max(state.kbd.focus + step, 0), words.length - 1);
      state.kbd = { anchor: i, focus: i };
    }
    const lo = Math.min(state.kbd.anchor, state.kbd.focus);
    const hi = Math.max(state.kbd.anchor, state.kbd.focus);
    const [startNode, startOffset] = domPoint(words[lo][0]);
    const [endNode, endOffset] = domPoint(words[hi][1]);
    const kbd = state.kbd;
    window.getSelection().setBaseAndExtent(startNode, startOffset, endNode, endOffset);
    state.kbd = kbd; // selectionchange must not reset the keyboard selection
    startNode.parentElement.scrollIntoView({ block: "nearest" });
    const chosen = docText.textContent.slice(words[lo][0], words[hi][1]);
    announce(`Selected “${chosen.length > 80 ? `${chosen.slice(0, 79)}…` : chosen}”. Press a label's key.`);
  }

  // ------------------------------------------------------------------ picking spans

  function paint() {
    for (const el of docText.querySelectorAll(".g.sel, .g.src")) el.classList.remove("sel", "src");
    if (state.link) {
      for (const el of docText.querySelectorAll(`.g[data-k~="${state.link.source}"]`)) {
        el.classList.add("src");
      }
    }
    if (state.selected != null) {
      for (const el of docText.querySelectorAll(`.g[data-k~="${state.selected}"]`)) {
        el.classList.add("sel");
      }
    }
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
    if (!keepText) dropTextSelection();
    state.selected = id;
    paint();
    markCurrent();
    const first = docText.querySelector(`.g[data-k~="${id}"]`);
    if (scroll && first) first.scrollIntoView({ block: "nearest" });
    if (announceIt) {
      const at = state.order.indexOf(id) + 1;
      const where = at ? ` (${at} of ${state.order.length})` : "";
      const hint = state.link?.step === "target" ? " Press Enter to link to it." : "";
      announce(`${labelName(id)}${where}: “${spanText(id)}”.${hint}`);
    }
    window.clearTimeout(state.editorTimer);
    state.editorTimer = window.setTimeout(() => loadEditor(id), EDITOR_DELAY_MS);
  }

  function deselect() {
    state.selected = null;
    paint();
    markCurrent();
  }

  function loadEditor(id) {
    if (state.selected !== id) return;
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
    const seg = event.target.closest(".g");
    const ids = seg?.dataset.k ? seg.dataset.k.split(" ").map(Number) : [];
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

  // ------------------------------------------------------------------ actions

  function labelKey(label) {
    if (!state.editable) return readOnly();
    const range = selectionRange() || state.lastRange;
    if (range) {
      post(urls.span_create, {
        label: label.id,
        start: range.start,
        end: range.end,
        snap: snapToggle?.checked === false ? "0" : "1",
      });
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

  function openMenu() {
    const { source, target } = state.link;
    const src = labelName(source);
    const tgt = labelName(target);
    $("#relation-menu-pair").textContent = `${src} “${spanText(source)}” → ${tgt} “${spanText(target)}”`;
    for (const button of menu.querySelectorAll(".type-button")) {
      const type = types.get(Number(button.dataset.type));
      const ok = pairAllowed(type.allowed, src, tgt) || (!type.directed && pairAllowed(type.allowed, tgt, src));
      button.classList.toggle("refused", !ok);
      button.querySelector(".why").textContent = ok ? "" : `(not allowed from ${src} to ${tgt})`;
    }
    menu.hidden = false;
    menu.querySelector(".type-button")?.focus();
    announce(`Choose the relation type from ${src} to ${tgt}: ${schema.types.map((t) => `${t.key} ${t.name}`).join(", ")}.`);
  }

  function chooseType(typeId) {
    const { source, target } = state.link;
    post(urls.relation_create, { source, target, type: typeId });
    cancelLink({ quiet: true });
  }

  function cancelLink({ quiet = false } = {}) {
    state.link = null;
    menu.hidden = true;
    paint();
    docText.focus({ preventScroll: true });
    if (!quiet) announce("Linking cancelled.");
  }

  function openDialog(id) {
    const dialog = document.getElementById(id);
    if (!dialog) return;
    if (id === "submit-dialog") {
      const warnings = [...root.querySelectorAll("#warnings li")].map((li) => li.firstChild.textContent.trim());
      $("#submit-warnings").textContent = warnings.length
        ? `${warnings.length} warning${warnings.length > 1 ? "s" : ""}: ${warnings.join(" ")}`
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

  // ------------------------------------------------------------------ clicks and keys

  root.addEventListener("mousedown", (event) => {
    // Keep the text selection when a palette button is pressed.
    if (event.target.closest(".label-button")) event.preventDefault();
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
    const typeButton = target.closest(".type-button");
    if (typeButton && state.link) return chooseType(Number(typeButton.dataset.type));
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
    else if (action === "cancel-link") cancelLink();
    else if (action === "close-dialog") target.closest("dialog")?.close();
  });

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const target = event.target;
    if (target.closest?.("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (document.querySelector("dialog[open]")) return;
    const key = event.key;
    const handled = () => event.preventDefault();
    if ((event.ctrlKey || event.metaKey) && !event.altKey) {
      const letter = key.toLowerCase();
      if (letter === "z" || letter === "y") {
        handled();
        return letter === "y" || event.shiftKey ? redo() : undo();
      }
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (state.link?.step === "type") {
      if (typeByKey.has(key)) {
        handled();
        chooseType(typeByKey.get(key).id);
      } else if (key === "Escape") {
        handled();
        cancelLink();
      }
      return;
    }
    if (key === "ArrowRight" || key === "ArrowLeft") {
      if (target === docText || target === document.body) {
        handled();
        moveWord(key === "ArrowRight" ? 1 : -1, event.shiftKey);
      }
      return;
    }
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
        }
    }
  });

  // ------------------------------------------------------------------ arrows between spans

  function anchor(id, base) {
    const seg = docText.querySelector(`.g[data-k~="${id}"]`);
    const rect = seg?.getClientRects()[0];
    if (!rect) return null;
    return { x: rect.left - base.left + Math.min(10, rect.width / 2), y: rect.top - base.top + 4 };
  }

  function drawLinks() {
    window.cancelAnimationFrame(state.raf);
    state.raf = window.requestAnimationFrame(() => {
      const svg = document.getElementById("links");
      if (!svg) return;
      const wrap = document.getElementById("text-wrap");
      const base = wrap.getBoundingClientRect();
      const ns = "http://www.w3.org/2000/svg";
      const defs = [];
      const parts = [];
      const colours = new Set();
      for (const [id, source, target, typeId] of state.relations) {
        const a = anchor(source, base);
        const b = anchor(target, base);
        if (!a || !b) continue;
        const name = types.get(typeId)?.name ?? "";
        const colour = TYPE_COLOURS[name] || "#4b5563";
        colours.add(colour);
        const lift = Math.min(18 + Math.abs(a.x - b.x) / 8 + Math.abs(a.y - b.y) / 6, 70);
        const top = Math.min(a.y, b.y) - lift;
        const dash = name === "attacks" ? ' stroke-dasharray="5 3"' : "";
        parts.push(
          `<path data-relation="${id}" d="M ${a.x} ${a.y} C ${a.x} ${top}, ${b.x} ${top}, ${b.x} ${b.y}"` +
            ` stroke="${colour}"${dash} marker-end="url(#arrow-${colour.slice(1)})"></path>` +
            `<text x="${(a.x + b.x) / 2}" y="${top + lift * 0.2}" fill="${colour}" text-anchor="middle">${escapeXml(name)}</text>`,
        );
      }
      for (const colour of colours) {
        defs.push(
          `<marker id="arrow-${colour.slice(1)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"` +
            ` markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"></path></marker>`,
        );
      }
      svg.setAttribute("xmlns", ns);
      svg.innerHTML = `<defs>${defs.join("")}</defs>${parts.join("")}`;
    });
  }

  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(drawLinks, 100);
  });

  // ------------------------------------------------------------------ start

  if (snapToggle) {
    snapToggle.checked = window.localStorage.getItem("warrant:snap") !== "0";
    snapToggle.addEventListener("change", () => {
      window.localStorage.setItem("warrant:snap", snapToggle.checked ? "1" : "0");
    });
  }
  loadData();
  drawLinks();
  root.dataset.ready = "true";
}
