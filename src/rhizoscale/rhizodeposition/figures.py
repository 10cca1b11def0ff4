"""Figures of rhizodeposition fields (matplotlib Figure objects; nothing is written here).

Conventions shared by every panel: concentrations in viridis on a log scale (values
below the colour range are drawn in its darkest colour, flagged on the colour bar), hotspot
durations in magma; only the soil is drawn (z <= 0, the soil surface at z = 0: the
fields are computed for an infinite medium and say nothing about the air above); panels
of one figure share their axes and, for cuts, the plane.
"""

from __future__ import annotations

import numpy as np

__all__ = ["vertical_cut_figure", "hotspot_map_figure", "single_root_panel", "hotspot_vs_rate_figure",
           "CONCENTRATION_LABEL"]

#: colour bar label of liquid concentrations
CONCENTRATION_LABEL = "liquid concentration [µg cm⁻³]"


def _number(x: float) -> str:
    """A threshold as people write it: 1300, 223, 0.33 (no exponent between 1e-3 and 1e6)."""
    text = f"{x:.3g}"
    if "e" in text and 1e-3 <= abs(x) < 1e6:
        text = f"{x:.0f}" if abs(x) >= 1 else f"{x:.4f}".rstrip("0")
    return text


def _common_plane(fields: dict, grid, y: float | None):
    """One x-z plane for all panels: at ``y`` if given, else where the fields, each
    normalised by its maximum, are largest together."""
    ys = grid.centers("y")
    if y is not None:
        j = int(np.argmin(np.abs(ys - y)))
    else:
        score = np.zeros(len(ys))
        for c in fields.values():
            peak = c.max(axis=(0, 2))
            score += peak / max(float(peak.max()), 1e-300)
        j = int(np.argmax(score))
    return j, float(ys[j])


def _soil_only(values_zx, grid):
    """The rows (z) of an x-z array in the soil (cell centre at or below z = 0) and the
    extent [x0, x1, z0, z1] they cover (a grid entirely above the surface is kept)."""
    keep = grid.centers("z") <= 0.0
    if not keep.any():
        keep[:] = True
    rows = np.flatnonzero(keep)
    z_edges = grid.edges("z")
    return values_zx[rows], [grid.lower[0], grid.upper[0], z_edges[rows[0]], z_edges[rows[-1] + 1]]


def _to_surface(ax, ext):
    """Stop the view at the soil surface when the top cells straddle it."""
    if ext[2] < 0.0 < ext[3]:
        ax.set_ylim(ext[2], 0.0)


def _concentration_image(ax, cut, ext, vmax, vmin_fraction, aspect="equal"):
    from matplotlib.colors import LogNorm
    vmin = vmax * vmin_fraction
    shown = np.where(np.isfinite(cut), np.maximum(cut, vmin), np.nan)
    im = ax.imshow(shown, origin="lower", extent=ext, aspect=aspect,
                   norm=LogNorm(vmin=vmin, vmax=vmax), cmap="viridis", interpolation="nearest")
    _to_surface(ax, ext)
    return im


def vertical_cut_figure(fields: dict, grid, title: str = "", y: float | None = None, vmin_fraction=1e-4):
    """x-z cuts of concentration [µg cm⁻³], log colour scale, one panel per exudate, all
    through one plane (Fig. 3a,b).

    Parameters
    ----------
    fields : dict of str to ndarray (z, y, x)
        Liquid concentration [µg cm⁻³] per exudate name.
    grid : RegularGrid
        The grid of the fields.
    title : str
        What the figure shows (plant, seed, day); the plane is added.
    y : float, optional
        y [cm] of the cut (default: the plane where the fields, each relative to its
        maximum, are largest together).
    vmin_fraction : float
        Lower end of the colour scale relative to each panel's maximum.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Landl, M., et al. (2021). Front. Plant Sci. (case study 1, Fig. 3a,b).

    Examples
    --------
    A blob of exudate centred at y = 0.2 cm: the cut goes through it:

    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from rhizoscale.grid import RegularGrid
    >>> grid = RegularGrid.from_resolution((-1, -1, -2), (1, 1, 0), 0.1)          # [cm]
    >>> z, y, x = np.meshgrid(grid.centers("z"), grid.centers("y"), grid.centers("x"),
    ...                       indexing="ij")
    >>> c = 100 * np.exp(-(x**2 + (y - 0.2)**2 + (z + 1)**2) / 0.1)              # [ug cm-3]
    >>> fig = vertical_cut_figure({"mucilage": c, "citrate": 0.5 * c}, grid, "blob")
    >>> fig.get_suptitle(), [ax.get_title() for ax in fig.axes[:2]]
    ('blob: cut at y = 0.15 cm', ['mucilage', 'citrate'])
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    n = len(fields)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n + 0.6, 6), squeeze=False, sharex=True, sharey=True,
                             layout="constrained")
    j, yy = _common_plane(fields, grid, y)
    for k, (ax, (name, c)) in enumerate(zip(axes[0], fields.items())):
        cut, ext = _soil_only(c[:, j, :], grid)
        vmax = max(float(np.nanmax(cut)), 1e-30)
        im = _concentration_image(ax, cut, ext, vmax, vmin_fraction)
        ax.set_title(name)
        ax.set_xlabel("x [cm]")
        if k == 0:
            ax.set_ylabel("z [cm] (soil surface at 0)")
        fig.colorbar(im, ax=ax, label=CONCENTRATION_LABEL, extend="min", shrink=0.85)
    fig.suptitle((f"{title}: " if title else "") + f"cut at y = {yy:.2f} cm")
    return fig


def hotspot_map_figure(durations: dict, grid, title: str = "", thresholds: dict | None = None):
    """Hotspot duration [d] projected onto the x-z plane (maximum over y) (Fig. 3c,d).

    A panel whose exudate never exceeded its threshold says so instead of showing an
    empty map with a meaningless colour bar.

    Parameters
    ----------
    durations : dict of str to ndarray (z, y, x)
        Days above the threshold per exudate name (see
        :func:`~rhizoscale.rhizodeposition.hotspot_duration_update`).
    grid : RegularGrid
        The grid of the fields.
    title : str
        What the figure shows (plant, seed, days).
    thresholds : dict of str to float, optional
        Threshold [µg cm⁻³ liquid] per exudate, named in the panel titles.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Landl, M., et al. (2021). Front. Plant Sci. (case study 1, Fig. 3c,d).

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from rhizoscale.grid import RegularGrid
    >>> grid = RegularGrid.from_resolution((-1, -1, -2), (1, 1, 0), 0.1)          # [cm]
    >>> z, y, x = np.meshgrid(grid.centers("z"), grid.centers("y"), grid.centers("x"),
    ...                       indexing="ij")
    >>> c = 100 * np.exp(-(x**2 + (y - 0.2)**2 + (z + 1)**2) / 0.1)              # [ug cm-3]
    >>> days = {"mucilage": np.where(c > 50, 2.0, 0.0), "citrate": np.zeros_like(c)}
    >>> fig = hotspot_map_figure(days, grid, thresholds={"mucilage": 50.0, "citrate": 222.7})
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['mucilage: days above 50 µg cm⁻³', 'citrate: days above 223 µg cm⁻³']
    >>> " ".join(fig.axes[1].texts[0].get_text().split())      # no empty map for citrate
    'no voxel above the threshold'
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    n = len(durations)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n + 0.6, 6), squeeze=False, sharex=True, sharey=True,
                             layout="constrained")
    longest = max([float(np.max(d)) for d in durations.values()] + [0.0])
    for k, (ax, (name, d)) in enumerate(zip(axes[0], durations.items())):
        proj, ext = _soil_only(d.max(axis=1), grid)
        thr = (thresholds or {}).get(name)
        ax.set_title(f"{name}: days above {_number(thr)} µg cm⁻³" if thr is not None
                     else f"{name}: days above threshold")
        ax.set_xlabel("x [cm]")
        if k == 0:
            ax.set_ylabel("z [cm] (soil surface at 0)")
        if np.any(proj > 0):
            im = ax.imshow(np.where(proj > 0, proj, np.nan), origin="lower", extent=ext, aspect="equal",
                           cmap="magma_r", vmin=0.0, vmax=longest, interpolation="nearest")
            _to_surface(ax, ext)
            fig.colorbar(im, ax=ax, label="hotspot duration [d]", shrink=0.85)
        else:
            ax.set_xlim(ext[0], ext[1])
            ax.set_ylim(ext[2], min(ext[3], 0.0) if ext[2] < 0.0 else ext[3])
            ax.set_aspect("equal", adjustable="box")
            ax.text(0.5, 0.5, "no voxel above\nthe threshold", transform=ax.transAxes,
                    ha="center", va="center", fontsize=11, color="0.3")
    fig.suptitle((f"{title}: " if title else "") + "longest time above the threshold along y "
                 "(white: never)")
    return fig


def single_root_panel(cuts: dict, extent, threshold: float, title: str = ""):
    """Concentration around single straight roots at several elongation rates (Fig. 4).

    Parameters
    ----------
    cuts : dict of float to ndarray (z, x)
        An x-z cut of the liquid concentration [µg cm⁻³] per elongation rate [cm d⁻¹]
        (NaN where it was not computed).
    extent : 4 floats
        ``(x_min, x_max, z_min, z_max)`` of the cuts [cm]; only z <= 0 is drawn.
    threshold : float
        Hotspot threshold [µg cm⁻³], contoured and named in the legend.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Landl, M., et al. (2021). Front. Plant Sci. (case study 1, Fig. 4).

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from rhizoscale.grid import RegularGrid
    >>> grid = RegularGrid.from_resolution((-1, -1, -2), (1, 1, 0), 0.1)          # [cm]
    >>> z, y, x = np.meshgrid(grid.centers("z"), grid.centers("y"), grid.centers("x"),
    ...                       indexing="ij")
    >>> c = 100 * np.exp(-(x**2 + (y - 0.2)**2 + (z + 1)**2) / 0.1)              # [ug cm-3]
    >>> cut = c[:, 10, :]                               # an x-z cut (z, x)
    >>> fig = single_root_panel({0.5: cut, 1.0: 2 * cut}, (-1, 1, -2, 0), threshold=50.0)
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['v = 0.5 cm d⁻¹', 'v = 1 cm d⁻¹']
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    n = len(cuts)
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n + 1.4, 6), squeeze=False, sharex=True, sharey=True,
                             layout="constrained")
    vmax = max(float(np.nanmax(c)) for c in cuts.values())
    x0, x1, z0, z1 = extent
    nz = next(iter(cuts.values())).shape[0]
    zc = z0 + (np.arange(nz) + 0.5) * (z1 - z0) / nz
    rows = zc <= 0.0                       # the soil only
    top = z0 + (np.flatnonzero(rows)[-1] + 1) * (z1 - z0) / nz if rows.any() else z1
    contoured = False
    for k, (ax, (v, cut)) in enumerate(zip(axes[0], cuts.items())):
        cut = cut[rows] if rows.any() else cut
        ext = [x0, x1, z0, top]
        im = _concentration_image(ax, cut, ext, vmax, 1e-4, aspect="auto")
        if np.nanmax(cut) > threshold:
            xs = np.linspace(x0, x1, cut.shape[1])
            zs = np.linspace(z0, top, cut.shape[0])
            ax.contour(xs, zs, np.nan_to_num(cut), levels=[threshold], colors="r", linewidths=0.9)
            contoured = True
        ax.set_title(f"v = {v:g} cm d⁻¹")
        ax.set_xlabel("x [cm]")
        if k == 0:
            ax.set_ylabel("z [cm] (soil surface at 0)")
    fig.colorbar(im, ax=axes[0].tolist(), label=CONCENTRATION_LABEL, extend="min", shrink=0.85)
    if contoured:
        fig.legend(handles=[Line2D([], [], color="r", lw=0.9,
                                   label=f"hotspot threshold ({_number(threshold)} µg cm⁻³)")],
                   loc="outside lower center", fontsize=8, frameon=False)
    blank = any(np.isnan(c).any() for c in cuts.values())
    fig.suptitle((title or "") + ("\n(white: beyond the computed box)" if blank else ""))
    return fig


def hotspot_vs_rate_figure(rates, volumes: dict, title: str = ""):
    """Hotspot volume [cm³] against root elongation rate [cm d⁻¹], one line per exudate.

    Parameters
    ----------
    rates : sequence of float
        Elongation rates [cm d⁻¹].
    volumes : dict of str to sequence of float
        Hotspot volume [cm³] at each rate, per exudate name.
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
    'elongation rate [cm d⁻¹]'
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    fig, ax = plt.subplots(figsize=(5.2, 4), layout="constrained")
    markers = ["o", "s", "^", "D"]
    for k, (name, vol) in enumerate(volumes.items()):
        ax.plot(rates, vol, marker=markers[k % len(markers)], ls="-", label=name)
    ax.set_xscale("log")
    # plain numbers at 1-2-5 steps; no labels on the other minor ticks (they collide)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("elongation rate [cm d⁻¹]")
    ax.set_ylabel("hotspot volume [cm³]")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig
