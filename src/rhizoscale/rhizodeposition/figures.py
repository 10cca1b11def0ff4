"""Figures of rhizodeposition fields (matplotlib Figure objects; nothing is written here)."""

from __future__ import annotations

import numpy as np

__all__ = ["vertical_cut_figure", "hotspot_map_figure", "single_root_panel", "hotspot_vs_rate_figure"]


def _cut(field, grid, y=None):
    ys = grid.centers("y")
    j = int(np.argmin(np.abs(ys - (0.0 if y is None else y)))) if y is not None else int(np.argmax(field.max(axis=(0, 2))))
    return field[:, j, :], ys[j]


def vertical_cut_figure(fields: dict, grid, title: str = "", y: float | None = None, vmin_fraction=1e-4):
    """x-z cuts of concentration [ug cm-3] in log colour scale, one panel per exudate (Fig. 3a,b).

    Parameters
    ----------
    fields : dict of str to ndarray (z, y, x)
        Liquid concentration [ug cm-3] per exudate name.
    grid : RegularGrid
        The grid of the fields.
    title : str
        Figure title.
    y : float, optional
        y [cm] of the cut (default: the plane holding the largest value).
    vmin_fraction : float
        Lower end of the colour scale relative to each panel's maximum.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    fig, axes = plt.subplots(1, len(fields), figsize=(4.5 * len(fields), 6), squeeze=False)
    ext = [grid.lower[0], grid.upper[0], grid.lower[2], grid.upper[2]]
    for ax, (name, c) in zip(axes[0], fields.items()):
        cut, yy = _cut(c, grid, y)
        vmax = max(float(cut.max()), 1e-30)
        im = ax.imshow(np.where(cut > 0, cut, np.nan), origin="lower", extent=ext, aspect="equal",
                       norm=LogNorm(vmin=vmax * vmin_fraction, vmax=vmax), cmap="viridis")
        ax.set_title(f"{name} (y = {yy:.2f} cm)")
        ax.set_xlabel("x [cm]")
        ax.set_ylabel("z [cm]")
        fig.colorbar(im, ax=ax, label="c [ug cm-3 liquid]")
    if title:
        fig.suptitle(title)
    return fig


def hotspot_map_figure(durations: dict, grid, title: str = ""):
    """Hotspot duration [d] projected onto the x-z plane (maximum over y) (Fig. 3c,d).

    Parameters
    ----------
    durations : dict of str to ndarray (z, y, x)
        Days above the threshold per exudate name (see
        :func:`~rhizoscale.rhizodeposition.hotspot_duration_update`).
    grid : RegularGrid
        The grid of the fields.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(durations), figsize=(4.5 * len(durations), 6), squeeze=False)
    ext = [grid.lower[0], grid.upper[0], grid.lower[2], grid.upper[2]]
    for ax, (name, d) in zip(axes[0], durations.items()):
        proj = d.max(axis=1)
        im = ax.imshow(np.where(proj > 0, proj, np.nan), origin="lower", extent=ext, aspect="equal", cmap="magma_r")
        ax.set_title(f"{name}: days above threshold")
        ax.set_xlabel("x [cm]")
        ax.set_ylabel("z [cm]")
        fig.colorbar(im, ax=ax, label="hotspot duration [d]")
    if title:
        fig.suptitle(title)
    return fig


def single_root_panel(cuts: dict, extent, threshold: float, title: str = ""):
    """Concentration around single straight roots at several elongation rates (Fig. 4).

    Parameters
    ----------
    cuts : dict of float to ndarray (z, x)
        An x-z cut of the liquid concentration [ug cm-3] per elongation rate [cm d-1].
    extent : 4 floats
        ``(x_min, x_max, z_min, z_max)`` of the cuts [cm].
    threshold : float
        Hotspot threshold [ug cm-3], drawn as a contour.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    fig, axes = plt.subplots(1, len(cuts), figsize=(3 * len(cuts), 6), squeeze=False)
    vmax = max(float(np.max(c)) for c in cuts.values())
    for ax, (v, cut) in zip(axes[0], cuts.items()):
        im = ax.imshow(np.where(cut > 0, cut, np.nan), origin="lower", extent=extent, aspect="auto",
                       norm=LogNorm(vmin=vmax * 1e-4, vmax=vmax), cmap="viridis")
        if np.any(cut > threshold):
            xs = np.linspace(extent[0], extent[1], cut.shape[1])
            zs = np.linspace(extent[2], extent[3], cut.shape[0])
            ax.contour(xs, zs, cut, levels=[threshold], colors="r", linewidths=0.8)
        ax.set_title(f"v = {v:g} cm/d")
        ax.set_xlabel("x [cm]")
    axes[0][0].set_ylabel("z [cm]")
    fig.colorbar(im, ax=axes[0].tolist(), label="c [ug cm-3 liquid]")
    if title:
        fig.suptitle(title)
    return fig


def hotspot_vs_rate_figure(rates, volumes: dict, title: str = ""):
    """Hotspot volume [cm3] against root elongation rate [cm d-1], one line per exudate.

    Parameters
    ----------
    rates : sequence of float
        Elongation rates [cm d-1].
    volumes : dict of str to sequence of float
        Hotspot volume [cm3] at each rate, per exudate name.
    title : str
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from rhizoscale.rhizodeposition.figures import hotspot_vs_rate_figure
    >>> fig = hotspot_vs_rate_figure([0.1, 0.2, 0.5, 1.0], {"mucilage": [0.062, 0.066, 0.061, 0.050]})
    >>> fig.axes[0].get_xlabel()
    'elongation rate [cm d-1]'
    """
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, vol in volumes.items():
        ax.plot(rates, vol, "o-", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("elongation rate [cm d-1]")
    ax.set_ylabel("hotspot volume [cm3]")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig
