"""Figures of root systems (matplotlib): architecture coloured by age, depth profiles.

Functions return a :class:`matplotlib.figure.Figure`; saving it is the run loop's job.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_root_system", "plot_depth_profile", "plant_label", "ROOT_AGE_CMAP"]

#: the colour map of root age in every figure: young tips bright (yellow), old roots dark
#: (viridis reversed; colour-blind safe and monotonic in lightness)
ROOT_AGE_CMAP = "viridis_r"


def plant_label(root_system) -> str:
    """What a figure title says about a root system.

    Parameters
    ----------
    root_system : RootSystem
        Its metadata name the parameter set and seed (grown) or the file (read).

    Returns
    -------
    str
        ``"Vicia faba, seed 1"`` for a grown system, the file name for one read from
        RSML, ``""`` when nothing is known.

    Examples
    --------
    >>> from rhizoscale.plant import grow_root_system
    >>> from rhizoscale.plant.figures import plant_label
    >>> plant_label(grow_root_system("vicia_faba", 2, seed=3))
    'Vicia faba, seed 3'
    """
    from pathlib import Path
    meta = root_system.metadata or {}
    name = meta.get("parameters")
    if name:
        name = Path(str(name)).stem.replace("_", " ")
        name = name[:1].upper() + name[1:]
        return f"{name}, seed {meta['seed']}" if meta.get("seed") is not None else name
    if meta.get("source"):
        return Path(str(meta["source"])).name
    return ""


def plot_root_system(root_system, *, color_by: str = "age", view: str = "xz", ax=None,
                     linewidth_scale: float = 20.0, cmap: str | None = None, title: str | None = None):
    """Project a root system on a plane, each segment coloured by age, order or type.

    Like Fig. 6 (left) of Landl et al. (2021): younger segments near the tips, older near
    the collar. Age uses :data:`ROOT_AGE_CMAP` (young bright, old dark) as every figure does.

    Parameters
    ----------
    root_system : RootSystem
        The roots to draw.
    color_by : {"age", "creation_time", "order", "type"}
        ``age`` is the observation time minus the segment's creation time [d].
    view : {"xz", "yz", "xy"}
        Projection plane (horizontal axis, vertical axis).
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (default: a new figure).
    linewidth_scale : float
        Line width in points per cm of root radius (minimum 0.3 pt).
    cmap : str, optional
        Colour map (default: :data:`ROOT_AGE_CMAP` for age, viridis otherwise; both
        colour-blind safe).
    title : str, optional
        Default: plant, seed, time, roots and length.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from rhizoscale.plant import grow_root_system
    >>> from rhizoscale.plant.figures import plot_root_system
    >>> fig = plot_root_system(grow_root_system("vicia_faba", 7, seed=1), color_by="order")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('x [cm]', 'z [cm]')
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    rs = root_system
    axes = {"xz": (0, 2), "yz": (1, 2), "xy": (0, 1)}[view]
    lo, hi = rs.bounds()
    w = max(hi[axes[0]] - lo[axes[0]], 1e-6)
    h = max(hi[axes[1]] - lo[axes[1]], 1e-6)
    # a panel at least 0.4 times as wide as high: a single root is no sliver with
    # tick labels running into each other
    w_shown = max(w, 0.4 * h)
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(2.5 + 6 * w_shown / h, 10), 7), layout="constrained")
    else:
        fig = ax.figure
    s = rs.segments
    segs = np.stack([rs.nodes[s[:, 0]][:, axes], rs.nodes[s[:, 1]][:, axes]], axis=1)
    if color_by == "age":
        values, label, cmap = rs.time - rs.segment_time, "root age [d]", cmap or ROOT_AGE_CMAP
    elif color_by == "creation_time":
        values, label = rs.segment_time, "creation time [d]"
    elif color_by == "order":
        values, label = rs.root_order[rs.segment_root].astype(float), "root order [–]"
    elif color_by == "type":
        values, label = rs.root_type[rs.segment_root].astype(float), "root type [–]"
    else:
        raise ValueError(f"color_by must be age, creation_time, order or type, not {color_by!r}")
    lc = LineCollection(segs, array=values, cmap=cmap or "viridis",
                        linewidths=np.maximum(0.3, linewidth_scale * rs.segment_radius))
    ax.add_collection(lc)
    mid = 0.5 * (lo[axes[0]] + hi[axes[0]])
    pad = 0.05 * max(w_shown, h)
    ax.set_xlim(mid - w_shown / 2 - pad, mid + w_shown / 2 + pad)
    ax.set_ylim(lo[axes[1]] - pad, hi[axes[1]] + pad)
    ax.set_aspect("equal")
    names = "xyz"
    ax.set_xlabel(f"{names[axes[0]]} [cm]")
    ax.set_ylabel(f"{names[axes[1]]} [cm]")
    fig.colorbar(lc, ax=ax, label=label, shrink=0.6)
    if title is None:
        who = plant_label(rs)
        n = rs.n_roots
        title = (f"{who + ', ' if who else ''}day {rs.time:g}\n{n} root{'s' if n != 1 else ''}, "
                 f"{rs.total_length():.0f} cm")
    ax.set_title(title)
    return fig


def plot_depth_profile(root_systems, labels=None, *, dz: float = 1.0, ax=None, reference=None,
                       title: str | None = None):
    """Root length per depth layer for one or several root systems.

    Layers run from the soil surface (z = 0) down; each profile is drawn as steps (one
    value per layer) with its own line style.

    Parameters
    ----------
    root_systems : RootSystem or list of RootSystem
        The systems to compare.
    labels : list of str, optional
        Legend entries.
    dz : float
        Layer thickness [cm].
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (default: a new figure).
    reference : (edges, values, label), optional
        A profile to draw for comparison (e.g. CPlantBox's mean).
    title : str, optional
        Default: plant and time of the first root system.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from rhizoscale.plant import grow_root_system
    >>> from rhizoscale.plant.figures import plot_depth_profile
    >>> systems = [grow_root_system("vicia_faba", 10, seed=s) for s in (1, 2)]
    >>> fig = plot_depth_profile(systems, ["seed 1", "seed 2"], dz=2.0)
    >>> fig.axes[0].get_xlabel()
    'root length per depth [cm cm⁻¹]'
    """
    import matplotlib.pyplot as plt

    if not isinstance(root_systems, (list, tuple)):
        root_systems = [root_systems]
    labels = labels or [None] * len(root_systems)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 6), layout="constrained")
    else:
        fig = ax.figure
    zmin = min(rs.bounds()[0][2] for rs in root_systems)
    zmax = max(rs.bounds()[1][2] for rs in root_systems)
    top = max(0.0, np.ceil(zmax / dz - 1e-9) * dz)  # the soil surface, unless roots lie above it
    edges = np.arange(np.floor(zmin / dz) * dz, top + 1e-9, dz)
    styles = ["-", "--", ":", "-."]
    for k, (rs, lab) in enumerate(zip(root_systems, labels)):
        per_depth = rs.depth_profile(edges) / dz
        ax.stairs(per_depth, edges, orientation="horizontal", baseline=None,
                  linestyle=styles[k % len(styles)], color=f"C{k % 10}", label=lab, lw=1.5)
    if reference is not None:
        e, v, lab = reference
        ax.stairs(v, e, orientation="horizontal", baseline=None, color="k", linestyle="--", label=lab)
    ax.set_xlabel("root length per depth [cm cm⁻¹]")
    ax.set_ylabel("z [cm] (soil surface at 0)")
    ax.set_ylim(edges[0], edges[-1])
    ax.set_xlim(left=0)
    if any(labels) or reference is not None:
        ax.legend()
    if title is None:
        rs = root_systems[0]
        who = plant_label(rs)
        if len(root_systems) > 1:   # the seeds are in the legend
            who = who.split(", seed")[0]
        title = f"{who + ', ' if who else ''}day {rs.time:g}"
    ax.set_title(title)
    return fig
