"""Figures of root systems (matplotlib): architecture coloured by age, depth profiles.

Functions return a :class:`matplotlib.figure.Figure`; saving it is the run loop's job.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_root_system", "plot_depth_profile"]


def plot_root_system(root_system, *, color_by: str = "age", view: str = "xz", ax=None,
                     linewidth_scale: float = 20.0, cmap: str = "viridis_r", title: str | None = None):
    """Project a root system on a plane, each segment coloured by age, order or type.

    Like Fig. 6 (left) of Landl et al. (2021): younger segments near the tips, older near
    the collar.

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
    cmap : str
        Colour map (colour-blind safe by default).
    title : str, optional
        Axes title (default: number of roots, length and age).

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
    if ax is None:
        lo, hi = rs.bounds()
        w = max(hi[axes[0]] - lo[axes[0]], 1e-6)
        h = max(hi[axes[1]] - lo[axes[1]], 1e-6)
        fig, ax = plt.subplots(figsize=(min(3 + 6 * w / h, 10), 7))
    else:
        fig = ax.figure
    s = rs.segments
    segs = np.stack([rs.nodes[s[:, 0]][:, axes], rs.nodes[s[:, 1]][:, axes]], axis=1)
    if color_by == "age":
        values, label = rs.time - rs.segment_time, "age [d]"
    elif color_by == "creation_time":
        values, label = rs.segment_time, "creation time [d]"
    elif color_by == "order":
        values, label = rs.root_order[rs.segment_root].astype(float), "root order"
    elif color_by == "type":
        values, label = rs.root_type[rs.segment_root].astype(float), "root type"
    else:
        raise ValueError(f"color_by must be age, creation_time, order or type, not {color_by!r}")
    lc = LineCollection(segs, array=values, cmap=cmap,
                        linewidths=np.maximum(0.3, linewidth_scale * rs.segment_radius))
    ax.add_collection(lc)
    ax.autoscale()
    ax.set_aspect("equal")
    names = "xyz"
    ax.set_xlabel(f"{names[axes[0]]} [cm]")
    ax.set_ylabel(f"{names[axes[1]]} [cm]")
    fig.colorbar(lc, ax=ax, label=label, shrink=0.8)
    ax.set_title(title or f"{rs.n_roots} roots, {rs.total_length():.0f} cm, {rs.time:g} d")
    return fig


def plot_depth_profile(root_systems, labels=None, *, dz: float = 1.0, ax=None, reference=None):
    """Root length per depth layer for one or several root systems.

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
    'root length per depth [cm cm$^{-1}$]'
    """
    import matplotlib.pyplot as plt

    if not isinstance(root_systems, (list, tuple)):
        root_systems = [root_systems]
    labels = labels or [None] * len(root_systems)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 6))
    else:
        fig = ax.figure
    zmin = min(rs.bounds()[0][2] for rs in root_systems)
    edges = np.arange(np.floor(zmin / dz) * dz, dz + 1e-9, dz)
    mids = 0.5 * (edges[1:] + edges[:-1])
    for rs, lab in zip(root_systems, labels):
        ax.plot(rs.depth_profile(edges) / dz, mids, label=lab)
    if reference is not None:
        e, v, lab = reference
        ax.plot(v, 0.5 * (np.asarray(e[1:]) + np.asarray(e[:-1])), "k--", label=lab)
    ax.set_xlabel("root length per depth [cm cm$^{-1}$]")
    ax.set_ylabel("z [cm]")
    if any(labels) or reference is not None:
        ax.legend()
    return fig
