// Suggestions on the annotation page: ghost spans and arcs to accept or dismiss.
//
// Loaded after annotate.js when the project shows this annotator suggestions. It
// reads the set's suggestions once (JSON from the server, after the page has been
// drawn, so that a slow recommender never holds the page up) and draws them over
// the text in layers of their own: a dashed box per line of a suggested span, a
// "Reason?" chip at its start (the mouse's handle), and dashed arcs for suggested
// relations. Pointer events pass through the boxes, so text under a suggestion is
// selected as ever; hovering a box shows the confidence and the cue.
//
// Keys: "." / "," step to the next / previous suggestion; on a suggestion, "a" or
// Enter accepts it, "d" or Delete dismisses it, Shift+A accepts every suggestion
// at least as confident as the project's threshold, Esc leaves it. Accepting posts
// through annotate.js (the page's write queue and version); the answer is an
// ordinary save, so the new span is drawn by the page and "u" undoes it. A ghost
// is hidden while the set has the same span; undo brings it back. Dismissed
// suggestions do not come back in this set (the server remembers them).

const SVG = "http://www.w3.org/2000/svg";
const CHIP_LIFT = 15; // px above the line where a ghost chip sits

const root = document.getElementById("annotate-root");
const dataEl = document.getElementById("suggestion-data");
if (root && dataEl && root.annotate) start(root, root.annotate, JSON.parse(dataEl.textContent));

function percent(value) {
  return `${Math.round(value * 100)}%`;
}

function start(root, page, config) {
  const $ = (selector) => document.querySelector(selector);
  const schema = JSON.parse($("#schema-data").textContent);
  const labels = new Map(schema.labels.map((l) => [l.id, l]));
  const types = new Map(schema.types.map((t) => [t.id, t]));
  const wrap = $("#text-wrap");
  const bar = $("#suggestion-bar");
  const summary = $("#suggestion-summary");
  const acceptAllButton = $("#suggestion-accept-all");
  const toggle = $("#suggestion-toggle");
  // Shift+A accepts all anywhere, unless a label or attribute of the schema uses "a".
  const aIsTaken = schema.labels.some(
    (l) => l.hotkey === "a" || (l.attributes || []).some((a) => a.hotkey === "a"),
  );

  const layer = document.createElement("div");
  layer.className = "ghosts";
  layer.setAttribute("aria-hidden", "true");
  const arcs = document.createElementNS(SVG, "svg");
  arcs.setAttribute("class", "ghost-links");
  arcs.setAttribute("aria-hidden", "true");
  const tip = document.createElement("div");
  tip.className = "ghost-tip";
  tip.hidden = true;
  const pop = document.createElement("div");
  pop.className = "ghost-popover";
  pop.id = "ghost-popover";
  pop.hidden = true;
  pop.setAttribute("role", "group");
  pop.setAttribute("aria-label", "Suggestion");
  pop.innerHTML =
    '<p class="ghost-what" dir="auto"></p><div class="ghost-buttons">' +
    '<button type="button" data-ghost="accept">Accept <kbd>a</kbd></button>' +
    '<button type="button" class="secondary" data-ghost="dismiss">Dismiss <kbd>d</kbd></button></div>';
  wrap.append(layer, arcs, tip, pop);

  const state = {
    spans: [], // {key, label, start, end, confidence, recommender, cue}
    relations: [], // {key, type, source: [label, start, end], target: [...], ...}
    dismissed: new Set(),
    threshold: config.threshold ?? 0.6,
    focus: null, // the key of the focused suggestion
    visible: true,
    boxes: new Map(), // key -> client rects of the span, relative to wrap
  };

  // ------------------------------------------------------------------ which ghosts show

  const drawnKey = (label, start, end) => `${label}:${start}:${end}`;
  function drawn() {
    const out = new Map();
    for (const s of page.spans().values()) out.set(drawnKey(s.label, s.start, s.end), s.id);
    return out;
  }

  function shownSpans(have = drawn()) {
    return state.spans.filter((s) => !state.dismissed.has(s.key) && !have.has(drawnKey(s.label, s.start, s.end)));
  }

  function endOf(end, have, ghosts) {
    const [label, start, stop] = end;
    const key = drawnKey(label, start, stop);
    if (have.has(key)) return { drawn: have.get(key) };
    const ghost = ghosts.get(key);
    return ghost ? { ghost } : null;
  }

  function shownRelations(have = drawn(), spans = shownSpans(have)) {
    const ghosts = new Map(spans.map((s) => [drawnKey(s.label, s.start, s.end), s]));
    const existing = new Set([...page.relations().values()].map((r) => `${r.source}>${r.target}>${r.type}`));
    const out = [];
    for (const r of state.relations) {
      if (state.dismissed.has(r.key)) continue;
      const a = endOf(r.source, have, ghosts);
      const b = endOf(r.target, have, ghosts);
      if (!a || !b) continue;
      if (a.drawn && b.drawn && existing.has(`${a.drawn}>${b.drawn}>${r.type}`)) continue;
      out.push({ ...r, a, b });
    }
    return out;
  }

  // The suggestions in reading order, for "." and ",".
  function ordered() {
    const have = drawn();
    const spans = shownSpans(have);
    const rels = shownRelations(have, spans);
    const startOf = (item) => (item.start ?? item.source[1]);
    return [...spans, ...rels].sort((x, y) => startOf(x) - startOf(y) || (x.start === undefined) - (y.start === undefined));
  }

  // ------------------------------------------------------------------ drawing

  function describe(item) {
    if (item.start !== undefined) {
      const name = labels.get(item.label)?.name ?? "?";
      return `Suggested ${name} · ${percent(item.confidence)} · ${item.cue || item.recommender} (${item.recommender})`;
    }
    const name = types.get(item.type)?.name ?? "?";
    const src = labels.get(item.source[0])?.name ?? "?";
    const tgt = labels.get(item.target[0])?.name ?? "?";
    return `Suggested ${name}: ${src} → ${tgt} · ${percent(item.confidence)} · ${item.cue || item.recommender} (${item.recommender})`;
  }

  function draw() {
    layer.replaceChildren();
    arcs.replaceChildren();
    state.boxes.clear();
    const items = state.visible ? ordered() : [];
    if (state.focus && !items.some((i) => i.key === state.focus)) state.focus = null;
    const base = wrap.getBoundingClientRect();
    const chips = new Map();
    for (const s of items) {
      if (s.start === undefined) continue;
      let rects;
      try {
        rects = [...page.view.range(s.start, s.end).getClientRects()].filter((r) => r.width > 0);
      } catch {
        continue; // outside the drawn text (cannot happen with the server's offsets)
      }
      if (!rects.length) continue;
      const boxes = rects.map((r) => ({ left: r.left - base.left, top: r.top - base.top, width: r.width, height: r.height }));
      state.boxes.set(s.key, boxes);
      const focused = s.key === state.focus;
      for (const b of boxes) {
        const box = document.createElement("span");
        box.className = `ghost-box c${s.label}${focused ? " focused" : ""}`;
        box.dataset.key = s.key;
        Object.assign(box.style, { left: `${b.left}px`, top: `${b.top}px`, width: `${b.width}px`, height: `${b.height}px` });
        layer.append(box);
      }
      const chip = document.createElement("button");
      chip.type = "button";
      chip.tabIndex = -1;
      chip.className = `ghost-chip c${s.label}${focused ? " focused" : ""}`;
      chip.dataset.key = s.key;
      chip.textContent = `${labels.get(s.label)?.name ?? "?"}?`;
      chip.title = describe(s);
      chip.style.left = `${boxes[0].left}px`;
      chip.style.top = `${boxes[0].top - CHIP_LIFT}px`;
      layer.append(chip);
      if (page.view.charDirection(s.start) === "rtl") {
        // Over the span's first character, which is on its right in a right-to-left run.
        const edge = page.view.edges(s.start, s.end).start;
        if (edge) chip.style.left = `${edge.x - base.left - chip.offsetWidth}px`;
      }
      chips.set(drawnKey(s.label, s.start, s.end), chip);
    }
    const point = (end) => {
      const el = end.drawn !== undefined ? page.view.chipOf(end.drawn) : chips.get(drawnKey(end.ghost.label, end.ghost.start, end.ghost.end));
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { x: r.left - base.left + r.width / 2, y: r.top - base.top };
    };
    const paths = [];
    for (const r of items) {
      if (r.start !== undefined) continue;
      const p = point(r.a);
      const q = point(r.b);
      if (!p || !q) continue;
      const lift = Math.min(60, 18 + Math.abs(q.x - p.x) / 8 + Math.abs(q.y - p.y) / 6);
      const top = Math.min(p.y, q.y) - lift;
      const d = `M ${p.x} ${p.y} C ${p.x} ${top}, ${q.x} ${top}, ${q.x} ${q.y}`;
      const focused = r.key === state.focus ? " focused" : "";
      const mx = (p.x + q.x) / 2;
      const my = top + lift / 4;
      const name = `${types.get(r.type)?.name ?? "?"}?`;
      paths.push(
        `<path class="ghost-arc${focused}" data-key="${r.key}" d="${d}" marker-end="url(#ghost-head)"></path>` +
          `<text class="ghost-arc-label${focused}" data-key="${r.key}" x="${mx}" y="${my}" text-anchor="middle"></text>`,
      );
      r._label = name;
    }
    arcs.innerHTML =
      '<defs><marker id="ghost-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" ' +
      'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"></path></marker></defs>' +
      paths.join("");
    for (const r of items) {
      if (r.start !== undefined || !r._label) continue;
      const text = arcs.querySelector(`text[data-key="${CSS.escape(r.key)}"]`);
      if (text) {
        text.textContent = r._label;
        const title = document.createElementNS(SVG, "title");
        title.textContent = describe(r);
        text.append(title);
      }
    }
    placePopover(items);
    updateBar(items);
    root.dataset.ghosts = String(items.length);
  }

  function placePopover(items) {
    const item = items.find((i) => i.key === state.focus);
    if (!item) {
      pop.hidden = true;
      return;
    }
    pop.querySelector(".ghost-what").textContent = describe(item);
    pop.dataset.key = item.key;
    let x = 0;
    let y = 0;
    if (item.start !== undefined) {
      const boxes = state.boxes.get(item.key);
      const last = boxes?.[boxes.length - 1];
      if (last) {
        x = boxes[0].left;
        y = last.top + last.height + 6;
      }
    } else {
      const label = arcs.querySelector(`text[data-key="${CSS.escape(item.key)}"]`);
      if (label) {
        const r = label.getBoundingClientRect();
        const base = wrap.getBoundingClientRect();
        x = r.left - base.left;
        y = r.bottom - base.top + 6;
      }
    }
    pop.style.left = `${Math.max(0, x)}px`;
    pop.style.top = `${y}px`;
    pop.hidden = false;
  }

  function updateBar(items) {
    if (!bar) return;
    const spans = items.filter((i) => i.start !== undefined).length;
    const confident = items.filter((i) => i.confidence >= state.threshold).length;
    const notes = [...(config.errors || []), ...(config.notes || [])].join(" ");
    summary.textContent = state.visible
      ? `${spans} suggested span${spans === 1 ? "" : "s"}, ${items.length - spans} relation${items.length - spans === 1 ? "" : "s"}` +
        `${notes ? `. ${notes}` : ""}`
      : "Suggestions hidden.";
    acceptAllButton.textContent = `Accept all ≥ ${percent(state.threshold)} (${confident})`;
    acceptAllButton.disabled = !confident || !state.visible;
    bar.hidden = false;
  }

  // ------------------------------------------------------------------ acting

  function focusOn(key, { scroll = true } = {}) {
    state.focus = key;
    draw();
    const item = ordered().find((i) => i.key === key);
    if (!item) return;
    page.announce(`${describe(item)}. a accepts, d dismisses, Esc leaves it.`);
    if (scroll) {
      const el = layer.querySelector(`.ghost-chip[data-key="${CSS.escape(key)}"]`) || arcs.querySelector(`[data-key="${CSS.escape(key)}"]`);
      el?.scrollIntoView?.({ block: "nearest" });
    }
  }

  function step(dir) {
    const items = ordered();
    if (!items.length) {
      page.announce("No suggestion is left in this brief.");
      return;
    }
    const at = items.findIndex((i) => i.key === state.focus);
    const next = at < 0 ? (dir > 0 ? 0 : items.length - 1) : (at + dir + items.length) % items.length;
    focusOn(items[next].key);
  }

  function leave() {
    state.focus = null;
    draw();
    page.announce("");
  }

  function accept(keys) {
    if (!keys.length) return;
    const items = ordered();
    const at = items.findIndex((i) => i.key === state.focus);
    state.after = at >= 0 ? items[at + 1]?.key : null;
    page.post(config.urls.accept, { keys: JSON.stringify(keys) });
  }

  function acceptAll() {
    if (!state.visible) return;
    state.after = null;
    page.post(config.urls.accept, { all: "1" });
  }

  // One dismissal request at a time, carrying every key dismissed while the one before
  // was on its way: htmx keeps only the last of the requests queued on one element, so
  // a request per key would lose the ones in between.
  const dismissing = { waiting: [], sending: null };

  function sendDismissals() {
    if (dismissing.sending || !dismissing.waiting.length) return;
    dismissing.sending = dismissing.waiting;
    dismissing.waiting = [];
    const values = { keys: JSON.stringify(dismissing.sending) };
    // A failure is reported by htmx:afterRequest below (and shown by the page's error line).
    htmx.ajax("POST", config.urls.dismiss, { source: dataEl, values, swap: "none" }).catch(() => {});
  }

  dataEl.addEventListener("htmx:afterRequest", (event) => {
    const sent = dismissing.sending || [];
    dismissing.sending = null;
    if (!event.detail.successful) {
      // Not recorded: the suggestions show again, as the server still has them.
      for (const key of sent) state.dismissed.delete(key);
      draw();
    }
    sendDismissals();
  });

  function dismiss(key) {
    const items = ordered();
    const at = items.findIndex((i) => i.key === key);
    const next = items[at + 1]?.key ?? null;
    state.dismissed.add(key);
    state.focus = next;
    draw();
    page.announce(`Dismissed: it will not be suggested again in this set.${next ? " Next suggestion focused." : ""}`);
    dismissing.waiting.push(key);
    sendDismissals();
  }

  document.body.addEventListener("warrant:saved", () => {
    // The accepted ghost is now a span: move on to the next suggestion, if one was focused.
    if (state.focus && !ordered().some((i) => i.key === state.focus)) state.focus = state.after || null;
    state.after = null;
    draw();
  });
  document.body.addEventListener("warrant:data", draw);
  root.addEventListener("warrant:redrawn", draw);

  // ------------------------------------------------------------------ mouse

  wrap.addEventListener("mousemove", (event) => {
    if (!state.boxes.size) return;
    const base = wrap.getBoundingClientRect();
    const x = event.clientX - base.left;
    const y = event.clientY - base.top;
    let hit = null;
    for (const [key, boxes] of state.boxes) {
      if (boxes.some((b) => x >= b.left && x <= b.left + b.width && y >= b.top && y <= b.top + b.height)) hit = key;
    }
    for (const el of layer.querySelectorAll(".ghost-box.hover")) el.classList.remove("hover");
    if (!hit) {
      tip.hidden = true;
      return;
    }
    for (const el of layer.querySelectorAll(`.ghost-box[data-key="${CSS.escape(hit)}"]`)) el.classList.add("hover");
    const item = state.spans.find((s) => s.key === hit);
    tip.textContent = describe(item);
    tip.style.left = `${x + 12}px`;
    tip.style.top = `${y + 16}px`;
    tip.hidden = false;
  });
  wrap.addEventListener("mouseleave", () => {
    tip.hidden = true;
  });

  layer.addEventListener("click", (event) => {
    const chip = event.target.closest(".ghost-chip");
    if (chip) focusOn(chip.dataset.key, { scroll: false });
  });
  arcs.addEventListener("click", (event) => {
    const el = event.target.closest("[data-key]");
    if (el) focusOn(el.dataset.key, { scroll: false });
  });
  pop.addEventListener("click", (event) => {
    const action = event.target.closest("[data-ghost]")?.dataset.ghost;
    const key = pop.dataset.key;
    if (action === "accept") accept([key]);
    else if (action === "dismiss") dismiss(key);
  });
  acceptAllButton?.addEventListener("click", acceptAll);
  toggle?.addEventListener("click", () => {
    state.visible = !state.visible;
    toggle.textContent = state.visible ? "Hide" : "Show";
    toggle.setAttribute("aria-pressed", String(!state.visible));
    if (!state.visible) state.focus = null;
    draw();
  });

  // ------------------------------------------------------------------ keys

  // In the capture phase, before annotate.js: on a focused suggestion, a and d are its
  // keys, not the label or attribute hotkeys they may also be.
  window.addEventListener(
    "keydown",
    (event) => {
      if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target.closest?.("input, textarea, select, [contenteditable], dialog")) return;
      if (document.querySelector("dialog[open]") || !state.visible) return;
      const key = event.key;
      const take = () => {
        event.preventDefault();
        event.stopPropagation();
      };
      if (key === "." || key === ",") {
        take();
        return step(key === "." ? 1 : -1);
      }
      if (key === "A" && event.shiftKey && (state.focus || !aIsTaken)) {
        take();
        return acceptAll();
      }
      if (!state.focus) return;
      if (key === "a" || key === "Enter") {
        take();
        return accept([state.focus]);
      }
      if (key === "d" || key === "Delete" || key === "Backspace") {
        take();
        return dismiss(state.focus);
      }
      if (key === "Escape") {
        take();
        return leave();
      }
    },
    true,
  );

  // ------------------------------------------------------------------ loading

  function load() {
    fetch(config.urls.list, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        return response.json();
      })
      .then((data) => {
        config.errors = data.errors;
        config.notes = data.notes;
        state.threshold = data.threshold;
        if (!data.shown) {
          summary.textContent = data.reason;
          bar.hidden = false;
          acceptAllButton.disabled = true;
          return;
        }
        state.spans = data.spans;
        state.relations = data.relations;
        draw();
        root.dataset.suggestions = "ready";
      })
      .catch((error) => {
        summary.textContent = `Suggestions could not be loaded: ${error.message}.`;
        bar.hidden = false;
        root.dataset.suggestions = "failed";
      });
  }
  load();
}
