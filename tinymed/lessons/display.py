"""What the runner shows of a cell's value: the value a notebook would show, within a screen.

A notebook shows the value of a cell's last expression.  On a terminal a long value is noise
that scrolls the explanation away, so :func:`format_value` keeps it to a screen: a container
that would not fit is summarised (its length, the types it holds, its first item), other text
is cut after a screenful with a note of how much was left out, and matplotlib objects (the
``[<Line2D ...>]`` a plotting call returns) are not shown at all, because the figure itself is
what the lesson saves.
"""

from __future__ import annotations

from collections import Counter

SCREEN_LINES = 20


def _is_plot_object(value) -> bool:
    """A matplotlib object, or a non-empty list or tuple of them."""
    if isinstance(value, (list, tuple)) and value:
        return all(_is_plot_object(item) for item in value)
    return type(value).__module__.split(".")[0] == "matplotlib"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def _container_summary(value, width: int) -> str:
    items = list(value.items()) if isinstance(value, dict) else list(value)
    kinds = Counter(type(v if not isinstance(value, dict) else v[1]).__name__ for v in items)
    held = ", ".join(f"{count:,} {name}" for name, count in kinds.most_common(3))
    more = "" if len(kinds) <= 3 else f" and {len(kinds) - 3} other types"
    noun = "item" if len(items) == 1 else "items"
    lines = [f"{type(value).__name__} of {len(items):,} {noun} ({held}{more}); the first:"]
    if items:
        first = repr(items[0]) if not isinstance(value, dict) else f"{items[0][0]!r}: {items[0][1]!r}"
        lines.append("  " + _clip(first, width - 2))
    return "\n".join(lines)


def format_value(value, width: int = 100, max_lines: int = SCREEN_LINES):
    """The text to show for a cell's value, or None when nothing should be shown (``None`` itself
    and matplotlib objects).  ``repr(value)`` when it fits in ``max_lines`` rows of ``width``
    columns, else a summary of at most that many rows."""
    if value is None or _is_plot_object(value):
        return None
    containers = (list, tuple, set, frozenset, dict)
    if isinstance(value, containers) and 3 * len(value) > width * max_lines:
        return _container_summary(value, width)  # too long to show whatever it holds: skip its repr
    text = repr(value)
    lines = text.splitlines() or [""]
    rows = sum(max(1, -(-len(line) // width)) for line in lines)  # as the terminal wraps them
    if rows <= max_lines:
        return text
    if isinstance(value, containers):
        return _container_summary(value, width)
    shown = [_clip(line, width) for line in lines[: max_lines - 1]]
    if len(lines) == 1:
        shown.append(f"… ({len(text):,} characters in all, cut at {width} columns)")
    else:
        shown.append(f"… ({len(lines):,} lines, {len(text):,} characters in all: the first {len(shown)} "
                     f"are shown, each cut at {width} columns)")
    return "\n".join(shown)
