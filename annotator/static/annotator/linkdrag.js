// Relations by drag: press on a span's label chip, drag onto another span, release.
//
// While dragging, a line follows the pointer and the span under it is marked as
// the drop target; releasing on a span calls `onDrop(source, target, x, y)`
// (client coordinates) and the page offers the types the schema allows for
// that pair at the drop point. A press that does not move is a click (it
// selects the span, as a click on its text does).

const THRESHOLD_PX = 4;
const SVG = "http://www.w3.org/2000/svg";

export function enableLinkDrag({ view, wrap, canStart, onDrop, onCancel }) {
  let drag = null;
  let swallowClick = false;
  const line = document.createElementNS(SVG, "svg");
  line.classList.add("drag-line");
  line.setAttribute("aria-hidden", "true");
  line.innerHTML = '<line x1="0" y1="0" x2="0" y2="0"></line>';
  wrap.append(line);

  function targetAt(x, y) {
    const ids = view.spansAt(document.elementFromPoint(x, y));
    const others = ids.filter((id) => id !== drag.source);
    return others.length ? others[others.length - 1] : null;
  }

  function mark(id) {
    for (const el of view.root.querySelectorAll(".drop-target")) el.classList.remove("drop-target");
    if (id == null) return;
    for (const el of view.segmentsOf(id)) el.classList.add("drop-target");
    view.chipOf(id)?.classList.add("drop-target");
  }

  function end() {
    mark(null);
    line.classList.remove("active");
    view.root.classList.remove("linking-drag");
    drag = null;
  }

  view.root.addEventListener("pointerdown", (event) => {
    const chip = event.target.closest?.(".tag");
    if (!chip || event.button !== 0 || !canStart()) return;
    event.preventDefault(); // no text selection starts on a chip
    chip.setPointerCapture(event.pointerId);
    drag = { source: Number(chip.dataset.span), chip, x: event.clientX, y: event.clientY, moved: false };
  });

  view.root.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (!drag.moved && Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < THRESHOLD_PX) return;
    drag.moved = true;
    view.root.classList.add("linking-drag");
    const base = wrap.getBoundingClientRect();
    const from = drag.chip.getBoundingClientRect();
    const el = line.firstChild;
    el.setAttribute("x1", from.left + from.width / 2 - base.left);
    el.setAttribute("y1", from.top - base.top);
    el.setAttribute("x2", event.clientX - base.left);
    el.setAttribute("y2", event.clientY - base.top);
    line.classList.add("active");
    mark(targetAt(event.clientX, event.clientY));
  });

  view.root.addEventListener("pointerup", (event) => {
    if (!drag) return;
    const { source, moved } = drag;
    const target = moved ? targetAt(event.clientX, event.clientY) : null;
    end();
    if (!moved) return; // a click: the page's click handler selects the span
    swallowClick = true;
    if (target == null) onCancel?.("Dropped on no other span: no relation made.");
    else onDrop(source, target, event.clientX, event.clientY);
  });

  view.root.addEventListener("pointercancel", end);

  // The click that follows a drag's release is not a click on the span.
  view.root.addEventListener(
    "click",
    (event) => {
      if (swallowClick) {
        swallowClick = false;
        event.stopImmediatePropagation();
        event.preventDefault();
      }
    },
    true,
  );

  return { get active() { return drag?.moved === true; }, cancel: end };
}
