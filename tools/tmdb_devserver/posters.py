"""Placeholder posters for the dev server: a pinned SVG per image path, so demo images load.

The same path always gives the same bytes (colours come from a hash of the path), and the
movie's title is written on it when the path belongs to a catalogue movie.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from xml.sax.saxutils import escape

SIZE = re.compile(r"^(?:w(?P<w>\d{2,4})|h(?P<h>\d{2,4})|original)$")
DEFAULT_WIDTH = 500


def poster_svg(path: str, size: str, title: str | None) -> bytes | None:
    """An SVG poster (2:3) for ``path`` at a TMDb ``size`` (``w500``, ``h632``, ``original``);
    None for a size TMDb would not serve."""
    found = SIZE.match(size)
    if found is None:
        return None
    if found["w"]:
        width = int(found["w"])
    elif found["h"]:
        width = int(found["h"]) * 2 // 3
    else:
        width = DEFAULT_WIDTH
    height = width * 3 // 2
    digest = hashlib.sha256(path.encode()).digest()
    hue, hue2 = digest[0] * 360 // 256, digest[1] * 360 // 256
    lines = textwrap.wrap(title or "movierec", width=16)[:5] or ["movierec"]
    font = max(10, width // 12)
    top = height // 2 - (len(lines) - 1) * font * 6 // 10
    text = "".join(
        f'<text x="50%" y="{top + i * font * 12 // 10}" text-anchor="middle" '
        f'font-family="sans-serif" font-size="{font}" fill="#fff">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue},55%,35%)"/>'
        f'<stop offset="1" stop-color="hsl({hue2},55%,15%)"/></linearGradient></defs>'
        f'<rect width="100%" height="100%" fill="url(#g)"/>{text}'
        f'<text x="50%" y="{height - font}" text-anchor="middle" font-family="sans-serif" '
        f'font-size="{max(8, font // 2)}" fill="#ddd">demo placeholder</text></svg>'
    )
    return svg.encode()
