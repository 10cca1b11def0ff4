"""Scenario runner of case study 3 ("cs3-root-hairs"): exudates around a root with and
without hairs on a generated (or read) segmented image. Times in s, lengths in cm."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional, TYPE_CHECKING

import numpy as np
import xarray as xr
from pydantic import Field, ValidationInfo, field_validator

from ..errors import InputError
from ..scenario import CaseConfig, Section, scenario_path
from .parameters import RootHairSampleParameters

if TYPE_CHECKING:  # annotations only
    from ..memory import MemoryEstimate
    from ..products import Products

__all__ = ["Config", "run"]


class GeneratedSample(Section):
    """Synthetic sample built to the paper's numbers (Keyes et al.; design brief §4)."""

    shape: tuple[int, int, int] = Field((70, 65, 90), description="voxels (z along the root, y, x)")
    voxel_size: float = Field(2.0e-3, gt=0, description="voxel edge [cm] (paper 6.5e-5; "
                              "chosen: 20 um keeps the example near 20 s)")
    root_radius: float = Field(..., gt=0, description="[cm] (default: the literature set)")
    porosity: float = Field(..., ge=0, lt=1, description="macropore fraction of the soil outside the root's air gap "
                            "(default: the literature set)")
    epidermis_area_factor: Optional[float] = Field(..., gt=0, description="epidermis voxel-face area / smooth cylinder "
                                                   "area (default: the literature set; null: smooth root)")
    gap_volume_ratio: float = Field(..., ge=0, description="air gap around the root / root volume "
                                    "(default: the literature set)")
    aggregate_size: float = Field(..., gt=0, description="aggregate correlation length [cm] (default: the literature set)")
    contact_fraction: float = Field(..., ge=0, le=1, description="epidermis touching soil (default: the literature set)")
    hair_contact_fraction: float = Field(..., ge=0, le=1, description="(root+hair)-soil contact / epidermis (default: the literature set)")
    hair_count: Optional[int] = Field(None, ge=0, description="fixed hair count (else tuned to hair_contact_fraction)")
    hair_length: float = Field(..., gt=0, description="mean hair length [cm] (default: the literature set)")
    hair_length_sd: float = Field(..., ge=0, description="[cm] (default: the literature set)")
    hair_persistence: float = Field(..., gt=0, description="persistence length of the hair direction [cm] "
                                    "(default: the literature set)")
    hair_radius: float = Field(..., gt=0, description="[cm] (default: the literature set)")

    @field_validator("shape")
    @classmethod
    def _big_enough(cls, value):
        if min(value) < 4:
            raise ValueError(f"every size must be at least 4 voxels, got {list(value)}")
        return value


class ImageFiles(Section):
    """Two segmented images of one sample, with and without hairs."""

    with_hairs: Path
    without_hairs: Path
    voxel_size: tuple[float, float, float] = Field(..., description="(dz, dy, dx) [cm]")
    labels: dict[str, int] = Field(..., description="label of 'soil', 'air', 'root', 'hair'")
    shape: Optional[tuple[int, int, int]] = Field(None, description="raw files only")
    dtype: Optional[str] = Field(None, description="raw files only")

    @field_validator("with_hairs", "without_hairs")
    @classmethod
    def _relative_to_scenario(cls, value, info: ValidationInfo):
        # TIFF stacks may be folders; only single files are checked here
        p = scenario_path(value, info, must_exist=False)
        if not p.exists():
            raise ValueError(f"image {str(p)!r} not found")
        return p


class Config(CaseConfig):
    """Case study 3: exudate diffusion around a root with and without hairs.

    The keys of a ``cs3-root-hairs`` scenario; values not given come from the
    parameter set named by ``literature`` (:class:`RootHairSampleParameters`).

    Parameters
    ----------
    **fields
        The scenario keys, listed with defaults and units in the Fields table.

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({"case": "cs3-root-hairs", "time": {"stop": "10 min"},
    ...                                "sample": {"shape": [24, 40, 40], "voxel_size": 4e-3}})
    >>> config = scenario.config
    >>> config.duration, config.c_in, config.sample.root_radius       # [s], [ug cm-3], [cm]
    (600.0, 1037.52, 0.03)
    >>> estimate_memory(config).describe()
    '0.191 GiB (libraries and figures 0.188 GiB, diffusion solver 0.00327 GiB)'
    """

    LITERATURE = (RootHairSampleParameters, "maize_root_hairs", {
        "diffusivity": "diffusivity", "c_in": "c_in", "duration": "duration",
        **{k: f"sample.{k}" for k in ("root_radius", "porosity", "aggregate_size", "contact_fraction",
                                      "epidermis_area_factor", "gap_volume_ratio", "hair_contact_fraction",
                                      "hair_length", "hair_length_sd", "hair_persistence", "hair_radius")}})

    TIME_KEYS = {"stop": ("duration", "s")}

    literature: str = Field("maize_root_hairs", description="parameter set holding the paper's values "
                            "(with sources); the keys below default to them")
    diffusivity: float = Field(..., gt=0, description="D in the soil micropores [cm2 s-1]")
    c_in: float = Field(..., gt=0, description="concentration at the root-soil contact [ug cm-3]")
    duration: float = Field(..., gt=0, description="[s]")
    growth: float = Field(1.5, ge=1.0, lt=2.4, description="time-step growth ratio (BDF2; "
                          "first step duration/100, 10 steps for the default)")
    solver: Literal["multigrid", "amg"] = Field("multigrid", description="linear solver: "
                                                "matrix-free multigrid (fast) or pyamg (reference)")
    sample: GeneratedSample = Field(default_factory=dict, validate_default=True)
    images: Optional[ImageFiles] = None
    contact_fractions: Optional[list[float]] = Field(
        None, description="root-soil contact fractions of extra samples without hairs: the effective "
                          "exudation factor versus contact fraction, relative to contact_reference, as the "
                          "relation exudation_factor_contact (for root-system models; generated samples only)")
    contact_reference: Optional[float] = Field(None, gt=0, le=1, description="contact fraction at which the "
                                               "factor is 1 (default: sample.contact_fraction) [1]")
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to need more [GiB]; "
                                             "default: the memory available when the run starts")

    @field_validator("contact_fractions")
    @classmethod
    def _fractions(cls, value, info: ValidationInfo):
        if value is None:
            return value
        if not value or any(not 0 < c <= 1 for c in value) or len(set(value)) != len(value):
            raise ValueError("distinct contact fractions in (0, 1]")
        if info.data.get("images") is not None:
            raise ValueError("needs generated samples (the contact of image files is what it is)")
        return sorted(value)


def _contact_relation(config: Config, seed: int, reference_result, ctx):
    """Mass into the soil of samples without hairs at each contact fraction (same seed and
    soil) over the mass at ``contact_reference``: the effective exudation factor ``f(c)``
    (measured contact fractions as the argument). A root-system model whose release rate
    holds at the reference contact multiplies it by ``f`` at its own contact."""
    from ..image.generators import rhizosphere_sample
    from ..products import TabulatedRelation
    from ..simulation import Simulation
    from .exudates import ExudateDiffusionModel
    s = config.sample
    ref = s.contact_fraction if config.contact_reference is None else config.contact_reference
    masses = {}
    for c in sorted(set(config.contact_fractions) | {ref}):
        if c == s.contact_fraction and reference_result is not None:
            res = reference_result                     # the sample already run
        else:
            with ctx.task(f"sample with contact fraction {c:g}", None):
                img = rhizosphere_sample(
                    s.shape, s.voxel_size, root_radius=s.root_radius, porosity=s.porosity,
                    aggregate_size=s.aggregate_size, contact_fraction=c, hair_count=0,
                    hair_contact_fraction=s.hair_contact_fraction, hair_length=s.hair_length,
                    hair_radius=s.hair_radius, diffusivity=config.diffusivity, seed=seed).without_hairs
            model = ExudateDiffusionModel(img, c_in=config.c_in, t_end=config.duration, growth=config.growth,
                                          solver=config.solver)
            ctx.simulate(Simulation(model, stop_time=float(model.time_steps[-1]), time_steps=model.time_steps,
                                    name=f"cs3-contact-{c:g}"),
                         description=f"diffusion, contact {c:g}", progress_scale=1 / 60, progress_units=" min")
            res = model.result()
        masses[c] = (float(res.contact.get("contact_fraction")), res.mass_into_soil)
    m_ref = masses[ref][1]
    if not m_ref > 0:
        raise InputError(f"no exudate reaches the soil at the reference contact {ref:g}", field="contact_reference")
    pts = sorted(masses.values())
    measured = np.array([p[0] for p in pts])
    if np.any(np.diff(measured) <= 0):
        raise InputError(f"the samples' measured contact fractions {measured.round(4).tolist()} do not increase "
                         "(too close for this sample size)", field="contact_fractions")
    factor = np.array([p[1] for p in pts]) / m_ref
    rel = TabulatedRelation(measured, factor, porosity=s.porosity, source="cs3-root-hairs",
                            component="exudation_factor", variable="contact_fraction", variable_units="1")
    return rel, {"requested": sorted(masses), "measured_contact_fraction": measured.tolist(),
                 "mass_into_soil_ug": [p[1] for p in pts], "factor": factor.tolist(),
                 "reference_contact_fraction": masses[ref][0]}


def _load_images(cfg: Config, seed: int):
    from ..image import Phase
    from ..image.generators import rhizosphere_sample
    from ..image.io import read_image
    if cfg.images is None:
        s = cfg.sample
        sample = rhizosphere_sample(
            s.shape, s.voxel_size, root_radius=s.root_radius, porosity=s.porosity,
            aggregate_size=s.aggregate_size, epidermis_area_factor=s.epidermis_area_factor,
            gap_volume_ratio=s.gap_volume_ratio, contact_fraction=s.contact_fraction,
            hair_count=s.hair_count, hair_contact_fraction=s.hair_contact_fraction,
            hair_length=s.hair_length, hair_length_sd=s.hair_length_sd,
            hair_persistence=s.hair_persistence, hair_radius=s.hair_radius,
            diffusivity=cfg.diffusivity, seed=seed)
        return sample.with_hairs, sample.without_hairs, sample.parameters
    im = cfg.images
    roles = {"soil": "pore", "air": "air", "root": "root", "hair": "hair"}
    unknown = set(im.labels) - set(roles)
    if unknown or not {"soil", "root"} <= set(im.labels):
        raise InputError(f"labels must name soil, root (and optionally air, hair); got {sorted(im.labels)}",
                         field="images.labels")
    phases = [Phase(name, lab, cfg.diffusivity if name == "soil" else 0.0, roles[name])
              for name, lab in im.labels.items()]
    kw = {"shape": im.shape, "dtype": im.dtype} if im.dtype else {}
    return (read_image(im.with_hairs, im.voxel_size, phases, ndim=3, field="images.with_hairs", **kw),
            read_image(im.without_hairs, im.voxel_size, phases, ndim=3, field="images.without_hairs", **kw), None)


PAPER_ONE_PERCENT_CM = {"without_hairs": 0.029, "with_hairs": 0.074}   # Keyes et al.
PAPER_MASS_UG = {"without_hairs": 0.067, "with_hairs": 0.204}
LABELS = {"without_hairs": "without hairs", "with_hairs": "with hairs"}
COLOURS = {"without_hairs": "C0", "with_hairs": "C3"}


def _figures(results, label: str = "") -> dict:
    """Fig. 8b (concentration slices), 8c (profile vs distance) and mass vs time.

    ``label``: the sample (generated with its seed, or the image files) for the titles.
    """
    figs = {}
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap, LogNorm
    from matplotlib.patches import Patch

    hairy = results["with_hairs"]
    minutes = hairy.transient.times[-1] / 60
    hair = hairy.image.mask("hair")
    # the cross-section through the most hair voxels (the paper shows such a slice)
    k = int(np.argmax(hair.sum(axis=(1, 2)))) if hair.any() else hairy.image.shape[0] // 2
    vs = hairy.image.voxel_size
    ny, nx = hairy.image.shape[1:]
    ext = [0, nx * vs[2] * 1e4, 0, ny * vs[1] * 1e4]
    soil_c = [np.nanmin(np.where(r.concentration > 0, r.concentration, np.nan)) / r.c_in
              for r in results.values() if np.any(r.concentration > 0)]
    floor = 10.0 ** np.floor(np.log10(max(min(soil_c, default=1e-4), 1e-6)))
    norm = LogNorm(floor, 1.0)
    cmap = matplotlib.colormaps["viridis"].with_extremes(under="#2a0a3a")
    phase_colours = {"air-filled macropore": "#f2f2f2", "root": "#7a5230", "root hair": "#c08a50"}
    phase_cmap = ListedColormap(list(phase_colours.values()))
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4), layout="constrained", sharey=True)
    for ax, name in zip(axes, ("without_hairs", "with_hairs")):
        res = results[name]
        img = res.image
        c = res.concentration[k] / res.c_in
        phase = np.full(c.shape, np.nan)
        phase[img.mask("air")[k]] = 0
        phase[img.mask("root")[k]] = 1
        phase[img.mask("hair")[k]] = 2
        ax.imshow(phase, cmap=phase_cmap, vmin=0, vmax=2, extent=ext, origin="lower",
                  interpolation="nearest")
        im = ax.imshow(np.ma.masked_invalid(c), cmap=cmap, norm=norm, extent=ext,
                       origin="lower", interpolation="nearest")
        ax.set_title(f"{LABELS[name]}: contact "
                     f"{100 * (res.contact.get('contact_fraction_with_hairs') or 0):.1f} % of epidermis")
        ax.set_xlabel("x [µm]")
    axes[0].set_ylabel("y [µm]")
    cb = fig.colorbar(im, ax=axes, extend="min", shrink=0.9)
    cb.set_label(r"$c / c_\mathrm{in}$ in the soil micropores [–] (log scale)")
    fig.legend(handles=[Patch(facecolor=c, edgecolor="0.5", label=n) for n, c in phase_colours.items()],
               loc="outside lower center", ncols=3, frameon=False)
    fig.suptitle(f"{label + ': ' if label else ''}exudate after {minutes:.0f} min, cross-section "
                 f"z = {(k + 0.5) * vs[0] * 1e4:.0f} µm")
    figs["fig8b_slices.png"] = fig

    fig, ax = plt.subplots(figsize=(6.6, 4.8), layout="constrained")
    lowest = 1.0
    for name in ("without_hairs", "with_hairs"):
        res = results[name]
        p = res.profile()
        d = p["distance"].values * 1e4
        mean = p["mean"].values / res.c_in
        lowest = min(lowest, float(np.nanmin(np.r_[mean[mean > 0], p["p05"].values[p["p05"].values > 0] / res.c_in, 1.0])))
        ax.plot(d, mean, color=COLOURS[name], lw=1.8, label=f"{LABELS[name]}: mean")
        ax.fill_between(d, p["p05"].values / res.c_in, p["p95"].values / res.c_in,
                        color=COLOURS[name], alpha=0.18, lw=0,
                        label=f"{LABELS[name]}: 5–95 % of voxels")
        d1 = res.distance_below(0.01)
        if np.isfinite(d1):
            ax.axvline(d1 * 1e4, color=COLOURS[name], ls="--", lw=0.9,
                       label=f"{LABELS[name]}: mean falls below 1 %")
        ax.plot(PAPER_ONE_PERCENT_CM[name] * 1e4, 0.01, marker="v", ms=8, color=COLOURS[name],
                mec="k", ls="none", label=f"Keyes et al.: 1 % distance {LABELS[name]}")
    ax.axhline(0.01, color="k", ls=":", lw=0.8, label=r"1 % of $c_\mathrm{in}$")
    ax.set_yscale("log")
    ax.set_ylim(10.0 ** np.floor(np.log10(max(min(lowest, 1e-2) / 2, 1e-8))), 1.5)
    ax.set_xlabel("distance from the root surface [µm]")
    ax.set_ylabel(r"$c / c_\mathrm{in}$ in the soil micropores [–]")
    ax.set_title(f"{label + ': ' if label else ''}concentration vs distance after {minutes:.0f} min",
                 fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    figs["fig8c_profile.png"] = fig

    fig, ax = plt.subplots(figsize=(6.0, 4.4), layout="constrained")
    for name in ("without_hairs", "with_hairs"):
        tr = results[name].transient
        ax.plot(tr.times / 60, tr.mass_in_domain, color=COLOURS[name], marker="o", ms=3,
                label=f"{LABELS[name]}")
        ax.plot(tr.times[-1] / 60, PAPER_MASS_UG[name], marker="*", ms=11, color=COLOURS[name],
                mec="k", ls="none", label=f"Keyes et al. (1 h) {LABELS[name]}")
    ax.set_xlabel("time [min]")
    ax.set_ylabel("exudate carbon in the soil [µg]")
    ax.set_title(f"{label + ': ' if label else ''}exudate in the soil", fontsize=10)
    ax.legend(fontsize=8)
    figs["fig8_mass_time.png"] = fig
    return figs


#: bytes per voxel held besides the solver's: the two label images (uint8) and the
#: first result's concentration (float64) and soil mask while the second is solved
_VOXEL_BYTES_IMAGES_RESULTS = 12


def _n_voxels(config: Config) -> int | None:
    """Voxels of one sample (None when an image file does not tell its shape)."""
    if config.images is None:
        return int(np.prod(config.sample.shape))
    from ..image.io import image_shape
    shapes = [image_shape(p, shape=config.images.shape)
              for p in (config.images.with_hairs, config.images.without_hairs)]
    return None if None in shapes else max(int(np.prod(s)) for s in shapes)


def estimate_memory(config: Config, n_voxels: int | None = None) -> "MemoryEstimate":
    """Peak memory of a ``cs3-root-hairs`` run [bytes], from the scenario alone.

    One diffusion solve at a time on ``N`` voxels: the matrix-free multigrid solver needs
    about 100 bytes per voxel (:func:`~rhizoscale.diffusion.matrix_free.estimate_memory_multigrid`;
    the ``amg`` reference solver about 310,
    :func:`~rhizoscale.diffusion.finite_volume.estimate_memory`), the label images and the
    other sample's result 12 more; plus 192 MiB for libraries, kernels and figures. Calibrated
    against the measured peak resident memory (docs/memory.md). ``n_voxels`` overrides
    the size (images whose files do not tell it before they are read).

    Parameters
    ----------
    config : Config
        The validated scenario.
    n_voxels : int, optional
        The image size, when the scenario does not tell it.

    Returns
    -------
    rhizoscale.memory.MemoryEstimate
        Parts [bytes] and the scenario field that changes them most.

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> config = scenario_from_dict({"case": "cs3-root-hairs", "sample": {"shape": [70, 65, 90]}}).config
    >>> estimate = estimate_memory(config)
    >>> estimate.field, round(estimate.gib, 3)                # [GiB]
    ('sample.shape', 0.227)
    """
    from ..memory import GIB, KERNEL_ALLOWANCE as BASE_ALLOWANCE, MemoryEstimate
    from .finite_volume import estimate_memory as estimate_amg
    from .matrix_free import estimate_memory_multigrid
    n = _n_voxels(config) if n_voxels is None else n_voxels
    field = "images" if config.images is not None else "sample.shape"
    parts = {"libraries and figures": float(BASE_ALLOWANCE)}
    if n is None:
        return MemoryEstimate(parts, field, note="image size unknown until the images are read")

    def solver_bytes(n):
        if config.solver == "amg":
            return float(estimate_amg(n, 1.0))
        return float(estimate_memory_multigrid(n))

    parts["diffusion solver"] = solver_bytes(n)
    parts["images and results"] = float(n) * _VOXEL_BYTES_IMAGES_RESULTS

    def suggest(limit: float) -> str:
        per_voxel = (solver_bytes(10**6) / 10**6 + _VOXEL_BYTES_IMAGES_RESULTS)
        fit = max((limit - BASE_ALLOWANCE) / per_voxel, 0.0)
        f = (fit / n) ** (1 / 3)
        if config.images is not None:
            return (f"crop or coarsen the images to at most {fit:,.0f} voxels (now {n:,}; "
                    "rhizoscale.image.transform.crop / coarsen)")
        shape = [max(4, int(k * f)) for k in config.sample.shape]
        hint = (f"use a smaller sample.shape, e.g. {shape} (now {list(config.sample.shape)}; about "
                f"{(BASE_ALLOWANCE + per_voxel * np.prod(shape)) / GIB:.2g} GiB), or a larger "
                "sample.voxel_size for the same region")
        return hint + ("" if config.solver == "multigrid" else "; the multigrid solver needs less")

    return MemoryEstimate(parts, field, suggest)


def declared_products(config: Config) -> dict:
    """The products a run of ``config`` may make, ``{name: (kind, units)}``, known before
    it runs (what a pipeline checks its inputs and a sensitivity analysis its quantities
    against; tests/test_contract.py checks every example's products against them)."""
    out = {"memory_estimate": ("scalar", "GiB"), "cs3_timeseries_profiles.nc": ("field", None),
           "cs3_fields.nc": ("field", None), "mass_ratio_with_to_without_hairs": ("scalar", "1")}
    if config.contact_fractions:
        out["exudation_factor_contact"] = ("relation", "1")
    for name in LABELS:
        out.update({f"mass_into_soil_{name}": ("scalar", "ug"), f"distance_1_percent_{name}": ("scalar", "cm"),
                    f"contact_fraction_{name}": ("scalar", "1"), f"mass_balance_error_{name}": ("scalar", "1"),
                    f"root_surface_flux_{name}.nc": ("series", "ug cm-2 s-1")})
    return out


def run(config: Config, ctx) -> Products:
    """Generate or read the samples, diffuse with and without hairs; return the products.

    The case's side of the contract (:func:`rhizoscale.scenario.run_products`):
    ``config`` is this module's :class:`Config`, ``ctx`` a
    :class:`rhizoscale.outputs.RunContext`; returns :class:`rhizoscale.products.Products`.

    Parameters
    ----------
    config : Config
        The validated scenario.
    ctx : rhizoscale.outputs.RunContext
        Seed (of the generated sample), progress, warnings, checkpointed simulations.

    Returns
    -------
    rhizoscale.products.Products
        Fields (concentration images, time series and profiles with units), the mass
        into the soil [µg], the 1 % distance [cm] and contact fractions with and
        without hairs, figures and exports.

    Examples
    --------
    Even a small sample takes several seconds (the gallery example
    ``docs/gallery/plot_cs3_root_hairs.py`` runs one); the scenario that would run:

    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({"case": "cs3-root-hairs", "solver": "amg",
    ...                                "time": {"stop": "5 min"},
    ...                                "sample": {"shape": [8, 24, 24], "voxel_size": 4e-3}})
    >>> scenario.config.solver, scenario.config.sample.shape
    ('amg', (8, 24, 24))

    ``rhizoscale.scenario.run_products(scenario)`` then returns the products (e.g.
    ``products.value("mass_ratio_with_to_without_hairs")``).
    """
    from ..image.io import write_tiff, write_vtk_image
    from ..products import BoundarySeries, Products
    from ..simulation import Simulation
    from .exudates import ExudateDiffusionModel
    from ..memory import GIB, check_memory, record_estimate
    seed = ctx.seed
    memory = estimate_memory(config)
    check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    with ctx.task("building the sample", None):
        hairy, bald, generated = _load_images(config, seed)
    if memory.note:  # image files that did not tell their size
        memory = estimate_memory(config, n_voxels=max(hairy.labels.size, bald.labels.size))
        check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    results = {}
    for name, img in (("without_hairs", bald), ("with_hairs", hairy)):
        model = ExudateDiffusionModel(img, c_in=config.c_in, t_end=config.duration, growth=config.growth,
                                      solver=config.solver,
                                      memory_limit=None if config.memory_limit_gb is None
                                      else config.memory_limit_gb * GIB)
        sim = Simulation(model, stop_time=float(model.time_steps[-1]), time_steps=model.time_steps,
                         name=f"cs3-{name}")
        ctx.simulate(sim, description=f"diffusion {name.replace('_', ' ')}", progress_scale=1 / 60,
                     progress_units=" min")
        results[name] = model.result()
        del model, sim  # free this solver's arrays before the next one is built (peak memory)
    out = Products("cs3-root-hairs")
    record_estimate(out, memory)
    summary = {"units": {"mass": "ug", "distance": "cm", "time": "s", "concentration": "ug cm-3"}}
    for name, res in results.items():
        tr = res.transient
        d1 = res.distance_below(0.01)
        summary[name] = {
            "mass_into_soil": res.mass_into_soil,
            "mass_from_face_flux": float(tr.mass_from_flux[-1]),
            "mass_balance_relative_error": tr.mass_balance_error,
            "distance_1_percent_cm": d1,
            "contact_fraction": res.contact.get("contact_fraction"),
            "contact_fraction_with_hairs": res.contact.get("contact_fraction_with_hairs"),
            "epidermis_area_cm2": res.contact.get("epidermis_area"),
            "source_face_area_cm2": res.source_area,
            "volume_fractions": res.image.volume_fractions(),
            "steps": int(tr.times.size - 1), "cg_iterations": int(tr.iterations.sum()),
        }
        label = LABELS[name]
        out.add_scalar(f"mass_into_soil_{name}", res.mass_into_soil, "ug",
                       f"exudate mass in the soil after {config.duration:g} s, {label}")
        out.add_scalar(f"distance_1_percent_{name}", d1, "cm",
                       f"distance from the root surface where the mean concentration falls below 1 % of c_in, {label}")
        out.add_scalar(f"contact_fraction_{name}", res.contact.get("contact_fraction_with_hairs"), "1",
                       f"(root + hair)-soil contact area / epidermis area, {label}")
        out.add_scalar(f"mass_balance_error_{name}", tr.mass_balance_error, "1",
                       f"relative mass balance error (face flux integral vs mass in the soil), {label}")
    m0 = summary["without_hairs"]["mass_into_soil"]
    ratio = summary["with_hairs"]["mass_into_soil"] / m0 if m0 > 0 else None
    summary["mass_ratio_with_to_without_hairs"] = ratio
    roi_mm3 = float(bald.labels.size * np.prod(bald.voxel_size)) * 1e3
    summary["volumes_mm3"] = {k: v * roi_mm3 for k, v in bald.volume_fractions().items()}
    summary["volumes_mm3"]["roi"] = roi_mm3
    if generated is not None:   # the generator's calibration and hair statistics
        summary["sample"] = {k: (list(map(float, v)) if isinstance(v, tuple) and k != "shape" else
                                 float(v) if isinstance(v, (float, np.floating)) else v)
                             for k, v in generated.items()}
    out.add_scalar("mass_ratio_with_to_without_hairs", ratio, "1",
                   "exudate mass in the soil with hairs / without hairs")
    summary["paper"] = {"mass_without_hairs": PAPER_MASS_UG["without_hairs"],
                        "mass_with_hairs": PAPER_MASS_UG["with_hairs"],
                        "distance_1_percent_cm": PAPER_ONE_PERCENT_CM,
                        "contact_fraction": {"without_hairs": 0.061, "with_hairs": 0.177}}
    summary["paper_comparison"] = (
        "The generated sample is calibrated to the paper's measured geometry (volumes, epidermis area, "
        "contact fractions); the masses, their ratio and the distances are predictions. Over 5 seeds at "
        "20 um voxels the ratio is 6.4 +- 0.6 (paper 3) and the no-hair 1 % distance 0.55 mm (paper 0.29): "
        "hair contacts reaching fresh soil deliver 2-3x the root patches' mass per contact area, while the "
        "paper's deliver as much. The paper's 1 % distance with hairs lies outside a 1.8 x 1.3 mm ROI. "
        "See docs/cs3-root-hairs.md.")
    out.info["cs3"] = summary
    lit = config.literature_set()
    out.info["literature"] = {"set": lit.name, "sources": lit.sources, "chosen": lit.chosen()}
    out.info["seed"] = seed
    # time series and profiles
    ds = xr.Dataset()
    for name, res in results.items():
        tr = res.transient
        ds[f"mass_in_soil_{name}"] = xr.DataArray(tr.mass_in_domain, dims=f"time_{name}",
                                                  coords={f"time_{name}": (f"time_{name}", tr.times,
                                                                           {"units": "s"})},
                                                  attrs={"units": "ug"})
        ds[f"mass_from_flux_{name}"] = xr.DataArray(tr.mass_from_flux, dims=f"time_{name}", attrs={"units": "ug"})
        ds[f"flux_{name}"] = xr.DataArray(tr.flux, dims=f"time_{name}", attrs={"units": "ug s-1"})
        p = res.profile().rename({"distance": f"distance_{name}"})
        for v in p.data_vars:
            ds[f"profile_{v}_{name}"] = p[v]
    ds.attrs.update(case="cs3-root-hairs", c_in=config.c_in, diffusivity=config.diffusivity)
    out.add_field("cs3_timeseries_profiles.nc", ds)
    # downscaling: the exudate flux into the soil over the root-soil contact, per contact
    # area, versus time (a boundary condition for pore-scale models such as microbes)
    for name, res in results.items():
        tr = res.transient
        flux = xr.DataArray(tr.flux / res.source_area, dims="time",
                            coords={"time": ("time", tr.times, {"units": "s"})},
                            attrs={"units": "ug cm-2 s-1", "long_name": "exudate flux density into the "
                                   f"soil over the root-soil contact ({LABELS[name]})"})
        out.series[f"root_surface_flux_{name}.nc"] = BoundarySeries(
            flux.isel(time=slice(1, None)), "flux", f"root-soil contact, {LABELS[name]}")
    res0 = results["with_hairs"]
    vs = res0.image.voxel_size
    z, y, x = (res0.image.centers(d) for d in ("z", "y", "x"))
    fields = xr.Dataset({f"concentration_{n}": (("z", "y", "x"), r.concentration.astype(np.float32),
                                                {"units": "ug cm-3"}) for n, r in results.items()},
                        coords={"z": ("z", z, {"units": "cm"}), "y": ("y", y, {"units": "cm"}),
                                "x": ("x", x, {"units": "cm"})},
                        attrs={"coordinates": "voxel centres [cm] from the image origin (x, y, z)"})
    for n, r in results.items():
        phases = sorted(r.image.phases, key=lambda p: p.label)
        fields[f"labels_{n}"] = (("z", "y", "x"), r.image.labels.astype(np.uint8), {
            "flag_values": np.array([p.label for p in phases], np.uint8),
            "flag_meanings": " ".join(p.name for p in phases), "units": "1"})
    out.add_field("cs3_fields.nc", fields)
    if config.outputs.tiff:
        for n, r in results.items():
            out.exports[f"labels_{n}.tif"] = (lambda path, im=r.image: write_tiff(im, path))
            out.exports[f"concentration_{n}.tif"] = (
                lambda path, c=r.concentration: write_tiff(np.nan_to_num(c, nan=-1.0).astype(np.float32), path))
    if config.outputs.vtk:
        cells = {}
        for n, r in results.items():
            cells[f"labels_{n}"] = r.image.labels
            cells[f"concentration_{n}"] = np.nan_to_num(r.concentration, nan=-1.0)
        out.exports["cs3_fields.vti"] = lambda path: write_vtk_image(path, cells, vs)
    if config.outputs.figures:
        label = (f"generated sample, seed {seed}" if config.images is None else
                 f"{Path(config.images.with_hairs).name} / {Path(config.images.without_hairs).name}")
        out.figures.update(_figures(results, label))
    if config.contact_fractions:
        rel, table = _contact_relation(config, seed, results["without_hairs"], ctx)
        out.relations["exudation_factor_contact"] = rel
        out.info["cs3"]["exudation_factor_contact"] = table
    for name in ("without_hairs", "with_hairs"):
        s = summary[name]
        ctx.message(f"{name}: mass into soil {s['mass_into_soil']:.4f} ug, 1 % distance "
                    f"{s['distance_1_percent_cm'] * 1e4:.0f} um, contact {s['contact_fraction_with_hairs']:.3f}")
    return out
