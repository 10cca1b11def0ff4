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


def phases_and_principal_directions(images: Mapping[str, Image],
                                    tensors: Mapping[str, EffectiveDiffusionTensor]):
    """One panel per 2D image: the phases with the principal directions of its tensor(s).

    Like Fig. 11b of the case study: arrows along the eigenvectors, lengths proportional to
    the principal diffusivities (scaled by the largest over all panels). ``tensors`` keys are
    ``"<image key>/<label>"``; each is drawn with its own line style.

    Parameters
    ----------
    images : mapping of str to Image
        2D images by key.
    tensors : mapping of str to EffectiveDiffusionTensor
        Tensors by ``"<image key>/<label>"``.

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
    fig, axes = plt.subplots(1, len(images), figsize=(5.2 * len(images), 5.2), squeeze=False)
    largest = max([t.eigenvalues.max() for t in tensors.values()] + [1e-300])
    styles = ["-", "--", ":", "-."]
    for ax, (key, img) in zip(axes[0], images.items()):
        ny, nx = img.shape
        ext = [0, nx * img.voxel_size[1] * 10, ny * img.voxel_size[0] * 10, 0]  # mm
        ax.imshow(_phase_rgb(img), extent=ext, interpolation="nearest")
        cx, cy = ext[1] / 2, ext[2] / 2
        scale = 0.45 * min(ext[1], ext[2]) / largest
        mine = [(k.split("/", 1)[1], t) for k, t in tensors.items() if k.split("/", 1)[0] == key]
        for s, (label, t) in enumerate(mine):
            vals, vecs = t.principal_directions_xyz()
            for v, vec in zip(vals, vecs.T):
                if v <= 0:
                    continue
                dx, dy = vec[0] * v * scale, vec[1] * v * scale
                ax.plot([cx - dx, cx + dx], [cy - dy, cy + dy], color="k", lw=2.5,
                        ls=styles[s % len(styles)], label=label if v == vals[0] else None)
        txt = "\n".join(f"{label}: " + np.array2string(t.in_xyz(), precision=4, separator=", ")
                        .replace("\n", "") for label, t in mine)
        ax.set_title(key, fontsize=10)
        ax.text(0.0, -0.1, txt, transform=ax.transAxes, va="top", fontsize=7, family="monospace")
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("y (mm)")
        if mine:
            ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    return fig


def property_table_figure(ds):
    """D_eff / D_w against liquid content for each mucilage share, with Millington–Quirk.

    Parameters
    ----------
    ds : xarray.Dataset
        A table from :func:`~rhizoscale.homogenization.effective_property_table`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4))
    theta = ds.theta.values
    for b, m in enumerate(ds.mucilage_fraction.values):
        line, = ax.plot(theta, ds.d_eff.values[:, b], "o-", label=f"image, mucilage {m:.0%} (mean)")
        ax.fill_between(theta, ds.d_min.values[:, b], ds.d_max.values[:, b], color=line.get_color(),
                        alpha=0.2)
    ax.plot(theta, ds.millington_quirk.values, "k--", label="Millington-Quirk")
    ax.set_xlabel(r"liquid content $\theta$ (cm$^3$ cm$^{-3}$)")
    ax.set_ylabel(r"$D_\mathrm{eff}/D_w$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def thickness_study_figure(ds):
    """D_eff of lognormal domains vs thickness, between arithmetic and geometric means.

    Parameters
    ----------
    ds : xarray.Dataset
        A study from :func:`~rhizoscale.homogenization.lognormal_thickness_study`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4))
    t = ds.thickness.values
    ax.semilogx(t, (ds.d_eff / ds.geometric).mean("realisation"), "o-", label="D_eff / geometric")
    ax.semilogx(t, (ds.arithmetic / ds.geometric).mean("realisation"), "k--", label="arithmetic / geometric")
    ax.axhline(1.0, color="grey", lw=1)
    ax.axvline(2 * ds.attrs["correlation_length_voxels"], color="grey", ls=":", lw=1)
    ax.set_xlabel("domain thickness along diffusion (voxels)")
    ax.set_ylabel("ratio to the geometric mean")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
