// The annotation page's panels (warnings, outline, relation list), drawn from the page's data.
//
// The page and its panels request get these sections from the server
// (web/annotate.py, _panels_context); after a save the page draws them itself from
// the spans and relations it holds, so that a save's answer carries no panels and
// the server reads nothing of the set but what it wrote. The markup is the
// server's, string for string: tests/browser/test_annotate_panels.py compares
// the two after every kind of edit. The outline follows
// selectors/annotations.py (argument_outline, _cycles) step for step.

// Python's str.split() whitespace (str.isspace), which the server's excerpts cut at.
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

const esc = (value) =>
  String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#x27;");

/** `" ".join(text.split())`, cut to `chars` code points with an ellipsis (_excerpt). */
export function excerpt(text, chars) {
  const piece = text.split(PY_SPACE).filter(Boolean).join(" ");
  const points = Array.from(piece);
  return points.length <= chars ? piece : `${points.slice(0, chars - 1).join("")}…`;
}

/**
 * The argument outline and its warnings (selectors/annotations.py argument_outline).
 * `spans` in text order ({id, label, start, end}), `relations` by id ({id, source,
 * target, type}); `labelNames` and `typeNames` map ids to names.
 */
export function argumentOutline(spans, relations, labelNames, typeNames, names) {
  const { major_claim: MAJOR, reason: REASON, evidence: EVIDENCE } = names;
  const byId = new Map(spans.map((s) => [s.id, s]));
  const children = new Map();
  const outgoing = new Map();
  const add = (map, key, value) => {
    if (!map.has(key)) map.set(key, []);
    map.get(key).push(value);
  };
  for (const rel of relations) add(outgoing, rel.source, rel);
  // Children in the order of their text (a stable sort: ties keep relation order).
  const bySource = [...relations].sort((a, b) => byId.get(a.source).start - byId.get(b.source).start);
  for (const rel of bySource) add(children, rel.target, rel);
  const label = new Map(spans.map((s) => [s.id, labelNames.get(s.label) ?? ""]));
  const schemaLabels = new Set(labelNames.values());
  const linked = new Set([...children.keys(), ...outgoing.keys()]);
  const roots = spans.filter((s) => label.get(s.id) === MAJOR).map((s) => s.id);
  for (const s of spans) {
    if (children.has(s.id) && !outgoing.has(s.id) && label.get(s.id) !== MAJOR) roots.push(s.id);
  }
  const rows = [];
  const shown = new Set();
  const walk = (root) => {
    const stack = [[root, 0, "", false]];
    while (stack.length) {
      const [id, depth, via, attack] = stack.pop();
      if (shown.has(id)) {
        rows.push({ id, depth, via, attack, repeat: true });
        continue;
      }
      shown.add(id);
      rows.push({ id, depth, via, attack, repeat: false });
      const kids = children.get(id) || [];
      for (let i = kids.length - 1; i >= 0; i--) {
        const name = typeNames.get(kids[i].type) ?? "";
        stack.push([kids[i].source, depth + 1, name, name === "attacks"]);
      }
    }
  };
  for (const root of roots) if (!shown.has(root)) walk(root);
  // Spans caught only in a cycle are reachable from no root: show them too.
  for (const s of spans) if (linked.has(s.id) && !shown.has(s.id)) walk(s.id);
  const unlinked = spans.filter((s) => !linked.has(s.id)).map((s) => s.id);

  const warnings = [];
  if (schemaLabels.has(MAJOR) && !spans.some((s) => label.get(s.id) === MAJOR)) {
    warnings.push({ message: "No major claim: mark the brief's headline claim.", ids: [] });
  }
  for (const [name, message] of [
    [REASON, "A reason that supports nothing."],
    [EVIDENCE, "Evidence linked to nothing."],
  ]) {
    if (!schemaLabels.has(name)) continue;
    for (const s of spans) {
      if (label.get(s.id) === name && !outgoing.has(s.id)) warnings.push({ message, ids: [s.id] });
    }
  }
  // Only a span with links both in and out can be on a cycle.
  const looped = new Set([...children.keys()].filter((id) => outgoing.has(id)));
  const inner = new Map([...looped].map((n) => [n, outgoing.get(n).filter((r) => looped.has(r.target))]));
  const nodes = spans.filter((s) => looped.has(s.id)).map((s) => s.id);
  for (const cycle of cycles(inner, nodes)) {
    warnings.push({ message: "A cycle: these spans support each other in a loop.", ids: cycle });
  }
  return { rows, unlinked, warnings };
}

// One cycle per strongly connected component with a loop (Tarjan 1972, iterative), as _cycles.
function cycles(outgoing, nodes) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const found = [];
  let counter = 0;
  const edgesOf = (n) => (outgoing.get(n) || [])[Symbol.iterator]();
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work = [[root, edgesOf(root)]];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const [node, edges] = work[work.length - 1];
      let advanced = false;
      for (let step = edges.next(); !step.done; step = edges.next()) {
        const nxt = step.value.target;
        if (!index.has(nxt)) {
          index.set(nxt, counter);
          low.set(nxt, counter);
          counter += 1;
          stack.push(nxt);
          onStack.add(nxt);
          work.push([nxt, edgesOf(nxt)]);
          advanced = true;
          break;
        }
        if (onStack.has(nxt)) low.set(node, Math.min(low.get(node), index.get(nxt)));
      }
      if (advanced) continue;
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === index.get(node)) {
        const component = [];
        for (;;) {
          const member = stack.pop();
          onStack.delete(member);
          component.push(member);
          if (member === node) break;
        }
        if (component.length > 1) found.push(component.sort((a, b) => a - b));
      }
    }
  }
  return found;
}

const clampPage = (value, count, perPage) => {
  const pages = Math.max(1, Math.ceil(count / perPage));
  const number = Number.parseInt(value, 10) || 1;
  return Math.min(Math.max(number, 1), pages);
};

const thousands = (n) => n.toLocaleString("en-US");

// Previous/next links of a paged panel (_pager).
function pager(name, pagesNow, count, perPage, url, label) {
  if (count <= perPage) return "";
  const number = pagesNow[name];
  const pages = Math.ceil(count / perPage);
  const first = (number - 1) * perPage + 1;
  const last = Math.min(number * perPage, count);
  const sep = url.includes("?") ? "&" : "?";
  const links = [];
  for (const [target, text, rel] of [
    [number - 1, "&larr; Previous", "prev"],
    [number + 1, "Next &rarr;", "next"],
  ]) {
    if (target < 1 || target > pages) continue;
    const query = Object.entries(pagesNow)
      .map(([k, v]) => `${k}=${k === name ? target : v}`)
      .join("&");
    const href = esc(`${url}${sep}${query}`);
    links.push(
      `<a href="${href}" hx-get="${href}" hx-target="#panels" hx-swap="outerHTML"` +
        ` rel="${rel}" class="pager-link">${text}</a>`,
    );
  }
  return (
    `<nav class="pager" aria-label="${label} pages"><span class="muted">${thousands(first)} to ` +
    `${thousands(last)} of ${thousands(count)}</span> ${links.join(" ")}</nav>`
  );
}

/**
 * Draw the three panel sections of `panels` (the #panels element) from the set.
 *
 * `spans` in text order, `relations` by id; `slice(start, end)` is the text between
 * code points; `schema` is the page's schema data; `editable` whether the menus and
 * delete buttons are drawn.
 */
export function renderPanels(panels, { spans, relations, slice, schema, editable }) {
  const conf = schema.panels;
  const labelNames = new Map(schema.labels.map((l) => [l.id, l.name]));
  const typeNames = new Map(schema.types.map((t) => [t.id, t.name]));
  const byId = new Map(spans.map((s) => [s.id, s]));
  const quoted = new Map();
  const quote = (id) => {
    if (!quoted.has(id)) {
      const s = byId.get(id);
      quoted.set(
        id,
        `<span class="chip c${s.label}">${esc(labelNames.get(s.label) ?? "?")}</span> ` +
          esc(excerpt(slice(s.start, s.end), conf.excerpt_chars)),
      );
    }
    return quoted.get(id);
  };
  const jump = (id, css = "link jump") =>
    `<button type="button" class="${css}" data-span="${id}">${quote(id)}</button>`;

  const outline = argumentOutline(spans, relations, labelNames, typeNames, conf);
  const entries = [
    ...outline.rows.map((r) => ["row", r]),
    ...outline.unlinked.map((id) => ["unlinked", id]),
  ];
  const pages = {
    outline_page: clampPage(panels.dataset.outlinePage, entries.length, conf.outline_rows),
    relation_page: clampPage(panels.dataset.relationPage, relations.length, conf.relation_rows),
  };
  const opage = pages.outline_page;
  const rpage = pages.relation_page;
  const url = panels.dataset.url;
  const rows = [];
  const unlinked = [];
  for (const [kind, entry] of entries.slice((opage - 1) * conf.outline_rows, opage * conf.outline_rows)) {
    if (kind === "unlinked") {
      unlinked.push(`<li>${jump(entry, "node jump")}</li>`);
      continue;
    }
    let via = "";
    if (entry.via) {
      const mark = entry.attack ? "✕ " : "";
      via = `<span class="via${entry.attack ? " via-attack" : ""}">${mark}${esc(entry.via)}</span> `;
    }
    const again = entry.repeat ? ' <span class="muted">(again)</span>' : "";
    rows.push(
      `<li class="${entry.attack ? "attack" : ""}" style="--d:${entry.depth}">` +
        `<button type="button" class="node jump" data-span="${entry.id}">${via}${quote(entry.id)}${again}</button></li>`,
    );
  }
  const count = outline.warnings.length;
  let warnings = outline.warnings
    .slice(0, conf.warning_rows)
    .map((w) => `<li>${esc(w.message)} ${w.ids.map((id) => jump(id)).join(" ")}</li>`)
    .join("");
  if (count) {
    warnings = `<ul id="warnings" class="warnings">${warnings}</ul>`;
    if (count > conf.warning_rows) warnings += `<p class="muted">and ${count - conf.warning_rows} more</p>`;
  } else {
    warnings = '<p id="warnings" class="ok">No warnings.</p>';
  }
  let outlineHtml = pager("outline_page", pages, entries.length, conf.outline_rows, url, "Outline");
  if (rows.length || !unlinked.length) {
    outlineHtml += `<ol class="outline" id="outline">${rows.join("") || conf.no_outline}</ol>`;
  }
  if (unlinked.length) {
    outlineHtml += `<h3>Not linked yet</h3><ul class="outline unlinked" id="unlinked">${unlinked.join("")}</ul>`;
  }

  const deleteUrl = schema.urls.relation_delete;
  const relationRows = [];
  for (const r of relations.slice((rpage - 1) * conf.relation_rows, rpage * conf.relation_rows)) {
    const name = esc(typeNames.get(r.type) ?? "?");
    let kind = `<span class="rel-type">—${name}→</span>`;
    let remove = "";
    if (editable) {
      const src = labelNames.get(byId.get(r.source).label) ?? "";
      const tgt = labelNames.get(byId.get(r.target).label) ?? "";
      const choices = schema.types.filter((t) => t.id === r.type || typeAllowed(t, src, tgt));
      if (choices.length > 1) {
        const options = choices
          .map((t) => `<option value="${t.id}"${t.id === r.type ? " selected" : ""}>${esc(t.name)}</option>`)
          .join("");
        kind =
          `—<select class="rel-type" id="relation-type-${r.id}" data-relation-retype="${r.id}"` +
          ` aria-label="Type of relation ${r.id}">${options}</select>→`;
      }
      remove =
        ' <button type="submit" form="relation-delete-form" class="link danger-link"' +
        ` formaction="${deleteUrl.replace("/relations/0/", `/relations/${r.id}/`)}"` +
        ` data-relation-delete="${r.id}" aria-label="Delete relation ${r.id} (${name})">delete</button>`;
    }
    relationRows.push(
      `<li data-relation="${r.id}" class="rel-${name}">${jump(r.source)} ${kind} ${jump(r.target)}${remove}</li>`,
    );
  }
  const n = spans.length;
  panels.dataset.outlinePage = String(opage);
  panels.dataset.relationPage = String(rpage);
  const [warningsPanel, outlinePanel, relationsPanel] = ["warnings", "outline", "relations"].map((id) =>
    panels.querySelector(`#${id}-panel`),
  );
  warningsPanel.innerHTML = `<h2 id="warnings-title">Warnings <span class="count">${count}</span></h2>${warnings}`;
  outlinePanel.innerHTML =
    `<h2 id="outline-title">Outline <span class="count">${n} span${n === 1 ? "" : "s"}</span></h2>` + outlineHtml;
  relationsPanel.innerHTML =
    `<h2 id="relations-title">Relations <span class="count">${relations.length}</span></h2>` +
    pager("relation_page", pages, relations.length, conf.relation_rows, url, "Relation list") +
    `<ol id="relation-list" class="relation-list">${relationRows.join("") || conf.no_relations}</ol>`;
  if (window.htmx) window.htmx.process(panels);
}

// A relation type the schema allows from `src` to `tgt` (services relation_refusal is None).
function typeAllowed(type, src, tgt) {
  const pair = (a, b) => type.allowed.some(([x, y]) => (x === "*" || x === a) && (y === "*" || y === b));
  return pair(src, tgt) || (!type.directed && pair(tgt, src));
}
