"""What can be checked automatically about a figure a journal would accept.

``figure_defects(fig)`` lists, in words:

* tick labels, axis labels or titles of one axes running into another axes (colour bars
  included) or into each other on one axis;
* lines drawn with a non-solid style (dashed, dotted) and contour lines that no legend
  explains;
* colour bars without a label that states units in brackets (``[µg cm⁻³]``, ``[–]``);
* axes that show nothing (no image, line, collection, patch or text).
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

from matplotlib.contour import ContourSet  # noqa: E402

UNITS = re.compile(r"\[[^\]]+\]")


def _colorbar(ax):
    return getattr(ax, "_colorbar", None)


def _tick_labels(axis):
    """The tick labels an axis draws (those within its view interval)."""
    lo, hi = sorted(axis.get_view_interval())
    eps = 1e-9 * max(abs(lo), abs(hi), 1e-300)
    out = []
    for minor in (False, True):
        for loc, t in zip(axis.get_ticklocs(minor=minor), axis.get_ticklabels(minor=minor)):
            if lo - eps <= loc <= hi + eps and t.get_visible() and t.get_text():
                out.append(t)
    return out


def _texts(ax, renderer):
    """Visible tick labels, axis labels and title boxes of one axes (display units)."""
    out = []
    for axis in (ax.xaxis, ax.yaxis):
        if not axis.get_visible():
            continue
        for t in _tick_labels(axis):
            out.append(("tick label " + t.get_text(), t.get_window_extent(renderer)))
        lab = axis.label
        if lab.get_visible() and lab.get_text():
            out.append(("axis label " + lab.get_text(), lab.get_window_extent(renderer)))
    for t in (ax.title, ax._left_title, ax._right_title):
        if t.get_visible() and t.get_text():
            out.append(("title " + t.get_text(), t.get_window_extent(renderer)))
    return out


def _overlap(a, b, tol=1.0):
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tol) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tol)


def _legend_labels(fig):
    labels = set()
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None:
            labels |= {t.get_text() for t in leg.get_texts()}
    for leg in fig.legends:
        labels |= {t.get_text() for t in leg.get_texts()}
    return labels


def _has_content(ax):
    if ax.images or ax.texts or ax.tables:
        return True
    if any(line.get_visible() and len(line.get_xdata()) for line in ax.lines):
        return True
    if any(c.get_visible() for c in ax.collections):
        return True
    return any(p.get_visible() for p in ax.patches)


def figure_defects(fig) -> list[str]:
    """Defects of ``fig`` found automatically (empty when none)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    defects = []
    axes = [ax for ax in fig.axes if ax.get_visible()]
    boxes = {ax: _texts(ax, renderer) for ax in axes}
    # text of one axes over another axes' texts or plotting area
    for i, a in enumerate(axes):
        for b in axes[i + 1:]:
            for name_a, box_a in boxes[a]:
                for name_b, box_b in boxes[b]:
                    if _overlap(box_a, box_b):
                        defects.append(f"{name_a!r} overlaps {name_b!r}")
            for first, second in ((a, b), (b, a)):
                if not second.axison or _colorbar(second) is not None and _colorbar(first) is not None:
                    continue
                area = second.get_window_extent(renderer)
                for name, box in boxes[first]:
                    if _overlap(box, area, tol=2.0):
                        defects.append(f"{name!r} runs into another panel")
    # tick labels of one axis into each other
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            ext = [(t.get_text(), t.get_window_extent(renderer)) for t in _tick_labels(axis)]
            for k, (na, ba) in enumerate(ext):
                for nb, bb in ext[k + 1:]:
                    if _overlap(ba, bb, tol=-2.0):    # closer than 2 px counts
                        defects.append(f"tick labels {na!r} and {nb!r} overlap")
    # non-solid lines and contours without a legend entry
    # (one entry per style: a line style and colour explained once covers its other lines)
    labels = _legend_labels(fig)
    styles: dict = {}
    for ax in axes:
        for line in ax.lines:
            ls = line.get_linestyle()
            if line.get_visible() and ls not in ("-", "solid", "None", "none", "", " "):
                key = (ls, matplotlib.colors.to_hex(line.get_color()))
                styles.setdefault(key, []).append(line.get_label())
    for (ls, colour), names in styles.items():
        if not labels.intersection(names):
            defects.append(f"{ls!r} {colour} line {names[0]!r} has no legend entry")
        for c in ax.collections:
            if isinstance(c, ContourSet) and c.get_visible() and not labels:
                defects.append("contour lines without a legend")
    # colour bars: label with units
    for ax in axes:
        cb = _colorbar(ax)
        if cb is None:
            continue
        label = cb.ax.get_ylabel() if cb.orientation == "vertical" else cb.ax.get_xlabel()
        if not UNITS.search(label or ""):
            defects.append(f"colour bar label {label!r} states no units in [brackets]")
    # empty axes
    for ax in axes:
        if _colorbar(ax) is None and ax.axison and not _has_content(ax):
            defects.append(f"empty axes {ax.get_title()!r}")
    return defects


__all__ = ["figure_defects"]
