// Relations as labelled arcs above the text, between the two spans' label chips.
//
// Design note. As in brat and INCEpTION, an arc runs above the line of text it
// belongs to: a leg rises from the source's chip, a level line carries the
// type's label, a leg with an arrowhead comes down onto the target's chip. A
// relation whose two spans sit on different lines is drawn as two halves: on
// the source's line from the chip to the margin it continues towards, on the
// target's line from the other margin down onto the target (both halves carry
// the label). So no arc ever crosses a line of text. In a right-to-left
// paragraph (a chip with data-dir="rtl") the text runs on at the left margin.
//
// Arcs on one line are stacked in levels (layoutLevels): narrow arcs first, each
// on the lowest level where its extent (its span on the line, widened to its
// label) meets no other extent; labels on one level therefore never overlap,
// and levels are a label's height apart. A line gets the room its levels need
// above it from a zero-width "strut" inside its first chip: an inline-block
// whose height lifts that line's top. Struts are always there (zero high when
// not needed), so growing one never changes where lines break; only the lines
// below move down, and the arcs are measured again after the struts are set.

const SVG = "http://www.w3.org/2000/svg";
export const LEVEL_HEIGHT = 16; // px between stacked levels; more than a label's height
export const LABEL_HEIGHT = 13;
const LEG = 8; // px from the text's top to the lowest level
const UNDERLINE_ROOM = 20; // below a line: the span underlines (up to four rows)
const LABEL_FONT = "11px system-ui, sans-serif";
const LABEL_PAD = 6; // px of free space on each side of a label
const MARGIN = 6; // px inside the text's edges where half arcs stop

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeXml = (value) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);

/**
 * Assign stacking levels to the arcs of one line.
 *
 * @param {Array<{lo:number, hi:number}>} extents  each arc's horizontal extent
 *   (label included), in px
 * @returns {number[]} the level of each arc (0 = lowest), such that no two arcs
 *   on one level have overlapping extents
 */
export function layoutLevels(extents) {
  const order = extents
    .map((e, i) => i)
    .sort((a, b) => extents[a].hi - extents[a].lo - (extents[b].hi - extents[b].lo) || extents[a].lo - extents[b].lo);
  const levels = new Array(extents.length);
  const taken = []; // per level, the extents on it
  for (const i of order) {
    const { lo, hi } = extents[i];
    let level = 0;
    while (taken[level] && taken[level].some((e) => e.lo < hi && lo < e.hi)) level++;
    (taken[level] ||= []).push(extents[i]);
    levels[i] = level;
  }
  return levels;
}

let measureContext = null;
const widths = new Map();
function labelWidth(text) {
  if (!widths.has(text)) {
    measureContext ||= document.createElement("canvas").getContext("2d");
    measureContext.font = LABEL_FONT;
    widths.set(text, Math.ceil(measureContext.measureText(text).width) + 2 * LABEL_PAD);
  }
  return widths.get(text);
}

// The visual lines of the text: [top, bottom] of each, from the blocks' line fragments.
function textLines(textRoot) {
  const rects = [];
  for (const block of textRoot.querySelectorAll(".blk")) {
    for (const r of block.getClientRects()) if (r.height > 0) rects.push([r.top, r.bottom]);
  }
  rects.sort((a, b) => a[0] - b[0]);
  const lines = [];
  for (const [top, bottom] of rects) {
    const last = lines[lines.length - 1];
    if (last && top < last[1] - 1) {
      last[0] = Math.min(last[0], top);
      last[1] = Math.max(last[1], bottom);
    } else {
      lines.push([top, bottom]);
    }
  }
  return lines;
}

function lineOf(lines, y) {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid][0] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Draw relations as arcs.
 *
 * @param {object} o
 * @param {SVGElement} o.svg  drawn into; absolutely placed over `o.wrap`
 * @param {HTMLElement} o.wrap  the positioned box the svg covers
 * @param {HTMLElement} o.textRoot  the text (its .blk blocks and .tag chips)
 * @param {(spanId:number) => Element|null} o.chipOf
 * @param {Array<{id, source, target, name, attack}>} o.relations
 */
export function drawArcs({ svg, wrap, textRoot, chipOf, relations }) {
  for (const strut of textRoot.querySelectorAll(".strut[style]")) strut.removeAttribute("style");
  const items = [];
  for (const rel of relations) {
    const a = chipOf(rel.source);
    const b = chipOf(rel.target);
    if (a && b && a !== b) items.push({ ...rel, a, b });
  }
  if (!items.length) {
    svg.replaceChildren();
    return { labels: 0 };
  }
  let plan = planArcs(items, wrap, textRoot);
  // Give each short line its room, then measure again (lines below have moved).
  for (let round = 0; round < 3 && plan.short.size; round++) {
    for (const [line, missing] of plan.short) {
      const strut = plan.firstChip.get(line)?.querySelector(".strut");
      if (!strut) continue;
      const now = parseFloat(strut.style.height || "0");
      strut.style.height = `${Math.ceil(now + missing + (now ? 0 : plan.lift))}px`;
    }
    plan = planArcs(items, wrap, textRoot);
  }
  svg.innerHTML = render(plan);
  return { labels: plan.pieces.length };
}

// Measure, cut arcs into pieces per line, stack them; report lines short of room.
function planArcs(items, wrap, textRoot) {
  const base = wrap.getBoundingClientRect();
  const textBox = textRoot.getBoundingClientRect();
  const left = textBox.left - base.left + MARGIN;
  const right = textBox.right - base.left - MARGIN;
  const lines = textLines(textRoot).map(([t, b]) => [t - base.top, b - base.top]);
  const chipBox = new Map();
  const box = (chip) => {
    if (!chipBox.has(chip)) {
      const r = chip.getBoundingClientRect();
      const baseline = chip.querySelector(".strut")?.getBoundingClientRect().bottom ?? r.bottom;
      chipBox.set(chip, {
        x: r.left - base.left + r.width / 2,
        w: r.width,
        top: r.top - base.top,
        line: lineOf(lines, baseline - base.top - 1),
        rtl: chip.dataset.dir === "rtl",
        chip,
      });
    }
    return chipBox.get(chip);
  };
  const pieces = [];
  for (const rel of items) {
    const a = box(rel.a);
    const b = box(rel.b);
    const common = { id: rel.id, name: rel.name, attack: rel.attack };
    if (a.line === b.line) {
      pieces.push({ ...common, line: a.line, from: a, to: b, x1: a.x, x2: b.x, arrow: true });
    } else {
      // Towards the margin the text runs on to: in a right-to-left paragraph a line
      // goes on at the left margin and the next one starts at the right.
      const forward = b.line > a.line;
      const onwards = (end) => (forward !== end.rtl ? right : left);
      const back = (end) => (forward !== end.rtl ? left : right);
      pieces.push({ ...common, line: a.line, from: a, to: null, x1: a.x, x2: onwards(a),
                    arrow: false, half: "source" });
      pieces.push({ ...common, line: b.line, from: null, to: b, x1: back(b), x2: b.x,
                    arrow: true, half: "target" });
    }
  }
  // Spread the legs that meet one chip across its width, ordered by where they go.
  const ends = new Map();
  for (const p of pieces) {
    for (const [end, other] of [[p.from, p.x2], [p.to, p.x1]]) {
      if (!end) continue;
      if (!ends.has(end)) ends.set(end, []);
      ends.get(end).push({ p, end, other, first: end === p.from });
    }
  }
  for (const [end, legs] of ends) {
    legs.sort((u, v) => u.other - v.other);
    const room = Math.max(end.w - 6, 0);
    legs.forEach((leg, i) => {
      const x = legs.length === 1 ? end.x : end.x - room / 2 + (room * i) / (legs.length - 1);
      if (leg.first) leg.p.x1 = x;
      else leg.p.x2 = x;
    });
  }
  const byLine = new Map();
  for (const p of pieces) {
    const lo = Math.min(p.x1, p.x2);
    const hi = Math.max(p.x1, p.x2);
    p.w = labelWidth(p.name);
    // Centred on its level line, but never out over the text's edges.
    p.mid = Math.min(Math.max((lo + hi) / 2, left + p.w / 2), right - p.w / 2);
    p.extent = { lo: Math.min(lo, p.mid - p.w / 2), hi: Math.max(hi, p.mid + p.w / 2) };
    if (!byLine.has(p.line)) byLine.set(p.line, []);
    byLine.get(p.line).push(p);
  }
  const short = new Map();
  const firstChip = new Map();
  const lineHeight = parseFloat(getComputedStyle(textRoot).lineHeight) || 40;
  let lift = 0;
  for (const [line, list] of byLine) {
    const levels = layoutLevels(list.map((p) => p.extent));
    list.forEach((p, i) => {
      p.level = levels[i];
    });
    const top = lines[line][0];
    const floor = line > 0 ? lines[line - 1][1] + UNDERLINE_ROOM : textBox.top - base.top + 2;
    const need = LEG + Math.max(...levels) * LEVEL_HEIGHT + LABEL_HEIGHT / 2 + 2;
    if (top - floor < need) short.set(line, need - (top - floor));
    const chips = list.flatMap((p) => [p.from, p.to]).filter(Boolean);
    chips.sort((u, v) => u.x - v.x);
    if (chips.length) firstChip.set(line, chips[0].chip);
    // A strut must first reach the line's own top before it lifts it.
    const strutBase = chips[0]?.chip.querySelector(".strut")?.getBoundingClientRect().bottom;
    if (strutBase !== undefined) {
      const height = lines[line][1] - lines[line][0];
      lift = Math.max(lift, strutBase - base.top - top + (lineHeight - height) / 2);
    }
    for (const p of list) p.top = top;
  }
  return { pieces, short, firstChip, lift: Math.max(lift, 0) };
}

function render({ pieces }) {
  const paths = [];
  const labels = [];
  for (const p of pieces) {
    const y = p.top - LEG - p.level * LEVEL_HEIGHT;
    const kind = p.attack ? "attack" : "support";
    const down1 = p.from ? p.from.top : y;
    const down2 = p.to ? p.to.top : y;
    const d = `M ${p.x1} ${down1} L ${p.x1} ${y} L ${p.x2} ${y} L ${p.x2} ${down2}`;
    const marker = p.arrow ? ` marker-end="url(#arc-head-${kind})"` : "";
    const half = p.half ? ` data-half="${p.half}"` : "";
    paths.push(`<path class="arc arc-${kind}" data-relation="${p.id}"${half} d="${d}"${marker}></path>`);
    const x = p.mid - p.w / 2;
    labels.push(
      `<g class="arc-label arc-${kind}" data-relation="${p.id}"${half}>` +
        `<rect x="${x}" y="${y - LABEL_HEIGHT / 2}" width="${p.w}" height="${LABEL_HEIGHT}" rx="3"></rect>` +
        `<text x="${p.mid}" y="${y + 4}" text-anchor="middle">${escapeXml(p.name)}</text></g>`,
    );
  }
  const heads =
    '<defs><marker id="arc-head-support" class="arc-head-support" viewBox="0 0 10 10" refX="9" refY="5" ' +
    'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"></path></marker>' +
    '<marker id="arc-head-attack" class="arc-head-attack" viewBox="0 0 10 10" refX="9" refY="5" ' +
    'markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 M0,0 L0,10"></path></marker></defs>';
  return `${heads}${paths.join("")}${labels.join("")}`;
}

export { SVG };
