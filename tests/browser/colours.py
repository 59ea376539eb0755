"""Colours as Chromium paints them, for the browser tests' contrast and colour checks."""

from __future__ import annotations

import re

# A computed colour -> [r, g, b, a] in 0..255, as Chromium paints it on a canvas (it
# resolves relative colours, oklch() and light-dark() itself).
_PAINT = """(css) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = css;
  ctx.fillRect(0, 0, 1, 1);
  return Array.from(ctx.getImageData(0, 0, 1, 1).data);
}"""

# The first colour of a computed background-image (Chromium writes the resolved colour of
# each gradient stop: "linear-gradient(oklch(0.72 0.15 264.38), ...), ...").
_FIRST_STOP = re.compile(r"linear-gradient\((\w+\([^()]*\))")


def painted(page, css: str) -> list[int]:
    """[r, g, b, a] (0..255) of the CSS colour ``css``."""
    return page.evaluate(_PAINT, css)


def underline_colour(page, selector: str) -> list[int]:
    """[r, g, b, a] of the innermost underline (lane 0) of the text segment ``selector``."""
    # The text can be in the page before its stylesheet has applied (a click's navigation
    # does not wait for the load event): wait for the underline's gradient.
    image = page.wait_for_function(
        """(s) => {
          const image = getComputedStyle(document.querySelector(s)).backgroundImage;
          return image.startsWith("linear-gradient") && image;
        }""",
        arg=selector,
    ).json_value()
    match = _FIRST_STOP.match(image)
    assert match, f"no underline colour in {selector}'s background-image: {image}"
    return painted(page, match.group(1))
