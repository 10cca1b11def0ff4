"""Figures of case study 4's mucilage bridge (in the spirit of the paper's Fig. 11a)."""

from __future__ import annotations

import numpy as np

__all__ = ["drying_snapshots_figure", "drying_curves_figure"]


def _label(c: float) -> str:
    return "water only" if c == 0 else f"mucilage {c:g} mg/g"


def drying_snapshots_figure(runs: dict, radius: float, separation: float):
    """Rows: water only (top) and each mucilage concentration; columns: drying snapshots.

    ``runs``: concentration -> dict with ``times``, ``positions`` (list of (n, 3)),
    ``wet`` (list of (n,)), ``bridges`` (list of [intact, r1, r2, half_length, beta]) and
    ``water`` (list, µm3 in the pore at each snapshot). Side view (x along the particle
    line, y across), beads projected.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    conc = sorted(runs)
    ncol = max(len(runs[c]["times"]) for c in conc)
    fig, axes = plt.subplots(len(conc), ncol, figsize=(2.6 * ncol, 2.5 * len(conc)), squeeze=False,
                             layout="constrained", sharex=True, sharey=True)
    h = radius + 0.5 * separation
    reach = 0.0
    for c in conc:
        for b in runs[c]["bridges"]:
            reach = max(reach, b[1] + b[2] if b[0] else 0.0)
        for p in runs[c]["positions"]:
            if len(p):
                reach = max(reach, float(np.abs(p[:, 1]).max()))
    reach = min(max(reach * 1.15, 3 * separation), radius)
    xlim = 0.5 * separation + 0.6 * reach
    for row, c in enumerate(conc):
        r = runs[c]
        for col in range(ncol):
            ax = axes[row, col]
            ax.set_aspect("equal")
            ax.set_xlim(-xlim, xlim)
            ax.set_ylim(-reach, reach)
            if col >= len(r["times"]):
                ax.axis("off")
                continue
            for sign in (-1, 1):
                ax.add_patch(Circle((sign * h, 0), radius, color="0.75", zorder=2))
            intact, r1, r2, half, beta = r["bridges"][col]
            if intact:
                x = np.linspace(-half, half, 200)
                y = r1 + r2 - np.sqrt(np.maximum(r1 * r1 - x * x, 0))
                ax.fill_between(x, -y, y, color="#9ecae1", alpha=0.8, lw=0, zorder=1)
            p, wet = r["positions"][col], r["wet"][col].astype(bool)
            if len(p):
                ax.scatter(p[~wet, 0], p[~wet, 1], s=1.5, color="#8c510a", lw=0, zorder=3)
                ax.scatter(p[wet, 0], p[wet, 1], s=1.5, color="#01665e", lw=0, zorder=4)
            ax.set_title(f"t = {r['times'][col]:g} s, water {r['water'][col]:.3g} µm³", fontsize=7)
            if col == 0:
                ax.set_ylabel(f"{_label(c)}\ny [µm]", fontsize=8)
            if row == len(conc) - 1:
                ax.set_xlabel("x [µm]", fontsize=8)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"Drying pendular bridge between sand grains (R = {radius:g} µm, gap {separation:g} µm): "
                 "liquid (blue), mucilage beads in the liquid (green) and outside it (brown)", fontsize=9)
    return fig


def drying_curves_figure(series: dict, lian_volume: float):
    """Water in the pore and liquid connection versus drying time, per concentration."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for k, c in enumerate(sorted(series)):
        s = series[c]
        colour = f"C{k}"
        ax.plot(s["time"], s["total_water"], color=colour, label=_label(c))
        ax.plot(s["time"], s["liquid_volume"], color=colour, ls=":", lw=1)
        lost = np.flatnonzero(s["connected"] < 0.5)
        if lost.size:
            i = lost[0]
            ax.plot(s["time"][i], s["total_water"][i], "v", color=colour, mec="k", ms=8)
        ax2.plot(s["time"], s["intact_bonds"] / max(s["intact_bonds"][0], 1.0), color=colour, label=_label(c))
    ax.axhline(lian_volume, color="k", ls="--", lw=0.8, label="Lian et al. (1993) rupture volume")
    ax.set_xlabel("drying time [s]")
    ax.set_ylabel("water in the pore [µm³] (dotted: bridge liquid)")
    ax.set_title("drying curves; ▼ liquid connection lost", fontsize=9)
    ax.legend(fontsize=7)
    ax2.set_xlabel("drying time [s]")
    ax2.set_ylabel("intact bonds / initial [1]")
    ax2.set_title("network integrity", fontsize=9)
    return fig


def resolved_drying_figure(resolved: dict, fast: dict, sections: list, lian_volume: float):
    """Resolved mode: liquid connection per stage and concentration, resolved (solid) and
    fast mode (dashed) on the same water schedule (grey, right axis); central sections
    (z = mid) of the first, the last connected and the first ruptured stage image."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    fig = plt.figure(figsize=(12, 4), layout="constrained")
    grid = fig.add_gridspec(1, 1 + len(sections), width_ratios=[2.2] + [1] * len(sections))
    ax = fig.add_subplot(grid[0, 0])
    conc = sorted(resolved)
    for k, c in enumerate(conc):
        colour = f"C{k}"
        for series, style, shift, mode in ((resolved.get(c), "-", 0.0, "resolved"),
                                           (fast.get(c), "--", 0.4, "fast")):
            if series is None:
                continue
            ax.step(series["time"], k + shift + 0.3 * series["connected"], style, where="post", color=colour,
                    label=f"{_label(c)}, {mode}")
    ax.set_yticks([k + 0.35 for k in range(len(conc))], [_label(c) for c in conc], fontsize=7)
    ax.set_xlabel("drying stage (images, then drying after the rupture)")
    ax.set_title("liquid connection (step up: connected); solid resolved, dashed fast", fontsize=9)
    water = resolved[conc[0]]
    twin = ax.twinx()
    twin.plot(water["time"], water["total_water"], color="0.6", lw=1)
    twin.axhline(lian_volume, color="0.6", ls=":", lw=0.8)
    twin.set_yscale("log")
    twin.set_ylabel("water in the pore, water only [µm³] (dotted: Lian)", fontsize=7, color="0.4")
    cmap = ListedColormap(["white", "0.45", "#4393c3"])
    for j, (title, section) in enumerate(sections):
        a = fig.add_subplot(grid[0, 1 + j])
        a.imshow(section, cmap=cmap, vmin=0, vmax=2, origin="lower", interpolation="nearest")
        a.set_title(title, fontsize=8)
        a.set_xticks([])
        a.set_yticks([])
    fig.suptitle("Mucilage network dried through lattice-Boltzmann stage images (resolved) and the "
                 "toroidal bridge (fast); sections: air white, grains grey, water blue", fontsize=9)
    return fig
