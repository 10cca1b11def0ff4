"""Figures of case study 4 (return matplotlib Figures; the caller saves them)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..image import Image
from .cell_problem import EffectiveDiffusionTensor

__all__ = ["phases_and_principal_directions", "property_table_figure", "thickness_study_figure"]

_COLOURS = {"air": "#ffffff", "solid": "#8c6d46", "water": "#3a7bd5", "mucilage": "#e07b39",
            "pore": "#3a7bd5"}


def _phase_rgb(image: Image) -> np.ndarray:
    from matplotlib.colors import to_rgb
    rgb = np.zeros(image.shape + (3,))
    for i, p in enumerate(image.phases):
        colour = _COLOURS.get(p.name, _COLOURS.get(p.role, f"C{i}"))
        rgb[image.labels == p.label] = to_rgb(colour)
    return rgb


def _tensor_text(label: str, t: EffectiveDiffusionTensor) -> str:
    """A tensor as a reader writes it: ``translation: D_xx = 0.0560, D_xy = 0.0023, D_yy = 0.0580``."""
    d = t.in_xyz()
    names = "xyz"
    parts = [f"$D_{{{names[i]}{names[j]}}}$ = {d[i, j]:.4f}" for i in range(d.shape[0])
             for j in range(i, d.shape[1])]
    return f"{label}: " + ", ".join(parts)


def phases_and_principal_directions(images: Mapping[str, Image],
                                    tensors: Mapping[str, EffectiveDiffusionTensor], title: str = ""):
    """One panel per 2D image: the phases with the principal directions of its tensor(s).

    Like Fig. 11b of the case study: lines along the eigenvectors, half-lengths
    proportional to the principal diffusivities (scaled by the largest over all panels).
    ``tensors`` keys are ``"<image key>/<label>"``; each is drawn with its own line style,
    explained in the legend; the tensor components (relative to the water diffusivity)
    are written under each panel.

    Parameters
    ----------
    images : mapping of str to Image
        2D images by key.
    tensors : mapping of str to EffectiveDiffusionTensor
        Tensors by ``"<image key>/<label>"``.
    title : str
        What the images are (sample, seed, water content).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from rhizoscale.homogenization import effective_diffusion_tensor
    >>> from rhizoscale.homogenization.figures import phases_and_principal_directions
    >>> from rhizoscale.image.generators import liquid_configuration, sand_packing
    >>> image = liquid_configuration(sand_packing((100, 100), 1e-3, mean_radius=0.01, seed=0), 0.3, 0.1)
    >>> fig = phases_and_principal_directions({"sand": image},
    ...                                       {"sand/translation": effective_diffusion_tensor(image)})
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    fig, axes = plt.subplots(1, len(images), figsize=(5.2 * len(images), 6.2), squeeze=False,
                             layout="constrained")
    largest = max([t.eigenvalues.max() for t in tensors.values()] + [1e-300])
    styles = ["-", "--", ":", "-."]
    labels = list(dict.fromkeys(k.split("/", 1)[1] for k in tensors))
    shown = {}
    for ax, (key, img) in zip(axes[0], images.items()):
        ny, nx = img.shape
        ext = [0, nx * img.voxel_size[1] * 10, ny * img.voxel_size[0] * 10, 0]  # mm
        ax.imshow(_phase_rgb(img), extent=ext, interpolation="nearest")
        for p in img.phases:
            shown.setdefault(p.name, _COLOURS.get(p.name, _COLOURS.get(p.role, "C0")))
        cx, cy = ext[1] / 2, ext[2] / 2
        scale = 0.45 * min(ext[1], ext[2]) / largest
        mine = [(k.split("/", 1)[1], t) for k, t in tensors.items() if k.split("/", 1)[0] == key]
        for label, t in mine:
            vals, vecs = t.principal_directions_xyz()
            for v, vec in zip(vals, vecs.T):
                if v <= 0:
                    continue
                dx, dy = vec[0] * v * scale, vec[1] * v * scale
                ax.plot([cx - dx, cx + dx], [cy - dy, cy + dy], color="k", lw=2.5,
                        ls=styles[labels.index(label) % len(styles)],
                        label=f"principal directions, {label} periodisation")
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("x [mm]\n" + ("\n".join(_tensor_text(lb, t) for lb, t in mine)
                                    or "no liquid path: no tensor"), fontsize=9)
        ax.set_ylabel("y [mm]")
    handles = [Patch(facecolor=c, edgecolor="0.5", label=n) for n, c in shown.items()]
    handles += [Line2D([], [], color="k", lw=2.5, ls=styles[i % len(styles)],
                       label=f"principal directions, {lb} periodisation") for i, lb in enumerate(labels)]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle((f"{title}\n" if title else "") + "line half-length ∝ principal effective diffusivity "
                 r"($D/D_\mathrm{water}$, components below)", fontsize=10)
    return fig


def property_table_figure(ds, title: str = ""):
    """D_eff / D_w against liquid content for each mucilage share, with Millington–Quirk.

    The band around each line spans the smallest to the largest principal value.

    Parameters
    ----------
    ds : xarray.Dataset
        A table from :func:`~rhizoscale.homogenization.effective_property_table`.
    title : str
        What the sample is (seed, porosity).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Millington, R. J., & Quirk, J. P. (1961). Permeability of porous solids. Transactions
    of the Faraday Society, 57, 1200-1207.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from rhizoscale.homogenization import effective_property_table
    >>> from rhizoscale.image.generators import sand_packing
    >>> table = effective_property_table(sand_packing((60, 60), 1e-3, mean_radius=0.01, seed=0),
    ...                                  [0.2, 0.41])
    >>> fig = property_table_figure(table, "sand, seed 0")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][-1]
    'Millington–Quirk (1961)'
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.8, 4.4), layout="constrained")
    theta = ds.theta.values
    markers = ["o", "s", "^", "D"]
    for b, m in enumerate(ds.mucilage_fraction.values):
        line, = ax.plot(theta, ds.d_eff.values[:, b], marker=markers[b % len(markers)], ls="-",
                        label=f"image, mucilage {m:.0%} of the liquid: mean principal value")
        ax.fill_between(theta, ds.d_min.values[:, b], ds.d_max.values[:, b], color=line.get_color(),
                        alpha=0.2, label=f"image, mucilage {m:.0%}: smallest to largest")
    ax.plot(theta, ds.millington_quirk.values, "k--", label="Millington–Quirk (1961)")
    ax.set_xlabel(r"liquid content $\theta$ [cm$^3$ cm$^{-3}$]")
    ax.set_ylabel(r"$D_\mathrm{eff}/D_\mathrm{water}$ [–]")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def thickness_study_figure(ds, title: str = ""):
    """D_eff of lognormal domains vs thickness, between arithmetic and geometric means.

    Parameters
    ----------
    ds : xarray.Dataset
        A study from :func:`~rhizoscale.homogenization.lognormal_thickness_study`.
    title : str
        What the fields are (log standard deviation, width, realisations, seed).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Matheron, G. (1967). Eléments pour une théorie des milieux poreux. Masson, Paris.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from rhizoscale.homogenization import lognormal_thickness_study
    >>> fig = thickness_study_figure(lognormal_thickness_study([1, 16], width=16, realisations=1))
    >>> fig.axes[0].get_ylabel()
    'ratio to the geometric mean [–]'
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
    fig, ax = plt.subplots(figsize=(5.8, 4.4), layout="constrained")
    t = ds.thickness.values
    ax.semilogx(t, (ds.d_eff / ds.geometric).mean("realisation"), "o-",
                label=r"$D_\mathrm{eff}$ / geometric mean")
    ax.semilogx(t, (ds.arithmetic / ds.geometric).mean("realisation"), "k--",
                label="arithmetic / geometric mean")
    ax.axhline(1.0, color="grey", lw=1, label="geometric mean (Matheron)")
    corr = ds.attrs["correlation_length_voxels"]
    ax.axvline(2 * corr, color="grey", ls=":", lw=1, label=f"2 × correlation length ({2 * corr:g} voxels)")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_xlabel("domain thickness along the diffusion direction [voxels]")
    ax.set_ylabel("ratio to the geometric mean [–]")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
