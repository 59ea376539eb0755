// Search in the brief: a find box that highlights every match and steps through them.
//
// Matching ignores case (a Unicode regular expression with the "i" flag, so
// that offsets are the text's own). Matches are highlighted with the CSS
// Custom Highlight API, which leaves the DOM alone; the current one is
// highlighted apart and scrolled into view. Offsets are code points.

const MAX_MATCHES = 5000; // a search for "e" in a long brief stops here (and says so)

export class FindBar {
  constructor({ form, input, count, view, onClose }) {
    this.form = form;
    this.input = input;
    this.count = count;
    this.view = view;
    this.onClose = onClose;
    this.matches = [];
    this.current = -1;
    this.capped = false;
    input.addEventListener("input", () => this.search());
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.step(event.shiftKey ? -1 : 1);
      } else if (event.key === "Escape") {
        event.preventDefault();
        this.close({ select: true });
      }
    });
    form.addEventListener("submit", (event) => event.preventDefault());
  }

  get isOpen() {
    return !this.form.hidden;
  }

  open() {
    this.form.hidden = false;
    this.input.focus();
    this.input.select();
    if (this.input.value) this.search();
  }

  /** Close the box; with `select`, the current match becomes the text selection. */
  close({ select = false } = {}) {
    const match = this.matches[this.current];
    this.form.hidden = true;
    this.clear();
    this.onClose?.(select ? match : null);
  }

  clear() {
    if (window.CSS?.highlights) {
      CSS.highlights.delete("find");
      CSS.highlights.delete("find-current");
    }
  }

  search() {
    const query = this.input.value;
    this.matches = [];
    this.current = -1;
    this.capped = false;
    if (query.trim()) {
      const escaped = query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const pattern = new RegExp(escaped, "giu");
      const { text } = this.view;
      for (const m of text.matchAll(pattern)) {
        if (!m[0].length) continue;
        if (this.matches.length >= MAX_MATCHES) {
          this.capped = true;
          break;
        }
        this.matches.push([this.view.toPoints(m.index), this.view.toPoints(m.index + m[0].length)]);
      }
    }
    if (this.matches.length) this.current = 0;
    this.paint();
  }

  /** Draw the highlights again (after the text was redrawn). */
  refresh() {
    if (this.isOpen) this.paint({ scroll: false });
  }

  step(dir) {
    if (!this.matches.length) return;
    this.current = (this.current + dir + this.matches.length) % this.matches.length;
    this.paint();
  }

  paint({ scroll = true } = {}) {
    const n = this.matches.length;
    this.count.textContent = !this.input.value.trim()
      ? ""
      : n
        ? `${this.current + 1} of ${n}${this.capped ? "+" : ""}`
        : "no match";
    this.clear();
    if (!n || !window.CSS?.highlights) return;
    const ranges = this.matches.map(([s, e]) => this.view.range(s, e));
    CSS.highlights.set("find", new Highlight(...ranges));
    const current = ranges[this.current];
    CSS.highlights.set("find-current", new Highlight(current));
    if (scroll) {
      const node = current.startContainer.parentElement;
      node?.scrollIntoView({ block: "center" });
    }
  }
}
